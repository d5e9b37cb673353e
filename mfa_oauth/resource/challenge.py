"""Requirements on a token's user authentication and the RFC 9470 challenge when they are not met."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from ..context import ACR_LEVELS, level_for_acr
from .tokens import TokenInfo

INSUFFICIENT = "insufficient_user_authentication"


@dataclass(frozen=True)
class Requirement:
    """At least ``acr`` (by the ordered levels of ``mfa_oauth.context.ACR_LEVELS``) and/or an
    authentication no older than ``max_age`` seconds."""

    acr: str | None = None
    max_age: int | None = None

    def __post_init__(self) -> None:
        if self.acr is not None and level_for_acr(self.acr) is None:
            raise ValueError(f"unknown acr {self.acr!r}; use one of {', '.join(ACR_LEVELS)}")
        if self.max_age is not None and (not isinstance(self.max_age, int) or self.max_age < 0):
            raise ValueError("max_age must be a non-negative integer")

    def met_by(self, info: TokenInfo, now: float) -> bool:
        if self.acr is not None:
            # A missing or unknown acr counts as the weakest authentication (ASVS 6.8.4).
            have, needed = level_for_acr(info.acr or ""), level_for_acr(self.acr)
            if have is None or needed is None or have < needed:  # needed: known, see requirements()
                return False
        if self.max_age is not None:
            if info.auth_time is None or now - info.auth_time > self.max_age:
                return False
        return True


@dataclass(frozen=True)
class StepUp:
    """What the client must ask the authorization server for (RFC 9470 §3)."""

    acr_values: tuple[str, ...]
    max_age: int | None
    description: str

    def header(self) -> str:
        return step_up_challenge(self.acr_values, self.max_age, self.description)


def evaluate_requirements(info: TokenInfo, any_of: Iterable[Requirement], now: float | None = None) -> StepUp | None:
    """None when one of the alternatives is met, else the step-up that meets them.

    With several unmet alternatives the challenge lists every acr (in the order given: the
    client's preference) and the strictest max_age, so whatever the user reaches at that level
    within that age satisfies at least one alternative."""
    alternatives = list(any_of)
    now = time.time() if now is None else now
    if not alternatives or any(r.met_by(info, now) for r in alternatives):
        return None
    acr_values: list[str] = []
    for requirement in alternatives:
        if requirement.acr and requirement.acr not in acr_values:
            acr_values.append(requirement.acr)
    ages = [r.max_age for r in alternatives if r.max_age is not None]
    max_age = min(ages) if ages else None
    weak = any(r.acr is not None and not Requirement(acr=r.acr).met_by(info, now) for r in alternatives)
    old = any(r.max_age is not None and not Requirement(max_age=r.max_age).met_by(info, now) for r in alternatives)
    if weak and old:
        description = "A stronger or more recent authentication is required"
    elif old:
        description = "More recent authentication is required"
    else:
        description = "A different authentication level is required"
    return StepUp(tuple(acr_values), max_age, description)


def _quoted(value: str) -> str:
    # RFC 9110 §5.6.4 quoted-string: backslash-escape quote and backslash; drop control characters.
    cleaned = "".join(ch for ch in value if ch >= " " and ch != "\x7f")
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bearer_challenge(error: str | None = None, description: str = "", **params: str) -> str:
    """An RFC 6750 §3 ``WWW-Authenticate: Bearer`` value."""
    parts = []
    if error:
        parts.append(f"error={_quoted(error)}")
        if description:
            parts.append(f"error_description={_quoted(description)}")
    parts.extend(f"{name}={_quoted(value)}" for name, value in params.items() if value)
    return "Bearer " + ", ".join(parts) if parts else "Bearer"


def step_up_challenge(acr_values: Iterable[str], max_age: int | None, description: str) -> str:
    """RFC 9470 §3: ``Bearer error="insufficient_user_authentication", error_description="...",
    acr_values="...", max_age="..."`` (quoted as in the RFC's own examples)."""
    params = {"acr_values": " ".join(acr_values)}
    if max_age is not None:
        params["max_age"] = str(int(max_age))
    return bearer_challenge(INSUFFICIENT, description, **params)


_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_www_authenticate(value: str) -> dict[str, str]:
    """The auth-params of the ``Bearer`` challenge that opens the header (the client side of RFC 9470).

    They end where a next challenge starts (RFC 9110 §11.6.1), as in ``Bearer, DPoP algs="…"``."""
    if not value or not value.strip().lower().startswith("bearer"):
        return {}
    params: dict[str, str] = {}
    rest = value.strip()[6:]
    end = 0
    for match in _PARAM.finditer(rest):
        if rest[end : match.start()].strip(" ,\t"):
            break  # a scheme name before this param: the next challenge
        end = match.end()
        name, quoted, token = match.groups()
        params[name.lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted or not token else token
    return params
