"""Bulk enrollment from a CSV file, for migrations from another system.

Columns (header row required, any order, case-insensitive; unknown columns are ignored):
  username      required: an existing user
  phone         an SMS number in E.164 (+447700900123), verified the first time it is used
  totp_secret   an authenticator-app seed (base32 or hex) the user already has
  hotp_secret   a hardware token's seed (base32 or hex); hotp_counter, hotp_digits optional
  name          a name for the new factor(s)

The file is streamed and written in batches (one transaction each), so 100k rows need neither
the file nor the result in memory. Every row is judged on its own: a bad row is refused with its
line number and the reason, and the import goes on. A row is enrolled completely or not at all.
Re-running the same file skips what is already enrolled.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_hotp.models import HOTPDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from ... import services

FACTOR_COLUMNS = ("phone", "totp_secret", "hotp_secret")
KNOWN_COLUMNS = ("username", *FACTOR_COLUMNS, "hotp_counter", "hotp_digits", "name")
SHOWN_REFUSALS = 20


class Refused(Exception):
    pass


@dataclass
class Row:
    line: int
    username: str
    values: dict[str, str]
    plan: dict[str, Any] = field(default_factory=dict)


class Command(BaseCommand):
    help = "Enroll second factors for many existing users from a CSV file (see the module docstring)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("csv_path", metavar="users.csv")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument("--encoding", default="utf-8-sig", help="the file's text encoding (default UTF-8)")
        parser.add_argument("--report", metavar="PATH", help="write every refused row (line, username, reason) here")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--no-notify", action="store_true", help="do not email users about their new factor")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(
        self, *args: Any, csv_path: str, dry_run: bool, encoding: str, report: str | None, batch_size: int, **o: Any
    ) -> None:
        self.notify = not o["no_notify"]
        self.dry_run = dry_run
        self.counts: Counter = Counter()
        self.shown = 0
        try:
            total = _count_lines(csv_path)
            raw = open(csv_path, "rb")  # noqa: SIM115  (closed below)
        except OSError as error:
            raise CommandError(f"Cannot read {csv_path}: {error.strerror or error}") from error
        try:
            text = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")
        except LookupError:
            raw.close()
            raise CommandError(f"Unknown encoding {encoding!r}.") from None
        self.report_file = open(report, "w", newline="", encoding="utf-8") if report else None  # noqa: SIM115
        self.report_writer = csv.writer(self.report_file) if self.report_file else None
        if self.report_writer:
            self.report_writer.writerow(["line", "username", "reason"])
        self.progress = _Progress(None if o["no_progress"] else self.stderr, max(total - 1, 1))
        try:
            with raw, text:
                reader = csv.reader(text)
                columns = self._header(reader, encoding)
                batch: list[Row] = []
                for row in self._rows(reader, columns, encoding):
                    batch.append(row)
                    if len(batch) >= max(1, batch_size):
                        self._batch(batch)
                        batch = []
                if batch:
                    self._batch(batch)
        finally:
            self.progress.finish()
            if self.report_file:
                self.report_file.close()
        self._summary(report)

    # --- reading ------------------------------------------------------------------------------

    def _header(self, reader: Any, encoding: str) -> list[str]:
        try:
            header = next(reader)
        except StopIteration:
            raise CommandError("The file is empty: it needs a header row, e.g. username,phone,totp_secret.") from None
        except csv.Error as error:
            raise CommandError(f"The header row cannot be read: {error}") from None
        columns = [c.strip().lower() for c in header]
        if any(_undecodable(c) for c in columns):
            raise CommandError(f"The header is not valid {encoding} text. Pass --encoding with the file's encoding.")
        if "username" not in columns:
            raise CommandError(f"No 'username' column. Found: {', '.join(columns) or 'nothing'}.")
        if not any(c in columns for c in FACTOR_COLUMNS):
            raise CommandError(f"No factor column: add at least one of {', '.join(FACTOR_COLUMNS)}.")
        ignored = [c for c in columns if c not in KNOWN_COLUMNS]
        if ignored:
            self.stdout.write(f"Ignoring unknown columns: {', '.join(ignored)}")
        return columns

    def _rows(self, reader: Any, columns: list[str], encoding: str) -> Iterator[Row]:
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                self._refuse(line, "", f"unreadable CSV: {error}")
                continue
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                self.progress.step()
                continue  # blank line
            values = {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(columns)}
            username = values.get("username", "")
            if len(cells) > len(columns):
                self._refuse(line, username, f"{len(cells)} fields but the header has {len(columns)}")
            elif _undecodable("".join(cells)):
                self._refuse(line, username, f"not valid {encoding} text (pass --encoding)")
            elif not username:
                self._refuse(line, "", "no username")
            elif not any(values.get(c) for c in FACTOR_COLUMNS):
                self._refuse(line, username, "nothing to enroll: phone, totp_secret and hotp_secret are empty")
            else:
                yield Row(line, username, values)

    # --- one batch ----------------------------------------------------------------------------

    def _batch(self, batch: list[Row]) -> None:
        User = get_user_model()
        users = {
            getattr(u, User.USERNAME_FIELD): u
            for u in User._default_manager.filter(**{f"{User.USERNAME_FIELD}__in": {r.username for r in batch}})
        }
        totp_keys = set(TOTPDevice.objects.filter(user__in=users.values()).values_list("user_id", "key"))
        hotp_keys = set(HOTPDevice.objects.filter(user__in=users.values()).values_list("user_id", "key"))
        sms_numbers: set = set()
        planned = []
        for row in batch:
            user = users.get(row.username)
            try:
                if user is None:
                    raise Refused("unknown user")
                row.plan = self._plan(row, user, totp_keys, hotp_keys, sms_numbers)
            except Refused as refusal:
                self._refuse(row.line, row.username, str(refusal))
                continue
            if not row.plan:
                self.counts["skipped"] += 1
                self.progress.step()
                continue
            planned.append((row, user))
        if self.dry_run:
            for row, _user in planned:
                self.counts["enrolled"] += 1
                self.counts.update(f"would_{k}" for k in row.plan)
                self.progress.step()
            return
        with transaction.atomic():
            for row, user in planned:
                try:
                    with transaction.atomic():  # the row's factors are created together or not at all
                        self._enroll(row, user)
                except (Refused, services.EnrollmentError) as error:
                    self._refuse(row.line, row.username, getattr(error, "user_message", None) or str(error))
                    continue
                self.counts["enrolled"] += 1
                self.counts.update(row.plan.keys())
                self.progress.step()

    def _plan(self, row: Row, user: Any, totp_keys: set, hotp_keys: set, sms_numbers: set) -> dict[str, object]:
        """Validate a row without writing; returns what to create (empty: all already there)."""
        plan: dict[str, object] = {}
        values = row.values
        if values.get("phone"):
            # The SMS factor's own rules (mobile, allowed country, not another account's), so a
            # dry run refuses exactly what the real run would.
            try:
                number = services.check_sms_number(user, values["phone"])
            except services.EnrollmentError as error:
                if not services.sms_installed():
                    raise Refused("SMS is not enabled on this site") from None
                raise Refused(f"bad number {values['phone']!r}: {error.user_message}") from None
            if number is not None and (user.pk, number) not in sms_numbers:
                plan["sms"] = number
                sms_numbers.add((user.pk, number))  # the same row twice in one file enrolls once
        if values.get("totp_secret"):
            key = _secret(values["totp_secret"], "totp_secret")
            if (user.pk, key) not in totp_keys:
                plan["totp"] = key
                totp_keys.add((user.pk, key))  # the same row twice in one file enrolls once
        if values.get("hotp_secret"):
            key = _secret(values["hotp_secret"], "hotp_secret")
            counter = _int(values.get("hotp_counter") or "0", "hotp_counter", 0, 10**12)
            digits = _int(values.get("hotp_digits") or "6", "hotp_digits", 6, 8)
            if digits not in (6, 8):
                raise Refused("hotp_digits must be 6 or 8")
            if (user.pk, key) not in hotp_keys:
                plan["hotp"] = (key, counter, digits)
                hotp_keys.add((user.pk, key))
        return plan

    def _enroll(self, row: Row, user: Any) -> None:
        name = row.values.get("name", "")[:64]
        if "totp" in row.plan:
            device = TOTPDevice.objects.create(
                user=user, name=name or "Authenticator app", key=row.plan["totp"], confirmed=True
            )
            services._added(device, request=None, actor=None, source="import", notify=self.notify)
        if "hotp" in row.plan:
            key, counter, digits = row.plan["hotp"]
            token = HOTPDevice.objects.create(
                user=user, name=name or "Hardware token", key=key, counter=counter, digits=digits, confirmed=True
            )
            services._added(token, request=None, actor=None, source="import", notify=self.notify)
        if "sms" in row.plan:
            services.enroll_sms(user, row.plan["sms"], name=name, notify=self.notify)

    # --- output -------------------------------------------------------------------------------

    def _refuse(self, line: int, username: str, reason: str) -> None:
        username = _printable(username)
        self.counts["refused"] += 1
        self.progress.step()
        if self.report_writer:
            self.report_writer.writerow([line, username, reason])
        if self.shown < SHOWN_REFUSALS:
            self.shown += 1
            self.progress.clear()
            self.stdout.write(f"line {line}: refused {username or '(no username)'}: {reason}")

    def _summary(self, report: str | None) -> None:
        c = self.counts
        if self.dry_run:
            kinds = ", ".join(f"{c[f'would_{k}']} {k}" for k in ("totp", "hotp", "sms") if c[f"would_{k}"])
            self.stdout.write(
                f"Dry run, nothing written: {c['enrolled']} row(s) would be enrolled ({kinds or 'none'}),"
            )
        else:
            kinds = ", ".join(f"{c[k]} {k}" for k in ("totp", "hotp", "sms") if c[k])
            self.stdout.write(f"Enrolled {c['enrolled']} row(s) ({kinds or 'none'}),")
        self.stdout.write(f"{c['skipped']} already enrolled, {c['refused']} refused.")
        if c["refused"] > SHOWN_REFUSALS and not report:
            self.stdout.write(f"Only the first {SHOWN_REFUSALS} refusals are shown; --report PATH lists them all.")
        elif report:
            self.stdout.write(f"Refused rows: {report}")


def _count_lines(path: str) -> int:
    lines = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            lines += chunk.count(b"\n")
    return lines


_SURROGATE = re.compile("[\udc80-\udcff]")


def _undecodable(text: str) -> bool:
    """Bytes the encoding could not decode survive as lone surrogates (errors="surrogateescape")."""
    return _SURROGATE.search(text) is not None


def _printable(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _secret(raw: str, column: str) -> str:
    try:
        return services.parse_secret(raw).hex()
    except services.EnrollmentError as error:
        raise Refused(f"{column}: {error.user_message}") from None


def _int(raw: str, column: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise Refused(f"{column} must be a whole number") from None
    if not low <= value <= high:
        raise Refused(f"{column} must be between {low} and {high}")
    return value


class _Progress:
    """A one-line progress bar on stderr, redrawn at most every 1%."""

    def __init__(self, stream: Any, total: int) -> None:
        self.stream, self.total, self.done, self.drawn = stream, total, 0, -1

    def step(self) -> None:
        self.done += 1
        percent = min(100, self.done * 100 // self.total)
        if self.stream is not None and percent != self.drawn:
            self.drawn = percent
            bar = "#" * (percent // 4)
            self.stream.write(f"\r[{bar:<25}] {percent:3d}% {self.done}/{self.total} rows", ending="")
            self.stream.flush()

    def clear(self) -> None:
        if self.stream is not None and self.drawn >= 0 and getattr(sys.stderr, "isatty", lambda: False)():
            self.stream.write("\r" + " " * 60 + "\r", ending="")

    def finish(self) -> None:
        if self.stream is not None and self.drawn >= 0:
            self.stream.write("")
