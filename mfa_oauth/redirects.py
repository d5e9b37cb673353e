"""``next`` handling shared by every step: only same-site paths survive (RFC 9700 §4.11.2)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, candidate: str | None, default: str | None = None) -> str:
    if (
        candidate
        and len(candidate) <= 4096
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    # Resolved only when needed: resolve_url first tries reverse() on the string (~1.5 ms per call).
    return resolve_url(default or settings.LOGIN_REDIRECT_URL)


def with_next(url: str, next_url: str, **extra: str) -> str:
    params = {"next": next_url, **{k: v for k, v in extra.items() if v not in (None, "")}}
    return f"{url}?{urlencode(params)}"


def see_other(url: str) -> HttpResponse:
    """A 303 See Other to ``url``: the browser follows with a GET (RFC 9110 §15.4.4), so a POST that
    carried a code is never replayed, as a 307 would (RFC 9700 §4.12)."""
    response = HttpResponse(status=303)
    response["Location"] = url
    return response
