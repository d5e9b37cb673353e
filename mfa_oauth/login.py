"""The password step, shipped so a project needs no login view or template of its own.

``path("accounts/", include("mfa_oauth.auth_urls"))`` gives the ``login`` and ``logout`` URL names at
Django's default ``LOGIN_URL`` (``/accounts/login/``). The view is Django's ``LoginView`` (it checks
``next`` with ``url_has_allowed_host_and_scheme`` and rotates the session key on login) with the
password throttle's 429/503 answer (:mod:`mfa_oauth.throttle`) and the shortcut straight to the
second-factor step (:mod:`mfa_oauth.oauth.after_login`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.apps import apps
from django.contrib.auth import views as auth_views
from django.http import HttpResponse

from .oauth.after_login import answer_login, next_after_login
from .oauth.hints import LoginHintsMixin
from .throttle.views import ThrottledLoginViewMixin


# LoginHintsMixin: the authorization request's login_hint prefills the user name, its ui_locales picks
# the language (OIDC Core §3.1.2.1).
class LoginView(LoginHintsMixin, ThrottledLoginViewMixin, auth_views.LoginView):
    template_name = "mfa_oauth/login.html"
    redirect_authenticated_user = False

    def get_success_url(self) -> str:
        return next_after_login(self.request, super().get_success_url())

    def form_valid(self, form: Any) -> HttpResponse:
        # The challenge page itself as the answer to the password POST when the gate would send the
        # user there: no round trip for it (mfa_oauth.oauth.after_login.answer_login; the page's form
        # posts to /mfa/verify/).
        return answer_login(self.request, partial(super().form_valid, form))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # The passkey button posts to mfa_oauth.webauthn's URLs, which exist only with that app installed.
        context["passkeys"] = apps.is_installed("mfa_oauth.webauthn")
        return context


class LogoutView(auth_views.LogoutView):
    """Django's POST-only logout (a GET cannot sign anyone out: Django 5.0 release notes, CSRF)."""

    template_name = "mfa_oauth/logged_out.html"
