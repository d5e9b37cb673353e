from functools import partial

from django.contrib.auth import views as auth_views
from django.shortcuts import render

from mfa_oauth.context import get_context
from mfa_oauth.methods import confirmed_devices, method_of
from mfa_oauth.oauth.after_login import answer_login, next_after_login
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

    def form_valid(self, form):
        # ... and the challenge page itself as the answer to the password POST: no round trip for it
        # (mfa_oauth.oauth.after_login.answer_login; the page's form posts to /mfa/verify/).
        return answer_login(self.request, partial(super().form_valid, form))
