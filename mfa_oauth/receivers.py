"""Start a fresh authentication context whenever Django logs a user in."""

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from .context import SESSION_KEY, AuthContext
from .oauth import reauthentication


@receiver(user_logged_in, dispatch_uid="mfa_oauth.start_context")
def start_context_on_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    # A login that proved more than a password (a passkey) says so with request.mfa_oauth_login_factor.
    from .context import password_factor

    factor = getattr(request, "mfa_oauth_login_factor", None) or password_factor()
    request.session[SESSION_KEY] = AuthContext(user_id=user.pk, factors=(factor,)).to_dict()
    # The new login is the one a prompt=login / max_age=0 asked for (mfa_oauth.oauth.reauthentication).
    reauthentication.satisfied(request)
