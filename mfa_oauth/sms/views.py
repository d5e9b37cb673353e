"""Add a phone number: type it, receive a code, type the code back; only then is it usable.

Adding a number is binding a new authenticator, so a user who already has a second factor
must have used one recently (``fresh_mfa_required``; NIST SP 800-63B-4 §4.1.2.1). The page
shows the risks of SMS and links to stronger factors before anything is bound (SECURITY.md C2).
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from ..conf import settings as mfa_settings
from ..context import get_context
from ..enrollment import available
from ..freshness import fresh_mfa_required
from ..redirects import safe_next
from ..signals import factor_added
from ..verify.flows import complete, normalize_token
from . import phone, service
from .models import SMSDevice, SMSMessage

PENDING_SESSION_KEY = "mfa_oauth.sms.pending"


@method_decorator(never_cache, name="dispatch")
@method_decorator(fresh_mfa_required, name="dispatch")
class AddNumberView(View):
    template_name = "mfa_oauth_sms/add.html"

    def dispatch(self, request, *args, **kwargs):
        self.next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"))
        return super().dispatch(request, *args, **kwargs)

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
        created = earlier is None or earlier.number != number
        device = (
            SMSDevice.objects.create(user=request.user, name=name, number=number, confirmed=False)
            if created
            else earlier
        )
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
            return self.render(pending=device, error=error.user_message, status=503)
        except service.SMSRefused as error:
            if created:
                device.delete()  # nothing half-created: no code went out for it
            return self.render(pending=earlier, error=error.user_message, number=raw, status=429)
        self.replace_pending(earlier, device)
        return self.render(
            pending=device,
            info=_("We sent a code to %(number)s. Type it below.") % {"number": device.masked_number},
        )

    def verify(self) -> HttpResponse:
        request = self.request
        device = self.pending()
        if device is None:
            return self.render(error=_("Enter your number first; that page expired."), status=400)
        token = normalize_token(device, request.POST.get("token", ""))
        attempt = service.login_attempt_id(request, create=False)
        with transaction.atomic():
            locked = SMSDevice.objects.select_for_update().get(pk=device.pk)
            allowed, _info = locked.verify_is_allowed()
            ok = bool(allowed and token and attempt and service.check_code(locked, attempt, token))
            if ok:
                locked.confirmed = True
                locked.throttling_failure_count = 0
                locked.save(update_fields=["confirmed", "throttling_failure_count"])
            else:
                locked.throttle_increment()
        if not ok:
            message = (
                _("Too many wrong codes. Wait a little, then try again.")
                if not allowed
                else _("That code did not work. Check it, or ask for a new one.")
            )
            return self.render(pending=device, error=message, status=200 if allowed else 429)
        request.session.pop(PENDING_SESSION_KEY, None)
        device.refresh_from_db()
        factor_added.send(sender=SMSDevice, request=request, user=request.user, device=device, method="sms")
        if not get_context(request).second_factors:
            complete(request, device)  # the code just typed proves this session's second factor
        response = HttpResponse(status=303)
        response["Location"] = self.next_url
        return response

    def replace_pending(self, earlier: SMSDevice | None, device: SMSDevice) -> None:
        if earlier is not None and earlier.pk != device.pk:
            earlier.delete()
        self.request.session[PENDING_SESSION_KEY] = device.pk

    def render(self, *, pending=None, error: str = "", info: str = "", number: str = "", status: int = 200):
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
            },
            status=status,
        )
        response["Cache-Control"] = "no-store"
        return response
