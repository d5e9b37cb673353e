"""The user's remembered browsers and the "forget all browsers" button."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .flows import forget_all, trusted_browser
from .middleware import FORGET_ATTR
from .models import TrustedBrowser


@never_cache
@login_required
@require_http_methods(["GET"])
def manage(request) -> HttpResponse:
    current = trusted_browser(request)
    browsers = TrustedBrowser.objects.valid().filter(user=request.user)
    return render(
        request,
        "mfa_oauth/trust/manage.html",
        {"browsers": browsers, "current": current, "forgotten": request.GET.get("forgotten")},
    )


@login_required
@require_POST
def forget(request) -> HttpResponse:
    count = forget_all(request.user)
    setattr(request, FORGET_ATTR, True)
    return redirect(f"{reverse('mfa_oauth_trust:manage')}?forgotten={count}")
