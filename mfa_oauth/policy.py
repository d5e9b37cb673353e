"""Decides what an authorization request needs from the browser session.

Inputs: the client's policy (or the site default), the user's enrolled factors, the session's
authentication context, and the request's ``prompt``, ``max_age``, ``acr_values`` and essential
``acr`` claim. Output: a :class:`Decision` that the authorization gate acts on.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from . import pending
from .adapter import get_adapter
from .conf import settings as mfa_settings
from .context import (
    LEVEL_MFA,
    LEVEL_PASSWORD,
    REMEMBERED_METHOD,
    AuthContext,
    Factor,
    add_factor,
    level_for_acr,
)
from .enrollment import methods_at
from .methods import confirmed_devices, method_of
from .models import ClientPolicy, MFAMode
from .oauth.claims import InvalidClaimsRequest, parse_claims_parameter


class Outcome(enum.Enum):
    SATISFIED = "satisfied"
    LOGIN = "login"  # password (and everything after it) again
    SECOND_FACTOR = "second_factor"
    ENROLL = "enroll"
    UNMET = "unmet"  # the user cannot reach what is asked
    INVALID = "invalid"  # a malformed parameter (e.g. max_age=abc)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    required_level: int = LEVEL_PASSWORD
    allowed_methods: tuple[str, ...] = ()
    reason: str = ""

    @property
    def satisfied(self) -> bool:
        return self.outcome is Outcome.SATISFIED


@dataclass(frozen=True)
class EffectivePolicy:
    mode: str
    min_level: int = LEVEL_PASSWORD
    max_mfa_age: int | None = None
    allowed_methods: tuple[str, ...] = ()

    @classmethod
    def for_application(cls, application: Any) -> EffectivePolicy:
        try:
            policy = application.mfa_policy
        except (ClientPolicy.DoesNotExist, AttributeError):
            policy = None
        default_mode = mfa_settings.DEFAULT_MFA_MODE
        if policy is None:
            return cls(mode=default_mode)
        return cls(
            mode=policy.mfa_mode or default_mode,
            min_level=level_for_acr(policy.min_acr) or LEVEL_PASSWORD,
            max_mfa_age=policy.max_mfa_age,
            allowed_methods=tuple(policy.allowed_methods or ()),
        )


@dataclass(frozen=True)
class AuthRequest:
    """The parts of an authorization request that concern authentication."""

    prompt: frozenset[str] = frozenset()
    max_age: int | None = None
    acr_values: tuple[str, ...] = ()
    essential_acr: tuple[str, ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_params(cls, params: Any) -> AuthRequest:
        errors = []
        prompt = frozenset(params.get("prompt", "").split())
        max_age = None
        raw_max_age = params.get("max_age")
        if raw_max_age not in (None, ""):
            # ASCII digits only: int() would also take "９" or " 5 ".
            if isinstance(raw_max_age, str) and raw_max_age.isascii() and raw_max_age.isdigit():
                # int() refuses strings of more than 4300 digits (a 500); beyond 18 digits (over 30
                # billion years) a max_age restricts nothing, so it is clamped.
                digits = raw_max_age.lstrip("0") or "0"
                max_age = int(digits) if len(digits) <= 18 else 10**18
            else:
                errors.append("max_age must be a non-negative integer")
        acr_values = tuple(params.get("acr_values", "").split())
        essential: tuple[str, ...] = ()
        raw_claims = params.get("claims")
        if raw_claims:
            essential, claim_error = _essential_acr(raw_claims)
            if claim_error:
                errors.append(claim_error)
        return cls(prompt=prompt, max_age=max_age, acr_values=acr_values, essential_acr=essential, errors=tuple(errors))

    def requested_level(self) -> int | None:
        """The lowest known level among ``acr_values`` (any of them satisfies the request)."""
        levels = [lvl for lvl in (level_for_acr(v) for v in self.acr_values) if lvl is not None]
        return min(levels) if levels else None

    def essential_level(self) -> int | None:
        if not self.essential_acr:
            return None
        levels = [lvl for lvl in (level_for_acr(v) for v in self.essential_acr) if lvl is not None]
        # An essential acr with only unknown values can never be met.
        return min(levels) if levels else 99


def _essential_acr(raw_claims: Any) -> tuple[tuple[str, ...], str]:
    """The essential ``acr`` values of a claims parameter, and the reason it is malformed (or "").

    The whole parameter is validated here (OIDC Core §5.5, :func:`mfa_oauth.oauth.claims.parse_claims_parameter`),
    so a malformed one is refused with ``invalid_request`` before anything is issued."""
    try:
        claims = parse_claims_parameter(raw_claims)
    except InvalidClaimsRequest as error:
        return (), str(error)
    for section in ("id_token", "userinfo"):
        acr = (claims.get(section) or {}).get("acr")
        if isinstance(acr, dict) and acr.get("essential"):
            values = acr.get("values") or ([acr["value"]] if "value" in acr else [])
            return tuple(str(v) for v in values), ""
    return (), ""


def evaluate(
    *,
    user: Any,
    context: AuthContext | None,
    policy: EffectivePolicy,
    auth_request: AuthRequest,
    now: int | None = None,
    devices: list[Any] | None = None,
) -> Decision:
    """What the request needs from this session, in four named steps: the request and the login
    (:func:`_login_decision`), the level required (:func:`required_level`), whether the session meets
    it (:func:`_satisfied`), and otherwise the way there (:func:`_way_to_level`)."""
    now = int(now or time.time())
    early = _login_decision(user, context, auth_request, now)
    if early is not None or context is None:
        return early or Decision(Outcome.LOGIN, reason="not logged in")
    factors = _UserDevices(user, devices, policy.allowed_methods)
    required = required_level(policy, context, auth_request, factors)
    if _satisfied(policy, context, required, now):
        return Decision(Outcome.SATISFIED, required_level=required, allowed_methods=policy.allowed_methods)
    return _way_to_level(context, required, factors, now)


def _login_decision(user: Any, context: AuthContext | None, auth_request: AuthRequest, now: int) -> Decision | None:
    """INVALID for a malformed request, LOGIN without a login or past ``max_age``; None: go on."""
    if auth_request.errors:
        return Decision(Outcome.INVALID, reason="; ".join(auth_request.errors))
    if user is None or not user.is_authenticated or context is None:
        return Decision(Outcome.LOGIN, reason="not logged in")
    if auth_request.max_age is not None and now - context.auth_time > auth_request.max_age:
        return Decision(Outcome.LOGIN, reason="authentication older than max_age")
    return None


class _UserDevices:
    """The user's confirmed devices, loaded only when the answer depends on them: the hot path (a
    session that already passed its second factor) costs no device queries."""

    def __init__(self, user: Any, devices: list[Any] | None, allowed: tuple[str, ...]) -> None:
        self.user = user
        self.allowed = allowed
        self._enrolled = None if devices is None else list(devices)

    def enrolled(self) -> list[Any]:
        if self._enrolled is None:
            self._enrolled = confirmed_devices(self.user)
        return self._enrolled

    def usable(self) -> list[Any]:
        return [d for d in self.enrolled() if not self.allowed or method_of(d).name in self.allowed]


def required_level(
    policy: EffectivePolicy, context: AuthContext, auth_request: AuthRequest, factors: _UserDevices
) -> int:
    """The level the client's policy and the request's ``acr_values``/essential ``acr`` demand."""
    required = policy.min_level
    if policy.mode == MFAMode.ALWAYS:
        required = max(required, LEVEL_MFA)
    elif (
        policy.mode == MFAMode.WHEN_ENROLLED
        and required < LEVEL_MFA
        and (context.level >= LEVEL_MFA or factors.enrolled())
    ):
        # Any factor of the user, allowed here or not (docs/security.md, "Allowed methods"): a user
        # whose factors this client does not accept passes an allowed one, enrolls one, or is
        # refused, never waved through on the password.
        required = LEVEL_MFA
    asked = [level for level in (auth_request.requested_level(), auth_request.essential_level()) if level is not None]
    return max([required, *asked])


def _satisfied(policy: EffectivePolicy, context: AuthContext, required: int, now: int) -> bool:
    """The session reaches ``required``, recently enough for ``max_mfa_age``, with allowed methods."""
    if required <= LEVEL_PASSWORD:
        return True
    fresh_enough = True
    if policy.max_mfa_age is not None and required >= LEVEL_MFA:
        mfa_time = context.mfa_time
        fresh_enough = mfa_time is not None and now - mfa_time <= policy.max_mfa_age
    return context.level >= required and fresh_enough and _methods_allowed(context, policy.allowed_methods, required)


def _way_to_level(context: AuthContext, required: int, factors: _UserDevices, now: int) -> Decision:
    """For a session below ``required``: the challenge, enrollment, a new login, or UNMET."""
    allowed = factors.allowed
    if pending.expired(context, now):
        # The half-authenticated state expires (docs/security.md, "The half-authenticated state"):
        # start again from the password.
        return Decision(Outcome.LOGIN, required_level=required, reason="second factor not given in time")
    usable = factors.usable()
    if any(method_of(d).level >= required for d in usable):
        return Decision(Outcome.SECOND_FACTOR, required_level=required, allowed_methods=allowed)
    if not usable and required == LEVEL_MFA and _enrollable(allowed):
        return Decision(Outcome.ENROLL, required_level=required, allowed_methods=allowed)
    return Decision(
        Outcome.UNMET,
        required_level=required,
        allowed_methods=allowed,
        reason="the user has no second factor this client accepts that reaches the requested level",
    )


def _enrollable(allowed: tuple[str, ...]) -> bool:
    """Whether the enrollment step (ENROLL_URL) can add a factor the client accepts: sending the
    user to enroll a method the client then refuses would only loop back to the gate."""
    return not allowed or not methods_at(mfa_settings.ENROLL_URL).isdisjoint(allowed)


def _methods_allowed(context: AuthContext, allowed: tuple[str, ...], required: int) -> bool:
    if not allowed or required <= LEVEL_PASSWORD:
        return True
    return any(f.method in allowed and f.level >= required for f in context.second_factors)


# --- second-factor substitutes ---------------------------------------------------------------
# The adapter (mfa_oauth.trust's "remember this browser" by default) may satisfy a SECOND_FACTOR
# decision without a challenge: DefaultMFAOAuthAdapter.substitute_second_factor returns a Factor to
# record in the session, or None. The gate re-evaluates afterwards, so a substitute can never lower
# what the policy demands.
def substitute_second_factor(request: Any, **kwargs: Any) -> Factor | None:
    return get_adapter().substitute_second_factor(request, **kwargs)


def gate_decision(
    request: HttpRequest,
    *,
    application: Any,
    context: AuthContext | None,
    policy: EffectivePolicy,
    auth_request: AuthRequest,
    allow_substitute: bool = True,
) -> tuple[Decision, AuthContext | None]:
    """``evaluate`` plus the substitutes: the decision and the context it was made on.

    Factors recalled from a trusted browser never carry over from an earlier request (another
    client may not allow them); a substitute must vouch again for this request, and only then is
    its factor part of the context the decision (and the authorization code) are based on."""
    session_context = context
    if context is not None:
        context = context.without_remembered()
    user = request.user
    decision = evaluate(user=user, context=context, policy=policy, auth_request=auth_request)
    if decision.outcome is Outcome.SECOND_FACTOR and allow_substitute and context is not None:
        factor = substitute_second_factor(
            request, application=application, policy=policy, auth_request=auth_request, decision=decision
        )
        if factor is not None:
            if session_context is not None and not any(f.method == REMEMBERED_METHOD for f in session_context.factors):
                add_factor(request, factor)  # new session id: the upgrade is never fixated
            context = context.with_factor(factor)
            decision = evaluate(user=user, context=context, policy=policy, auth_request=auth_request)
    return decision, context
