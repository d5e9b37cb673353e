"""What a browser session has proved, and when: the authentication context.

The context is recorded in the session at each factor, copied onto the authorization code when
one is issued and from there onto the tokens, so that ``acr``/``amr``/``auth_time`` always
describe the authentication that actually happened (never ``user.last_login``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

SESSION_KEY = "mfa_oauth.context"

# Authentication Context Class References, weakest first. The index is the level.
ACR_PASSWORD = "urn:mfa_oauth:acr:pwd"
ACR_MFA = "urn:mfa_oauth:acr:mfa"
ACR_PHISHING_RESISTANT = "phr"  # OpenID EAP ACR Values 1.0
ACR_PHISHING_RESISTANT_HARDWARE = "phrh"  # OpenID EAP ACR Values 1.0
ACR_LEVELS: tuple[str, ...] = (ACR_PASSWORD, ACR_MFA, ACR_PHISHING_RESISTANT, ACR_PHISHING_RESISTANT_HARDWARE)

LEVEL_PASSWORD = 0
LEVEL_MFA = 1
LEVEL_PHISHING_RESISTANT = 2
LEVEL_PHISHING_RESISTANT_HARDWARE = 3

# The method of a factor that was not presented now but recalled from a trusted browser
# (mfa_oauth.trust): its ``at`` is the time the real second factor was verified.
REMEMBERED_METHOD = "remembered"


def acr_for_level(level: int) -> str:
    return ACR_LEVELS[max(0, min(level, len(ACR_LEVELS) - 1))]


def level_for_acr(acr: str) -> int | None:
    try:
        return ACR_LEVELS.index(acr)
    except ValueError:
        return None


@dataclass(frozen=True)
class Factor:
    """One factor a user presented: what it was, the amr values it earns, and the level it reaches."""

    method: str  # "pwd", "totp", "hotp", "sms", "backup_code", "webauthn", "passkey"
    amr: tuple[str, ...]
    level: int
    at: int  # unix time
    device: str = ""  # django-otp persistent id, empty for the password
    # A factor that is multi-factor on its own (a passkey with user verification).
    multi_factor: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "amr": list(self.amr),
            "level": self.level,
            "at": self.at,
            "device": self.device,
            "multi_factor": self.multi_factor,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Factor:
        return cls(
            method=str(data["method"]),
            amr=tuple(data.get("amr", ())),
            level=int(data.get("level", 0)),
            at=int(data["at"]),
            device=str(data.get("device", "")),
            multi_factor=bool(data.get("multi_factor", False)),
        )


def password_factor(at: int | None = None) -> Factor:
    return Factor(method="pwd", amr=("pwd",), level=LEVEL_PASSWORD, at=at or int(time.time()))


@dataclass(frozen=True)
class AuthContext:
    user_id: Any
    factors: tuple[Factor, ...] = field(default_factory=tuple)

    @property
    def auth_time(self) -> int:
        """Time of the last active authentication step, second factor included (OIDC Core §2).

        A second factor recalled from a trusted browser was not presented now: while it is the only
        second factor, the authentication is dated by it, never by the fresh password, so a
        ``max_age`` check or a resource server's freshness rule cannot be satisfied by a remembered
        factor (auth_time stays honest)."""
        remembered = [f.at for f in self.factors if f.method == REMEMBERED_METHOD]
        if remembered and all(f.method == REMEMBERED_METHOD for f in self.second_factors):
            return min(remembered)
        return max(f.at for f in self.factors if f.method != REMEMBERED_METHOD)

    @property
    def started_at(self) -> int:
        return min(f.at for f in self.factors)

    @property
    def second_factors(self) -> tuple[Factor, ...]:
        return tuple(f for f in self.factors if f.method != "pwd")

    @property
    def mfa_time(self) -> int | None:
        """Time of the last second factor proved in this session, or None.

        A factor recalled from a trusted browser was proved in another session: it never dates
        this one's second factor, so it can neither complete a sign-in nor make it fresh
        (docs/security.md, "Freshness")."""
        proved = [f.at for f in self.second_factors if f.method != REMEMBERED_METHOD]
        return max(proved) if proved else None

    @property
    def is_multi_factor(self) -> bool:
        has_password = any(f.method == "pwd" for f in self.factors)
        return bool(self.second_factors) and (has_password or any(f.multi_factor for f in self.factors))

    @property
    def level(self) -> int:
        if not self.is_multi_factor:
            return LEVEL_PASSWORD
        return max(f.level for f in self.second_factors)

    @property
    def acr(self) -> str:
        return acr_for_level(self.level)

    @property
    def amr(self) -> list[str]:
        values: list[str] = []
        for factor in self.factors:
            for value in factor.amr:
                if value not in values:
                    values.append(value)
        if self.is_multi_factor and "mfa" not in values:
            values.append("mfa")
        return values

    def without_remembered(self) -> AuthContext:
        """The context without factors recalled from a trusted browser: those count only in a
        request whose client and parameters allow them (mfa_oauth.trust re-vouches each time)."""
        return AuthContext(
            user_id=self.user_id, factors=tuple(f for f in self.factors if f.method != REMEMBERED_METHOD)
        )

    def with_factor(self, factor: Factor) -> AuthContext:
        return AuthContext(user_id=self.user_id, factors=(*self.factors, factor))

    def to_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "factors": [f.to_dict() for f in self.factors]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuthContext:
        return cls(user_id=data["user_id"], factors=tuple(Factor.from_dict(f) for f in data["factors"]))

    def claims(self) -> dict[str, Any]:
        return {"acr": self.acr, "amr": self.amr, "auth_time": self.auth_time}


def get_context(request: HttpRequest) -> AuthContext | None:
    """The context of the logged-in user of this request, or None."""
    data = request.session.get(SESSION_KEY)
    user = getattr(request, "user", None)
    if not data or user is None or not user.is_authenticated:
        return None
    try:
        context = AuthContext.from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None
    if str(context.user_id) != str(user.pk) or not context.factors:
        return None
    return context


def start_context(request: HttpRequest, user: Any) -> AuthContext:
    context = AuthContext(user_id=user.pk, factors=(password_factor(),))
    request.session[SESSION_KEY] = context.to_dict()
    return context


def add_factor(request: HttpRequest, factor: Factor) -> AuthContext:
    context = get_context(request)
    if context is None:
        context = AuthContext(user_id=request.user.pk, factors=())
    context = context.with_factor(factor)
    request.session[SESSION_KEY] = context.to_dict()
    # A new session id after each factor (ASVS 7.2.4): a fixated id never carries the upgrade. Written
    # before the rotation, so the new row is stored once, complete.
    request.session.cycle_key()
    return context
