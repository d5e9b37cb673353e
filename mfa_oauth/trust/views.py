"""The user's remembered browsers and the "forget all browsers" button.

Both need a complete sign-in: the second factor proved in this session (a remembered browser does
not vouch for the page that manages remembered browsers). The method check comes first, so a method
a view does not serve is a 405 whatever the session.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from mfa_oauth.freshness import complete_sign_in_required

from .flows import forget_all, trusted_browser
from .middleware import FORGET_ATTR
from .models import TrustedBrowser


@never_cache
@require_http_methods(["GET"])
@complete_sign_in_required
def manage(request: HttpRequest) -> HttpResponse:
    current = trusted_browser(request)
    browsers = TrustedBrowser.objects.valid().filter(user=request.user)
    return render(
        request,
        "mfa_oauth/trust/manage.html",
        {"browsers": browsers, "current": current, "forgotten": request.GET.get("forgotten")},
    )


@require_POST
@complete_sign_in_required(back_to="mfa_oauth_trust:manage")
def forget(request: HttpRequest) -> HttpResponse:
    count = forget_all(request.user)
    setattr(request, FORGET_ATTR, True)
    return redirect(f"{reverse('mfa_oauth_trust:manage')}?forgotten={count}")
