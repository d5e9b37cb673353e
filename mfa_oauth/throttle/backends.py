"""Authentication backends that throttle password guessing (mfa_oauth.throttle.counters).

List one first in ``AUTHENTICATION_BACKENDS`` (Django's documented extension point; system check
mfa_oauth.W020 says when it is not first)::

    AUTHENTICATION_BACKENDS = ["mfa_oauth.throttle.backends.ThrottledModelBackend"]

Every login that calls ``django.contrib.auth.authenticate()`` with a user name and a password is
then throttled, whatever the view: the reference site's, the admin's, a project's own, DRF's basic
authentication. The backend, not a signal, counts: it sees the outcome of its own password check,
including a success that never becomes a session login (a signal pair of ``user_login_failed`` /
``user_logged_in`` would miss those and count them as failures), and it counts *before* the check,
so parallel guesses cannot slip between a check and a count.

A project whose passwords are checked by another backend (LDAP, a custom model) wraps that one the
same way: ``class ThrottledLDAPBackend(LoginThrottleMixin, LDAPBackend): pass``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from ..client_ip import client_address
from ..lookups import INTEGER_MARKER, CompiledLookup
from . import counters

if TYPE_CHECKING:  # a mixin for a password backend: type-check it as ModelBackend
    _BackendBase = ModelBackend
else:
    _BackendBase = object

# Where a refused attempt leaves its Refusal on the request, for the form's message, the view's
# Retry-After header and the audit row (mfa_oauth.audit.receivers).
REQUEST_ATTRIBUTE = "mfa_oauth_login_throttle"


def refusal_of(request: HttpRequest | None) -> counters.Refusal | None:
    """The Refusal the backend left on ``request`` in this request, if any."""
    return getattr(request, REQUEST_ATTRIBUTE, None) if request is not None else None


class LoginThrottleMixin(_BackendBase):
    """Wraps a password backend's ``authenticate``: refuse while throttled, else count and check."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return super().authenticate(request, username=username, password=password, **kwargs)
        try:
            attempt = counters.begin(str(username), client_address(request))
        except counters.LoginThrottled as refused:
            if request is not None:
                setattr(request, REQUEST_ATTRIBUTE, refused.refusal)
            counters.logger.info("password login refused by the throttle: %s", refused.refusal.audit_detail())
            raise  # authenticate() stops here: no backend checks the password
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            attempt.succeeded()
        return user

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        # ModelBackend has its own async path; route it through the same counting (the cache API is
        # synchronous underneath for every built-in backend anyway).
        return await sync_to_async(self.authenticate)(request, username=username, password=password, **kwargs)


class ThrottledModelBackend(LoginThrottleMixin, ModelBackend):
    """Django's ModelBackend with the password-guessing throttle in front of its password check."""

    def get_user(self, user_id):
        # ModelBackend.get_user (the session's user, on every request that reads request.user) with its
        # SELECT compiled once per process and user model (mfa_oauth.lookups.CompiledLookup, which reads
        # a non-integer primary key through the ORM); still a query each time, and the same answer: None
        # for no such user or one that may not authenticate.
        user = _user_by_pk.get(user_id, key=get_user_model())
        return user if user is not None and self.user_can_authenticate(user) else None


_user_by_pk = CompiledLookup(
    lambda model, pk: model._default_manager.filter(pk=pk), markers=(INTEGER_MARKER,), prepare=(int,)
)
