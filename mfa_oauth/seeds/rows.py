"""Re-encrypt every stored seed of a device table: rotation, and the data migration.

Works on the raw column, so it serves both the live models (whose field seals and unseals by itself)
and the historical models of a migration (plain CharFields): values are read and compared through an
``ExpressionWrapper`` typed as a plain CharField, which skips the field's conversion. Each row is
written with a compare-and-set (``WHERE pk = … AND key = <the value read>``), so a device that a
verification saved meanwhile is never overwritten with an older value, and no table lock is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import CharField, ExpressionWrapper, F, Value
from django.db.models.lookups import Exact

from .keyring import Keyring, UnreadableSeed, is_sealed, keyring

# (app label, model name) of every device table whose ``key`` is a sealed seed.
SEED_MODELS = (("otp_totp", "TOTPDevice"), ("otp_hotp", "HOTPDevice"), ("mfa_oauth", "OATHTOTPDevice"))


@dataclass(frozen=True)
class Report:
    label: str
    sealed: int = 0  # clear seeds encrypted
    rotated: int = 0  # re-encrypted under the first key
    current: int = 0  # already under the first key
    unreadable: int = 0  # no configured key opens them (left as they are)
    invalid: int = 0  # clear values that are not a hex seed, e.g. empty (left as they are)
    raced: int = 0  # changed by another process between read and write (already re-sealed by its save)

    @property
    def pending(self) -> int:
        """Rows that are not yet sealed under the current key."""
        return self.sealed + self.rotated + self.unreadable + self.invalid


def _raw() -> ExpressionWrapper:
    return ExpressionWrapper(F("key"), output_field=CharField())


def _raw_rows(manager: Any, batch_size: int) -> Iterator[tuple[int, str]]:
    last = None
    while True:
        queryset = manager.order_by("pk")
        if last is not None:
            queryset = queryset.filter(pk__gt=last)
        batch = list(queryset.annotate(raw_key=_raw()).values_list("pk", "raw_key")[:batch_size])
        yield from batch
        if len(batch) < batch_size:
            return
        last = batch[-1][0]


def _write(manager: Any, pk: int, old: str, new: str) -> bool:
    """Compare-and-set of one raw value; False when the row changed meanwhile."""
    return bool(manager.filter(pk=pk).filter(Exact(_raw(), old)).update(key=Value(new, output_field=CharField())))


def reseal(
    model: type[models.Model],
    *,
    ring: Keyring | None = None,
    using: str = "default",
    dry_run: bool = False,
    batch_size: int = 500,
) -> Report:
    """Seal every row of ``model`` under the keyring's first key (MultiFernet.rotate's rule)."""
    ring = ring or keyring()
    label = model._meta.label_lower
    manager = model._base_manager.using(using)
    counts = dict.fromkeys(("sealed", "rotated", "current", "unreadable", "invalid", "raced"), 0)
    for pk, raw in _raw_rows(manager, batch_size):
        if is_sealed(raw):
            try:
                clear, index = ring.open(raw, label)
            except UnreadableSeed:
                counts["unreadable"] += 1
                continue
            kind = "current" if index == 0 else "rotated"
        else:
            clear, kind = raw, "sealed"
        try:
            new = ring.seal(clear, label)
        except ValueError:
            counts["invalid"] += 1
            continue
        if new == raw:  # AES-SIV is deterministic: the same key gives the same value
            counts["current"] += 1
        elif dry_run or _write(manager, pk, raw, new):
            counts[kind] += 1
        else:
            counts["raced"] += 1
    return Report(label, **counts)


def unseal_all(model: type[models.Model], *, ring: Keyring | None = None, using: str = "default") -> int:
    """Write every seed of ``model`` back in clear hex (the data migration's reverse); returns how
    many rows changed. Raises :class:`UnreadableSeed` if any row cannot be opened (the migration's
    transaction then leaves every row as it was)."""
    ring = ring or keyring()
    label = model._meta.label_lower
    manager = model._base_manager.using(using)
    changed = 0
    for pk, raw in _raw_rows(manager, 500):
        if is_sealed(raw):
            try:
                clear = ring.unseal(raw, label)
            except UnreadableSeed:
                raise UnreadableSeed(f"{label} #{pk}: no configured MFA_OAUTH['SEED_KEYS'] key opens it") from None
            changed += _write(manager, pk, raw, clear)
    return changed
