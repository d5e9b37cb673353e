from django.shortcuts import render

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
