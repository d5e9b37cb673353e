"""``require_authentication``: the view decorator for resource servers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ..dpop import resource as dpop_resource
from ..http import MFAHttpRequest
from .challenge import INSUFFICIENT, Requirement, StepUp, bearer_challenge, evaluate_requirements
from .tokens import TokenInfo, TokenValidator, ValidatorUnavailable, default_validator


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused: the status, the WWW-Authenticate value and the JSON body."""

    status: int
    www_authenticate: str | None
    error: str
    description: str
    step_up: StepUp | None = None
    # RFC 9449 §8: a fresh DPoP-Nonce sent with a use_dpop_nonce challenge.
    dpop_nonce: str | None = None

    def response(self) -> JsonResponse:
        response = JsonResponse({"error": self.error, "error_description": self.description}, status=self.status)
        if self.www_authenticate:
            response["WWW-Authenticate"] = self.www_authenticate
        if self.dpop_nonce:
            response["DPoP-Nonce"] = self.dpop_nonce
        response["Cache-Control"] = "no-store"
        return response


def requirements(acr: str | None, max_age: int | None, any_of: Iterable[Requirement] | None) -> tuple[Requirement, ...]:
    alternatives = tuple(any_of or ())
    if acr is not None or max_age is not None:
        alternatives = (Requirement(acr=acr, max_age=max_age), *alternatives)
    return alternatives


def check_request(
    authorization: str | None,
    alternatives: tuple[Requirement, ...],
    scopes: Iterable[str] = (),
    validator: TokenValidator | None = None,
    now: float | None = None,
    http_request: HttpRequest | None = None,
) -> tuple[TokenInfo | None, Refusal | None]:
    """Validate the ``Authorization`` header against the requirements (shared with the DRF permission).

    ``http_request`` lets a DPoP-bound token's proof be checked (RFC 9449 §7; mfa_oauth.dpop.resource):
    without it such a token is refused."""
    info, refusal = _check_request(authorization, alternatives, scopes, validator, now, http_request)
    return info, dpop_resource.as_dpop_challenge(info, refusal)


def _check_request(authorization, alternatives, scopes, validator, now, http_request):
    if not authorization:
        # RFC 6750 §3.1: a request without authentication gets no error code; RFC 9449 §7.1: the DPoP
        # scheme is offered next to Bearer.
        return None, Refusal(
            401, dpop_resource.offer_dpop(bearer_challenge()), "invalid_request", "A bearer access token is required"
        )
    dpop_scheme, token = dpop_resource.token_of(authorization)
    if token is None:
        return None, Refusal(
            400,
            bearer_challenge("invalid_request", "The Authorization header is not a bearer token"),
            "invalid_request",
            "The Authorization header is not a bearer token",
        )
    try:
        info = (validator or default_validator()).inspect(token)
    except ValidatorUnavailable:
        return None, Refusal(503, None, "temporarily_unavailable", "The token cannot be checked right now")
    if not info.active:
        description = "The access token is invalid, expired or revoked"
        return None, Refusal(401, bearer_challenge("invalid_token", description), "invalid_token", description)
    # RFC 9449 §7: a DPoP-bound token only with the DPoP scheme and a valid proof by its key.
    refused = dpop_resource.check(info, token, dpop_scheme, http_request)
    if refused is not None:
        return None, Refusal(401, refused.challenge, refused.error, refused.description, dpop_nonce=refused.nonce)
    missing = [s for s in scopes if s not in info.scope]
    if missing:
        description = "The access token lacks a required scope"
        return info, Refusal(
            403,
            bearer_challenge("insufficient_scope", description, scope=" ".join(scopes)),
            "insufficient_scope",
            description,
        )
    step_up = evaluate_requirements(info, alternatives, now=time.time() if now is None else now)
    if step_up is not None:
        return info, Refusal(401, step_up.header(), INSUFFICIENT, step_up.description, step_up)
    return info, None


def _resolve(validator: Any) -> TokenValidator | None:
    """An instance is used as is; a class or factory is called per request (fresh settings)."""
    if validator is None:
        return None
    if isinstance(validator, type) or not hasattr(validator, "inspect"):
        return validator()
    return validator


def require_authentication(
    acr: str | None = None,
    max_age: int | None = None,
    *,
    any_of: Iterable[Requirement] | None = None,
    scopes: Iterable[str] = (),
    validator: TokenValidator | Callable[[], TokenValidator] | None = None,
):
    """Decorator: the view runs only for a valid bearer token whose user authentication meets
    ``acr``/``max_age`` (or one of ``any_of``); otherwise the RFC 6750 / RFC 9470 answer.

    The view finds the token's :class:`~mfa_oauth.resource.TokenInfo` in ``request.token_info``.
    Requirements are checked when the decorator is applied (an unknown acr is a programming error).
    """
    alternatives = requirements(acr, max_age, any_of)
    scope_list = tuple(scopes)

    def decorate(view):
        @csrf_exempt  # bearer tokens, no cookies: CSRF does not apply
        @wraps(view)
        def wrapped(request: MFAHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            info, refusal = check_request(
                request.META.get("HTTP_AUTHORIZATION"),
                alternatives,
                scope_list,
                _resolve(validator),
                http_request=request,  # the DPoP proof (RFC 9449 §7)
            )
            if refusal is not None:
                return refusal.response()
            request.token_info = cast(TokenInfo, info)  # check_request: a TokenInfo whenever no refusal
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
