from django.contrib.auth import views as auth_views
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from mfa_oauth.context import get_context
from mfa_oauth.methods import confirmed_devices, method_of
from mfa_oauth.oauth.after_login import next_after_login
from mfa_oauth.throttle.views import ThrottledLoginViewMixin


def home(request):
    context = get_context(request)
    devices = []
    if request.user.is_authenticated:
        devices = [{"device": d, "method": method_of(d)} for d in confirmed_devices(request.user)]
    return render(request, "home.html", {"auth_context": context, "devices": devices})


class LoginView(ThrottledLoginViewMixin, auth_views.LoginView):
    # Django's LoginView already validates ``next`` with url_has_allowed_host_and_scheme and
    # rotates the session id on login; mfa_oauth.receivers records the password factor. The
    # password throttle itself is in the authentication backend; the mixin shows its message
    # and answers 429 with Retry-After (mfa_oauth.throttle).
    template_name = "registration/login.html"
    redirect_authenticated_user = False

    def get_success_url(self) -> str:
        # Straight to the second-factor step when the authorization endpoint would send the user
        # there: one redirect fewer (mfa_oauth.oauth.after_login).
        return next_after_login(self.request, super().get_success_url())


@require_GET
def favicon(request):
    """/favicon.ico, which browsers ask for on pages without a <link rel="icon"> (the admin's).

    The static URL is resolved per request: in production it names the hashed file of the manifest,
    which does not exist yet when ``migrate`` imports the URLconf before ``collectstatic``."""
    return HttpResponsePermanentRedirect(static("mfa_oauth/favicon.svg"))
