"""OAuth endpoints refuse a parameter carrying a NUL character before any database lookup.

PostgreSQL text columns cannot hold NUL (0x00) and psycopg raises ``DataError`` for a query
parameter containing one, so DOT's lookups by ``client_id``, ``code``, ``refresh_token`` or
``token`` answered such a request with a 500 on PostgreSQL (SQLite merely finds nothing). No OAuth
parameter can legitimately contain NUL (RFC 6749 Appendix A: client_id is VSCHAR, %x20-7E; codes and
tokens are VSCHAR), so the request is malformed: ``invalid_request`` (RFC 6749 §5.2) as JSON at the
back-channel endpoints, a plain 400 page at the browser-facing ones (never a redirect: the
redirect URI itself may be the malformed parameter, RFC 6749 §4.1.2.1).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponseBadRequest, JsonResponse
from django.http.response import HttpResponseBase

NUL = "\x00"
DESCRIPTION = "A request parameter contains a NUL character."


def carries_nul(request: HttpRequest) -> bool:
    if NUL in request.META.get("HTTP_AUTHORIZATION", ""):
        return True
    sources = [request.GET]
    # Only a form body is parsed here (DOT reads forms through request.POST too); a view that reads
    # another body itself (JSON) still can.
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(request.POST)
    return any(NUL in key or any(NUL in value for value in values) for data in sources for key, values in data.lists())


def refuse_nul(view: Callable[..., HttpResponseBase], *, browser: bool = False) -> Callable[..., HttpResponseBase]:
    """Wrap an endpoint's view (urls.py): a request carrying NUL gets ``invalid_request``."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # A CORS preflight (OPTIONS) looks nothing up: the view answers it without its parameters.
        if request.method != "OPTIONS" and carries_nul(request):
            if browser:
                return HttpResponseBadRequest(f"invalid_request: {DESCRIPTION}", content_type="text/plain")
            response = JsonResponse({"error": "invalid_request", "error_description": DESCRIPTION}, status=400)
            response["Cache-Control"] = "no-store"
            return response
        return view(request, *args, **kwargs)

    return guarded
