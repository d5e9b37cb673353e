"""The challenge step: the user picks one of their confirmed factors and proves it."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache

from .. import lockout, pending
from ..context import LEVEL_MFA, get_context
from ..methods import confirmed_device, confirmed_devices, method_of
from ..redirects import safe_next
from . import extras
from .flows import Status, verify
from .forms import ChallengeForm

MESSAGES = {
    Status.WRONG: gettext_lazy("That code did not work. Check it and try again."),
    Status.MALFORMED: gettext_lazy("That does not look like a code for this factor. Check it and try again."),
}


@method_decorator(never_cache, name="dispatch")
class VerifyView(View):
    template_name = "mfa_oauth/verify.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated or get_context(request) is None:
            return redirect_to_login(request.get_full_path())
        self.next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"))
        if pending.expired(get_context(request)):
            # Past the half-authenticated state's limit the page offers nothing: no code is checked,
            # no text sent, and the password comes first again (docs/security.md).
            return pending.restart(request, self.next_url)
        self.level = _int(request.GET.get("level"), LEVEL_MFA)
        self.methods = tuple(m for m in request.GET.get("methods", "").split(",") if m)
        posted = request.POST.get("device") if request.method == "POST" else None
        # A POST names its device: load that one (one statement); the full list only to render a page.
        self.devices = self.eligible_devices([confirmed_device(request.user, posted)] if posted else None)
        return super().dispatch(request, *args, **kwargs)

    def eligible_devices(self, candidates: list | None = None) -> list:
        devices = []
        for device in confirmed_devices(self.request.user) if candidates is None else candidates:
            if device is None:
                continue
            method = method_of(device)
            if method.level >= self.level and (not self.methods or method.name in self.methods):
                devices.append(device)
        return devices

    def get(self, request, *args, **kwargs):
        return self.render(ChallengeForm(devices=self.devices))

    def post(self, request, *args, **kwargs):
        form = ChallengeForm(request.POST, devices=self.devices)
        if not form.is_valid():
            return self.render(form, status=400)
        device = form.cleaned_data["device"]
        if form.cleaned_data.get("action") == "send":
            return self.send_challenge(form, device)
        attempt = verify(request, device, form.cleaned_data.get("token", ""))
        if attempt.status is Status.OK:
            return _see_other(self.next_url)
        if attempt.status is Status.EXPIRED:
            return pending.restart(request, self.next_url)
        if attempt.status is Status.THROTTLED:
            message = _("Too many attempts. Try again in %(seconds)d seconds.") % {"seconds": attempt.retry_after or 1}
            response = self.render(form, error=message, status=429)
            response["Retry-After"] = str(attempt.retry_after or 1)
            return response
        if attempt.status is Status.UNAVAILABLE:
            message = _("This factor cannot be used right now. Use another one, or ask the help desk.")
            return self.render(form, error=message, status=503, selected=device)
        if attempt.status is Status.LOCKED:
            # The page's lock notice says it all, and until when (mfa_oauth.lockout.message).
            return self.render(form, status=403, selected=device, lock=attempt.lock)
        return self.render(form, error=MESSAGES[attempt.status], selected=device)

    def send_challenge(self, form, device) -> HttpResponse:
        allowed, _info = device.generate_is_allowed()
        if not allowed:
            return self.render(
                form,
                error=_("A code was sent a moment ago. Wait before asking for another."),
                status=429,
                selected=device,
            )
        try:
            send = getattr(device, "generate_challenge_for_request", None)
            message = send(self.request) if callable(send) else device.generate_challenge()
        except Exception as error:  # a factor refusing to send explains itself in str(error)
            if getattr(error, "user_message", None):
                response = self.render(form, error=error.user_message, status=429, selected=device)
                if getattr(error, "retry_after", None):
                    response["Retry-After"] = str(error.retry_after)
                return response
            raise
        return self.render(
            ChallengeForm(devices=self.devices, initial={"device": device.persistent_id}),
            info=str(message or _("Code sent.")),
            selected=device,
        )

    def render(
        self, form, *, error: str = "", info: str = "", status: int = 200, selected=None, lock=None
    ) -> HttpResponse:
        if self.request.method == "POST":  # the POST loaded only the device it names; the page lists all
            selected = selected or getattr(form, "cleaned_data", {}).get("device")
            self.devices = self.eligible_devices()
            form.devices = {d.persistent_id: d for d in self.devices}
            if selected is not None:
                selected = next((d for d in self.devices if d.persistent_id == selected.persistent_id), None)
        entries = [{"device": d, "method": method_of(d)} for d in self.devices]
        lock = lock if lock is not None else lockout.state(self.request.user)
        if lock.locked:
            # Codes are not checked while locked; a user-verified WebAuthn key still is, unless the
            # site says otherwise (docs/security.md, "Second-factor lockout").
            entries = [e for e in entries if lockout.usable_while_locked(e["method"])]
        context = {
            "form": form,
            "entries": entries,
            # No code form when every eligible factor is answered otherwise (WebAuthn at level phr).
            "takes_code": any(e["method"].takes_code for e in entries),
            # The first factor answered by a typed code (a WebAuthn entry has no radio button).
            "selected": selected or next((d for d in self.devices if method_of(d).takes_code), None),
            "next": self.next_url,
            # Explicit: the page is also the answer to a login POST (mfa_oauth.oauth.after_login).
            "action": self.request.get_full_path(),
            "error": error,
            "info": info,
            "locked": lock.locked,
            "lock": lock,
            "locked_message": lockout.message(lock, passkey=bool(entries)) if lock.locked else "",
            "extras": extras.collect(self.request, self.next_url),
        }
        return render(self.request, self.template_name, context, status=status)


def _see_other(url: str) -> HttpResponse:
    # 303: a POST carrying a code is never answered with 307 (RFC 9700 §4.12).
    response = HttpResponse(status=303)
    response["Location"] = url
    return response


def _int(value, default: int) -> int:
    try:
        return max(0, min(int(value), 10))
    except (TypeError, ValueError):
        return default
