"""The one extension point a project holds: an adapter class, chosen by ``MFA_OAUTH["ADAPTER"]``.

A project subclasses :class:`DefaultMFAOAuthAdapter`, overrides the hooks it needs, and names its class
in ``MFA_OAUTH["ADAPTER"]`` (a dotted path). Every behaviour a site may reasonably want to change goes
through one method here, so the rest of the package never hard-codes it: the TOTP issuer label, the SMS
text, extra token claims, the rule for removing a factor, the client IP, the login backend of a passkey
sign-in, how notifications are sent, the factors a user can add, the challenge page's extra fields and
the stand-ins for a second factor (a remembered browser). Forms are swapped through ``MFA_OAUTH["FORMS"]``
(:func:`get_form_class`). docs/extending.md lists each hook with its contract.

Hooks that make a security decision keep the package's rule as a floor: extra claims can never replace
``acr``/``amr``/``auth_time`` (the validator writes the authentication record's claims last), a substitute
factor is re-evaluated by the gate (mfa_oauth.policy), and a removal rule is asked only after the
recent-authentication check of the security page.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, overload

from django.apps import apps
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from .client_ip import client_ip
from .conf import settings as mfa_settings

if TYPE_CHECKING:
    from django import forms
    from django.http import HttpRequest
    from django_otp.models import Device
    from django_stubs_ext import StrOrPromise

    from .account.forms import RenameForm
    from .context import Factor
    from .throttle.forms import ThrottledAuthenticationForm
    from .verify.forms import ChallengeForm


@dataclass(frozen=True)
class Enrollment:
    """A factor a user can add (:meth:`DefaultMFAOAuthAdapter.get_enrollments`)."""

    method: str  # the Method.name of the devices it creates
    label: StrOrPromise
    url_name: str  # a view that takes ?next=
    description: StrOrPromise = ""
    order: int = 100
    phishing_resistant: bool = False


class DefaultMFAOAuthAdapter:
    """The behaviour of mfa_oauth a project may override. Subclass it; do not copy it."""

    # --- factors a user can add (the security page, forced enrollment) -------------------------

    def get_enrollments(self) -> list[Enrollment]:
        """The factors a user can add, in the order the pages list them.

        Only the factor apps that are installed (and SMS only while ``SMS_ENABLED``). A project adds its
        own factor by returning an extra :class:`~mfa_oauth.enrollment.Enrollment` whose ``url_name`` is a
        view taking ``?next=``; the gate only sends a user to ``ENROLL_URL`` for a method listed here."""
        found = [
            Enrollment(
                "totp",
                _("Authenticator app"),
                "mfa_oauth:enroll-totp",
                _("A 6-digit code from an app such as Google Authenticator, Aegis or 1Password."),
                order=10,
            )
        ]
        if apps.is_installed("mfa_oauth.webauthn"):
            found.append(
                Enrollment(
                    "webauthn",
                    _("Security key or passkey"),
                    "mfa_oauth:webauthn-register",
                    _(
                        "A USB/NFC security key, or your device's fingerprint, face or screen lock. "
                        "Phishing-resistant: it only works on this site."
                    ),
                    order=5,
                    phishing_resistant=True,
                )
            )
        if apps.is_installed("mfa_oauth.sms") and mfa_settings.SMS_ENABLED:
            found.append(
                Enrollment(
                    "sms",
                    _("Text message"),
                    "mfa_oauth:sms-add",
                    _("A 6-digit code sent to your phone. Weaker than an app or a passkey."),
                    order=50,
                )
            )
        return found

    # --- the challenge step --------------------------------------------------------------------

    def get_challenge_extras(self, request: HttpRequest, next_url: str) -> list[dict[str, Any]]:
        """Extra fields inside the challenge form: dicts with at least ``template`` (included with the
        dict as ``extra``). By default the "remember this browser" box of mfa_oauth.trust."""
        extras: list[dict[str, Any]] = []
        if apps.is_installed("mfa_oauth.trust"):
            from .trust.flows import checkbox_offer

            offer = checkbox_offer(request, next_url)
            if offer:
                extras.append(offer)
        return extras

    def substitute_second_factor(self, request: HttpRequest, **kwargs: Any) -> Factor | None:
        """A factor that stands in for the challenge, or None (called with ``application``, ``policy``,
        ``auth_request`` and ``decision`` when the gate would ask for a second factor).

        The gate evaluates again with the returned factor, so a substitute can never lower what the
        client's policy demands (mfa_oauth.policy.gate_decision). Default: a remembered browser."""
        if apps.is_installed("mfa_oauth.trust"):
            from .trust.flows import remembered_factor

            return remembered_factor(request, **kwargs)
        return None

    # --- TOTP ----------------------------------------------------------------------------------

    def get_totp_issuer(self, device: Device) -> str:
        """The issuer label authenticator apps show next to the account (Key Uri Format "issuer")."""
        return str(mfa_settings.TOTP_ISSUER)

    # --- SMS -----------------------------------------------------------------------------------

    def format_sms_code(self, *, code: str, site_name: str, minutes: int) -> str:
        """The text that carries a one-time code. Keep it short (one SMS segment), put nothing else
        secret in it, and keep the warning not to share the code (NIST SP 800-63B-4 §3.1.3.2)."""
        return f"{code} is your {site_name} code. It expires in {minutes} min. Never share it."

    def format_sms_test(self, *, site_name: str) -> str:
        """The text of an operator's test message (no code)."""
        return f"{site_name}: this is a test message. You do not need to do anything."

    # --- tokens --------------------------------------------------------------------------------

    def get_extra_claims(self, request: Any, user: Any) -> dict[str, Any]:
        """Claims added to the ID token and the userinfo response (OIDC Core §5.1), e.g. from a profile.

        ``request`` is oauthlib's request. The authentication claims (``acr``, ``amr``, ``auth_time``)
        are written after these, so they cannot be replaced here."""
        return {}

    # --- the security page ---------------------------------------------------------------------

    def get_removal_refusal(self, user: Any, device: Device) -> str | None:
        """None when ``user`` may remove ``device``; otherwise the sentence shown to the user.

        Default: mfa_oauth.account.rules (the last factor stays while the site or a client the user has
        authorized requires one)."""
        from .account.rules import removal_refusal

        return removal_refusal(user, device)

    # --- the request ---------------------------------------------------------------------------

    def get_client_ip(self, request: HttpRequest | None) -> str | None:
        """The client's IP address as text, used by the SMS limits, the audit log and the notifications.

        Default: ``REMOTE_ADDR``, or ``X-Forwarded-For`` read from the right past ``TRUSTED_PROXIES``
        (mfa_oauth.client_ip). Never trust a header the client can write without such a list."""
        return client_ip(request)

    def get_login_backend(self, request: HttpRequest, user: Any) -> str:
        """The dotted path of the authentication backend recorded for a passkey sign-in (no password,
        so no backend authenticated the user). Default: the first of ``AUTHENTICATION_BACKENDS``."""
        return str(django_settings.AUTHENTICATION_BACKENDS[0])

    # --- notifications -------------------------------------------------------------------------

    def send_notification(
        self,
        kind: str,
        user: Any,
        *,
        to: list[str],
        context: dict[str, Any],
        request: HttpRequest | None = None,
    ) -> None:
        """Deliver the ``kind`` notification (mfa_oauth.notifications.mail.KINDS) to the addresses ``to``.

        Default: render ``mfa_oauth/notifications/<kind>_subject.txt`` and ``<kind>_body.txt`` and send
        one mail through Django's email framework. A project may send it another way (a push service,
        a second channel). Exceptions are logged by the caller and never fail the request."""
        subject = " ".join(render_to_string(f"mfa_oauth/notifications/{kind}_subject.txt", context).split())
        body = render_to_string(f"mfa_oauth/notifications/{kind}_body.txt", context)
        EmailMessage(subject, body, django_settings.DEFAULT_FROM_EMAIL, to).send()


@lru_cache(maxsize=1)
def get_adapter() -> DefaultMFAOAuthAdapter:
    """The project's adapter (``MFA_OAUTH["ADAPTER"]``), built once; settings changes reset it."""
    path = mfa_settings.ADAPTER
    cls = import_string(path) if isinstance(path, str) else path
    if not (isinstance(cls, type) and issubclass(cls, DefaultMFAOAuthAdapter)):
        raise ImproperlyConfigured(f'MFA_OAUTH["ADAPTER"] must name a subclass of DefaultMFAOAuthAdapter, not {path!r}')
    return cls()


# The forms a project may swap through MFA_OAUTH["FORMS"] (name -> dotted path of the default).
FORM_DEFAULTS: dict[str, str] = {
    "challenge": "mfa_oauth.verify.forms.ChallengeForm",
    "rename": "mfa_oauth.account.forms.RenameForm",
    "login": "mfa_oauth.throttle.forms.ThrottledAuthenticationForm",
    "totp_confirm": "mfa_oauth.totp.forms.TOTPConfirmForm",
    "sms_number": "mfa_oauth.sms.forms.SMSNumberForm",
    "sms_code": "mfa_oauth.sms.forms.SMSCodeForm",
}


@overload
def get_form_class(name: Literal["challenge"]) -> type[ChallengeForm]: ...
@overload
def get_form_class(name: Literal["rename"]) -> type[RenameForm]: ...
@overload
def get_form_class(name: Literal["login"]) -> type[ThrottledAuthenticationForm]: ...
@overload
def get_form_class(name: str) -> type[forms.BaseForm]: ...


def get_form_class(name: str) -> type[forms.BaseForm]:
    """The form class for ``name``: ``MFA_OAUTH["FORMS"][name]`` if the project set it, else the default.

    A replacement should subclass the default: the views rely on its fields and constructor arguments."""
    if name not in FORM_DEFAULTS:
        raise KeyError(f"unknown mfa_oauth form {name!r}; known: {', '.join(sorted(FORM_DEFAULTS))}")
    overrides = mfa_settings.FORMS or {}
    return _import_form(overrides.get(name) or FORM_DEFAULTS[name])


@lru_cache(maxsize=32)
def _import_form(path: str) -> type[forms.BaseForm]:
    return import_string(path)


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting == "MFA_OAUTH":
        get_adapter.cache_clear()
