"""The attributes mfa_oauth puts on a Django request during one request, declared for type checkers.

Each is set by one step and read by a later one of the same request; none outlives it. A function that
sets or reads one annotates its request with :class:`MFAHttpRequest` (django-stubs' pattern for
attributes that middleware or decorators add, as ``request.user`` is added by AuthenticationMiddleware).
At run time the object is Django's own ``HttpRequest``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from .context import AuthContext, Factor
    from .resource.tokens import TokenInfo


class MFAHttpRequest(HttpRequest):
    # A passkey sign-in: the factor that stands in for the password (webauthn.views -> receivers).
    mfa_oauth_login_factor: Factor
    # The device flow: the context the gate decided on, and that it said yes (device.views).
    mfa_oauth_context: AuthContext | None
    mfa_oauth_gate_approved: bool
    # A protected resource: the bearer token's authentication (resource.decorators, resource.drf).
    token_info: TokenInfo
