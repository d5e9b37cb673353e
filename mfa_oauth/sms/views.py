"""Add a phone number: type it, receive a code, type the code back; only then is it usable.

Adding a number is binding a new authenticator, so a user who already has a second factor
must have used one recently (``fresh_mfa_required``; NIST SP 800-63B-4 §4.1.2.1). The page
shows the risks of SMS and links to stronger factors before anything is bound (NIST SP 800-63B-4 §3.1.3.3, §3.2.9).
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache

from .. import pending
from ..adapter import get_form_class
from ..conf import settings as mfa_settings
from ..context import get_context
from ..enrollment import available
from ..freshness import fresh_mfa_required
from ..redirects import safe_next, see_other
from ..signals import challenge_sent, factor_added
from ..verify.flows import complete, normalize_token, retry_after, throttle_message
from . import api, phone, service
from .models import SMSDevice, SMSMessage

PENDING_SESSION_KEY = "mfa_oauth.sms.pending"
VERIFYING_SESSION_KEY = "mfa_oauth.sms.verifying"


@method_decorator(never_cache, name="dispatch")
@method_decorator(fresh_mfa_required(reason=gettext_lazy("add a phone number")), name="dispatch")
class AddNumberView(View):
    template_name = "mfa_oauth_sms/add.html"

    def dispatch(self, request, *args, **kwargs):
        self.next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"))
        if pending.expired(get_context(request)):
            # A confirmed number would become this password-only session's second factor: past the
            # half-authenticated state's limit the password comes first and no text goes out
            # (docs/security.md, "The half-authenticated state").
            self.discard_pending()
            return pending.restart(request, self.next_url)
        return super().dispatch(request, *args, **kwargs)

    def discard_pending(self) -> None:
        """The number this session was adding, unless an operator assigned it (it stays pending)."""
        pk = self.request.session.pop(PENDING_SESSION_KEY, None)
        if pk is not None:
            SMSDevice.objects.filter(pk=pk, user=self.request.user, confirmed=False, assigned=False).delete()

    def pending(self) -> SMSDevice | None:
        pk = self.request.session.get(PENDING_SESSION_KEY)
        if pk is None:
            return None
        return SMSDevice.objects.filter(pk=pk, user=self.request.user, confirmed=False).first()

    def get(self, request, *args, **kwargs):
        if not mfa_settings.SMS_ENABLED:
            return self.render(error=_("Text message codes are turned off on this site."), status=404)
        return self.render(pending=self.pending())

    def post(self, request, *args, **kwargs):
        if not mfa_settings.SMS_ENABLED:
            return self.render(error=_("Text message codes are turned off on this site."), status=404)
        if request.POST.get("action") == "verify":
            return self.verify()
        return self.send()

    def send(self) -> HttpResponse:
        request = self.request
        raw = request.POST.get("number", "")
        try:
            number = phone.to_e164(raw)
        except phone.InvalidNumber as error:
            return self.render(error=error.user_message, number=raw, status=400)
        if SMSDevice.objects.filter(user=request.user, number=number, confirmed=True).exists():
            return self.render(error=_("That number is already one of your factors."), number=raw, status=400)
        name = (request.POST.get("name", "") or _("Phone")).strip()[:64]
        earlier = self.pending()
        # A number an operator assigned to this user is verified as that device, not duplicated.
        assigned = SMSDevice.objects.filter(user=request.user, number=number, confirmed=False, assigned=True).first()
        if earlier is not None and earlier.number == number:
            device, created = earlier, False
        elif assigned is not None:
            device, created = assigned, False
        else:
            device = SMSDevice.objects.create(user=request.user, name=name, number=number, confirmed=False)
            created = True
        try:
            service.queue_code(
                user=request.user,
                device=device,
                purpose=SMSMessage.Purpose.ENROLL,
                attempt=service.login_attempt_id(request),
                client_ip=service.client_ip(request),
            )
        except service.BrokerUnavailable as error:
            # The code is stored and will go out: this number is now the one being verified.
            self.replace_pending(earlier, device)
            announce_code(request, device)
            return self.render(pending=device, error=error.user_message, status=503)
        except service.SMSRefused as error:
            if created:
                device.delete()  # nothing half-created: no code went out for it
            return self.render(pending=earlier, error=error.user_message, number=raw, status=429)
        self.replace_pending(earlier, device)
        announce_code(request, device)
        return self.render(
            pending=device,
            info=_("We sent a code to %(number)s. Type it below.") % {"number": device.masked_number},
        )

    def verify(self) -> HttpResponse:
        request = self.request
        device = self.pending()
        if device is None:
            return self.render(error=_("Enter your number first; that page expired."), status=400)
        error, status = confirm_with_code(request, device, request.POST.get("token", ""))
        if error:
            return self.render(pending=self.pending(), error=error, status=status)
        request.session.pop(PENDING_SESSION_KEY, None)
        return self.done(device)

    def done(self, device: SMSDevice) -> HttpResponse:
        request = self.request
        device.refresh_from_db()
        if not device.assigned:
            # An assigned number was announced (audit, email) when the operator entered it.
            factor_added.send(sender=SMSDevice, request=request, user=request.user, device=device, method="sms")
        context = get_context(request)
        if context is None or not context.second_factors:
            try:
                complete(request, device)  # the code just typed proves this session's second factor
            except pending.PendingSessionExpired:  # the limit passed during this request
                return pending.restart(request, self.next_url)
        messages.success(
            request, _("%(number)s verified. It receives sign-in codes from now on.") % {"number": device.masked_number}
        )
        return see_other(self.next_url)

    def replace_pending(self, earlier: SMSDevice | None, device: SMSDevice) -> None:
        if earlier is not None and earlier.pk != device.pk and not earlier.assigned:
            earlier.delete()  # never an operator's assigned number: it stays pending
        self.request.session[PENDING_SESSION_KEY] = device.pk

    def render(
        self, *, pending=None, error: str = "", info: str = "", number: str = "", status: int = 200, **extra
    ) -> HttpResponse:
        stronger = [e for e in available() if e.method != "sms"]
        response = render(
            self.request,
            self.template_name,
            {
                "pending": pending,
                "error": error,
                "info": info,
                "number": number,
                "next": self.next_url,
                "stronger": stronger,
                # The fields come from the form classes (MFA_OAUTH["FORMS"]["sms_number"] / ["sms_code"]).
                "number_form": get_form_class("sms_number")(
                    initial={"number": pending.number if pending else number, "name": pending.name if pending else ""}
                ),
                "code_form": get_form_class("sms_code")(),
                **extra,
            },
            status=status,
        )
        response["Cache-Control"] = "no-store"
        return response


def announce_code(request, device: SMSDevice) -> None:
    """``challenge_sent`` for a verification code (the audit log's "challenge sent", purpose "enroll")."""
    challenge_sent.send(
        sender=SMSDevice, request=request, user=request.user, device=device, method="sms", purpose="enroll"
    )


def confirm_with_code(request, device: SMSDevice, raw_token: str) -> tuple[str, int]:
    """Confirm ``device`` with the code sent to it in this session: ("", 200) when it worked, else
    the message to show and the status. Throttled by django-otp on the device row."""
    token = normalize_token(device, raw_token)
    attempt = service.login_attempt_id(request, create=False)
    with transaction.atomic():
        locked = SMSDevice.objects.select_for_update().get(pk=device.pk)
        allowed, info = locked.verify_is_allowed()
        ok = bool(allowed and token and attempt and service.check_code(locked, attempt, token))
        if ok:
            if api.held_elsewhere(locked):
                # Told only now, to whoever proved they hold the phone: asked before the code,
                # the answer would tell any signed-in user which numbers have accounts here.
                if not locked.assigned:
                    locked.delete()  # nothing half-enrolled stays behind
                return _("This number is already used by another account. Use another number or another factor."), 409
            service.confirm(locked)
        else:
            locked.throttle_increment()
    if ok:
        return "", 200
    if not allowed:
        return throttle_message(retry_after(info)), 429
    return _("That code did not work. Check it, or ask for a new one."), 200


@method_decorator(never_cache, name="dispatch")
@method_decorator(fresh_mfa_required(reason=gettext_lazy("verify this phone number")), name="dispatch")
class VerifyNumberView(AddNumberView):
    """Verify a number that is already listed but unconfirmed (an operator entered it, or the user
    left the add page before typing the code): send a code to it, type it back.

    Behind a fresh second factor like adding a number: confirming one binds an authenticator."""

    template_name = "mfa_oauth_sms/verify_number.html"

    def dispatch(self, request, *args, pk: int, **kwargs):
        self.device = (
            SMSDevice.objects.filter(pk=pk, user=request.user, confirmed=False).first()
            if request.user.is_authenticated
            else None
        )
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        if not mfa_settings.SMS_ENABLED:
            return self.render(error=_("Text message codes are turned off on this site."), status=404)
        if self.device is None:
            return self.gone()
        return self.render(pending=self.device)

    def post(self, request, *args, **kwargs):
        if not mfa_settings.SMS_ENABLED:
            return self.render(error=_("Text message codes are turned off on this site."), status=404)
        if self.device is None:
            return self.gone()
        if request.POST.get("action") == "verify":
            error, status = confirm_with_code(request, self.device, request.POST.get("token", ""))
            if error:
                return self.render(pending=self.device, error=error, status=status, sent=True)
            request.session.pop(VERIFYING_SESSION_KEY, None)
            return self.done(self.device)
        try:
            service.queue_code(
                user=request.user,
                device=self.device,
                purpose=SMSMessage.Purpose.ENROLL,
                attempt=service.login_attempt_id(request),
                client_ip=service.client_ip(request),
            )
        except service.BrokerUnavailable as error:
            self.sent()  # stored; the sweep sends it when the broker is back
            return self.render(pending=self.device, error=error.user_message, status=503, sent=True)
        except service.SMSRefused as error:
            return self.render(pending=self.device, error=error.user_message, status=429, sent=self.was_sent())
        self.sent()
        return self.render(
            pending=self.device,
            info=_("We sent a code to %(number)s. Type it below.") % {"number": self.device.masked_number},
            sent=True,
        )

    def sent(self) -> None:
        if self.device is None:  # get/post answered "gone" already
            return
        self.request.session[VERIFYING_SESSION_KEY] = self.device.pk
        announce_code(self.request, self.device)

    def was_sent(self) -> bool:
        return self.device is not None and self.request.session.get(VERIFYING_SESSION_KEY) == self.device.pk

    def gone(self) -> HttpResponse:
        return self.render(
            error=_("That number is not waiting for verification (already done, or not yours)."), status=404
        )

    def render(self, *, sent: bool | None = None, **kwargs) -> HttpResponse:
        if sent is None:
            sent = self.device is not None and self.was_sent()
        return super().render(sent=sent, device=self.device, **kwargs)
