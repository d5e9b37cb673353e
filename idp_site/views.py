from django.http import HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from mfa_oauth.context import get_context
from mfa_oauth.login import LoginView as PackageLoginView
from mfa_oauth.methods import confirmed_devices, method_of


def home(request):
    context = get_context(request)
    devices = []
    if request.user.is_authenticated:
        devices = [{"device": d, "method": method_of(d)} for d in confirmed_devices(request.user)]
    return render(request, "home.html", {"auth_context": context, "devices": devices})


class LoginView(PackageLoginView):
    # The package's login view (Django's LoginView with the password throttle's 429 and the shortcut to
    # the second factor, mfa_oauth.login) with the reference site's own template.
    template_name = "registration/login.html"


@require_GET
def favicon(request):
    """/favicon.ico, which browsers ask for on pages without a <link rel="icon"> (the admin's).

    The static URL is resolved per request: in production it names the hashed file of the manifest,
    which does not exist yet when ``migrate`` imports the URLconf before ``collectstatic``."""
    return HttpResponsePermanentRedirect(static("mfa_oauth/favicon.svg"))
