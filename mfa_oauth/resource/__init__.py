"""Step-up helpers for resource servers (RFC 9470, OAuth 2.0 Step Up Authentication Challenge).

A view states how strong and how recent the token's user authentication must be::

    @require_authentication(acr=ACR_MFA)
    def balance(request): ...

    @require_authentication(any_of=[Requirement(acr="phr"), Requirement(acr=ACR_MFA, max_age=300)])
    def transfer(request): ...

The bearer token is validated locally through DOT's tables, or remotely through the RFC 7662
introspection endpoint (``MFA_OAUTH["RESOURCE_SERVER_INTROSPECTION_URL"]``), and when the
authentication falls short the answer is RFC 9470 §3's ``401`` with
``WWW-Authenticate: Bearer error="insufficient_user_authentication", ...``. A DRF permission with
the same semantics lives in :mod:`mfa_oauth.resource.drf` (DRF stays optional).
"""

from .challenge import (
    Requirement,
    StepUp,
    bearer_challenge,
    evaluate_requirements,
    parse_www_authenticate,
    step_up_challenge,
)
from .decorators import require_authentication
from .tokens import IntrospectionValidator, LocalValidator, TokenInfo, TokenValidator, default_validator

__all__ = [
    "IntrospectionValidator",
    "LocalValidator",
    "Requirement",
    "StepUp",
    "TokenInfo",
    "TokenValidator",
    "bearer_challenge",
    "default_validator",
    "evaluate_requirements",
    "parse_www_authenticate",
    "require_authentication",
    "step_up_challenge",
]
