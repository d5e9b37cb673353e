"""The SMS factor's tables: the device (a phone number), one row per code, and the outbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp import device_classes
from django_otp.models import Device, DeviceManager, ThrottlingMixin, TimestampMixin

from ..conf import settings as mfa_settings
from ..methods import Method
from . import phone
from .exceptions import SMSRefused

# mfa_oauth.sms.service imports these models; the device reaches the service through callbacks that
# SMSConfig.ready() connects (connect_service), so the models never import the service.
_service: dict[str, Callable[..., Any]] = {}
# The request attribute where the service notes the message it has just queued, per device pk: the
# challenge page that request answers with reports that code without reading back the rows it wrote.
SENT_IN_REQUEST = "_mfa_oauth_sms_sent"


def connect_service(
    *,
    send_login_code: Callable[..., str],
    verify_login_code: Callable[..., bool],
    login_attempt_id: Callable[..., str | None],
) -> None:
    _service.update(
        send_login_code=send_login_code, verify_login_code=verify_login_code, login_attempt_id=login_attempt_id
    )


class SMSDeviceManager(DeviceManager):
    """django-otp's per-model ``devices_for_user`` hook (what ``django_otp.devices_for_user`` and so
    ``mfa_oauth.methods.confirmed_devices`` call), extended for numbers an operator assigned.

    An assigned number (admin, ``mfa_enroll --sms``, ``mfa_import``) is verified on first use: while
    the user has no confirmed factor at all, it counts as usable, so the challenge step offers it,
    the policy asks for it instead of sending the user to enroll something else with nothing but a
    password, and the code that comes back both confirms it and is the second factor (the way an
    IdP treats a phone number an administrator registered). As soon as the user has any confirmed
    factor, the assigned number is pending again and is verified from the security page, behind a
    fresh second factor. Still one query per call: the "no confirmed factor" test is a set of
    NOT EXISTS subqueries, one per device type.
    """

    def devices_for_user(self, user, confirmed=None):
        devices = self.get_queryset().filter(user=user)
        if confirmed is None:
            return devices
        from ..conf import settings as mfa_settings

        usable = Q(confirmed=True)
        if mfa_settings.SMS_ENABLED:  # with SMS off, an unverified number could never be verified
            usable |= Q(assigned=True, confirmed=False) & _no_confirmed_factor()
        return devices.filter(usable) if confirmed else devices.exclude(usable)


def _no_confirmed_factor() -> Q:
    """True where the device's user has no confirmed device of any installed type."""
    condition: Any = Q()  # Q & ~Exists: a combined expression Django filters on
    for model in device_classes():
        # The base filter, not devices_for_user: this manager must not recurse into itself.
        condition &= ~Exists(model._default_manager.filter(user=OuterRef("user_id"), confirmed=True))
    return condition


class SMSDevice(TimestampMixin, ThrottlingMixin, Device):
    """A phone number that receives codes; ``confirmed`` only after a code sent to it came back."""

    mfa_method = Method(
        "sms",
        _("Text message"),
        ("sms",),
        sends_challenge=True,
        token_pattern=r"\d{6}",
        challenge_template="mfa_oauth_sms/challenge_status.html",
    )

    number = models.CharField(_("phone number (E.164)"), max_length=20)
    # Entered by an operator, not by the user: verified on first use (see SMSDeviceManager).
    assigned = models.BooleanField(
        _("assigned by an operator"),
        default=False,
        help_text=_("Entered by an administrator, the CLI or an import; confirmed by the first code typed back."),
    )

    objects: ClassVar[SMSDeviceManager] = SMSDeviceManager()

    class Meta:
        verbose_name = _("SMS device")

    def __str__(self) -> str:
        return f"{self.name or 'SMS'} {self.masked_number}"

    @property
    def masked_number(self) -> str:
        return phone.mask(self.number)

    def verification_url(self) -> str:
        """Where the user verifies this number while it is unconfirmed (the security page links it)."""
        from django.urls import reverse

        from ..conf import settings as mfa_settings

        if self.confirmed or not mfa_settings.SMS_ENABLED:
            return ""
        return reverse("mfa_oauth:sms-verify", args=[self.pk])

    def get_throttle_factor(self) -> int:
        return int(mfa_settings.SMS_THROTTLE_FACTOR)

    # --- django-otp Device API ---------------------------------------------------------------
    def generate_challenge_for_request(self, request: HttpRequest) -> str:
        """Queue a code for this login attempt; the challenge page shows the returned text.

        Raises an exception with ``user_message`` when a limit or the broker says no."""
        return _service["send_login_code"](request, self)

    def generate_challenge(self) -> None:
        # A code is bound to the login attempt of a request; there is none here.
        raise SMSRefused(str(_("Ask for a code from the sign-in page.")))

    def verify_token(self, token: Any) -> bool:
        # Without the request there is no login attempt to bind the code to, so nothing matches.
        return False

    def challenge_sent_for_request(self, request: HttpRequest) -> bool:
        """Whether a code sent for this login attempt can still be typed (the challenge page then
        takes it in its one code field; before that it offers only "Send me a code")."""
        if self.pk in getattr(request, SENT_IN_REQUEST, {}):
            return True  # queued by this very request: unused, not superseded, not expired
        attempt = _service["login_attempt_id"](request, create=False)
        if not attempt:
            return False
        live = {"used_at__isnull": True, "superseded_at__isnull": True, "expires_at__gt": timezone.now()}
        return SMSCode.objects.filter(device=self, attempt=attempt, **live).exists()

    def verify_token_for_request(self, request: HttpRequest, token: str) -> bool:
        return _service["verify_login_code"](request, self, token)


class SMSCode(models.Model):
    """One code: hashed, bound to the login attempt that asked for it, valid until ``expires_at``."""

    device = models.ForeignKey(SMSDevice, on_delete=models.CASCADE, related_name="codes")
    # A random id kept in the asking session: a code entered in another session does not match.
    attempt = models.CharField(max_length=64, db_index=True)
    salt = models.CharField(max_length=32)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Set when a resend replaced it.
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["device", "attempt", "used_at"])]


class SMSMessage(models.Model):
    """The outbox: a text to send, its delivery state, and what the limits count."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        DELIVERED = "delivered", _("delivered")
        UNDELIVERED = "undelivered", _("undelivered")
        FAILED = "failed", _("failed")

    class Purpose(models.TextChoices):
        LOGIN = "login", _("sign-in code")
        ENROLL = "enroll", _("number verification")
        TEST = "test", _("test message")

    TERMINAL = (Status.DELIVERED, Status.UNDELIVERED, Status.FAILED)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Kept when the device is removed, so removing and re-adding a number resets no limit.
    device = models.ForeignKey(SMSDevice, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    code = models.OneToOneField(SMSCode, on_delete=models.SET_NULL, null=True, blank=True, related_name="message")
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.LOGIN)
    to = models.CharField(max_length=20, db_index=True)
    country = models.CharField(max_length=2, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    # The code sealed for the worker (see codes.py); wiped once sent, failed or expired.
    sealed_code = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_message = models.CharField(max_length=255, blank=True)
    provider_sid = models.CharField(_("MessageSid"), max_length=64, null=True, blank=True, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    # An earlier attempt may have reached the provider (timeout, or a worker died mid-send): the
    # next attempt asks the provider before sending again.
    maybe_sent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    # When the next send may happen (a scheduled retry); the sweep leaves younger rows alone.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        verbose_name = _("text message")
        verbose_name_plural = _("text messages (outbox)")

    def __str__(self) -> str:
        return f"SMS #{self.pk} to {phone.mask(self.to)}: {self.status}"
