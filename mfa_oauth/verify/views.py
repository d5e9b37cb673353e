"""The challenge step: the user picks one of their confirmed factors and proves it."""

from __future__ import annotations

from collections import Counter

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache

from .. import lockout, pending
from ..adapter import get_adapter, get_form_class
from ..context import LEVEL_MFA, get_context
from ..freshness import interrupted, password_step_required
from ..methods import confirmed_device, confirmed_devices, method_of, token_may_match
from ..redirects import safe_next, see_other
from .flows import Status, code_ready, normalize_token, pick_device, throttle_message, verify

MESSAGES = {
    Status.WRONG: gettext_lazy("That code did not work. Check it and try again."),
    Status.MALFORMED: gettext_lazy("That does not look like a code for any of your factors. Check it and try again."),
}


@method_decorator(never_cache, name="dispatch")
@method_decorator(password_step_required, name="dispatch")
class VerifyView(View):
    template_name = "mfa_oauth/verify.html"

    def dispatch(self, request, *args, **kwargs):
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
        return self.render(get_form_class("challenge")(devices=self.devices))

    def post(self, request, *args, **kwargs):
        form = get_form_class("challenge")(request.POST, devices=self.devices)
        if not form.is_valid():
            return self.render(form, status=400)
        device = form.cleaned_data["device"]
        if form.cleaned_data.get("action") == "send":
            if not method_of(device).sends_challenge:
                return self.render(form, error=_("Choose where to send the code."), status=400)
            return self.send_challenge(form, device)
        raw = form.cleaned_data.get("token", "")
        device = self.code_device(device, raw)
        if device is None:
            return self.render(form, error=MESSAGES[Status.MALFORMED])
        attempt = verify(request, device, raw)
        if attempt.status is Status.OK:
            return see_other(self.next_url)
        if attempt.status is Status.EXPIRED:
            return pending.restart(request, self.next_url)
        if attempt.status is Status.THROTTLED:
            response = self.render(form, error=throttle_message(attempt.retry_after), status=429)
            response["Retry-After"] = str(attempt.retry_after or 1)
            return response
        if attempt.status is Status.UNAVAILABLE:
            message = _("This factor cannot be used right now. Use another one, or ask the help desk.")
            return self.render(form, error=message, status=503, selected=device)
        if attempt.status is Status.LOCKED:
            # The page's lock notice says it all, and until when (mfa_oauth.lockout.message).
            return self.render(form, status=403, selected=device, lock=attempt.lock)
        return self.render(form, error=str(MESSAGES[attempt.status]), selected=device)

    def code_device(self, hint, raw: str):
        """Which of the user's code factors checks ``raw``: one code field takes them all.

        The page names its first ready factor (``hint``): when the code has that factor's shape and
        would be accepted by it, it is the one (one statement, as before). Otherwise the code's shape
        and the user's other factors decide (:func:`~mfa_oauth.verify.flows.pick_device`); either way
        exactly one device is then checked, locked and saved by :func:`verify`."""
        if hint is not None and method_of(hint).takes_code and code_ready(self.request, hint):
            token = normalize_token(hint, raw)
            if token is not None and token_may_match(hint, token):
                return hint
        takes_code = [d for d in self.eligible_devices() if method_of(d).takes_code]
        ready = [d for d in takes_code if code_ready(self.request, d)]
        # A code for a factor not ready (an SMS whose code expired) is that factor's wrong code.
        return pick_device(ready, raw) or pick_device(takes_code, raw)

    def send_challenge(self, form, device) -> HttpResponse:
        # Sending changes no lock state: the factor's own check before sending (a locked account gets
        # no text) and the page after it share one read of it.
        with lockout.read_once():
            return self._send_challenge(form, device)

    def _send_challenge(self, form, device) -> HttpResponse:
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
            user_message, retry_after = getattr(error, "user_message", None), getattr(error, "retry_after", None)
            if user_message:  # a UserFacingError (mfa_oauth.errors), or a plugin's own with the same attribute
                response = self.render(form, error=str(user_message), status=429, selected=device)
                if retry_after:
                    response["Retry-After"] = str(retry_after)
                return response
            raise
        return self.render(
            get_form_class("challenge")(devices=self.devices, initial={"device": device.persistent_id}),
            info=str(message or _("Code sent.")),
            selected=device,
        )

    def render(
        self, form, *, error: str | Promise = "", info: str | Promise = "", status: int = 200, selected=None, lock=None
    ) -> HttpResponse:
        if self.request.method == "POST":  # the POST loaded only the device it names; the page lists all
            selected = selected or getattr(form, "cleaned_data", {}).get("device")
            self.devices = self.eligible_devices()
            form.devices = {d.persistent_id: d for d in self.devices}
            if selected is not None:
                selected = next((d for d in self.devices if d.persistent_id == selected.persistent_id), None)
        entries = [
            {"device": d, "method": method_of(d), "ready": method_of(d).takes_code and code_ready(self.request, d)}
            for d in self.devices
        ]
        lock = lock if lock is not None else lockout.state(self.request.user)
        if lock.locked:
            # Codes are not checked while locked; a user-verified WebAuthn key still is, unless the
            # site says otherwise (docs/security.md, "Second-factor lockout").
            entries = [e for e in entries if lockout.usable_while_locked(e["method"])]
        ready = [e for e in entries if e["ready"]]
        # The one code field lists what it takes: a factor's own name only where the user has two of a kind.
        kinds = Counter(e["method"].name for e in ready)
        for e in ready:
            name = e["device"].name if kinds[e["method"].name] > 1 else ""
            e["display"] = f"{e['method'].label}: {name}" if name else str(e["method"].label)
        if selected is None or not any(e["device"] == selected for e in ready):
            selected = ready[0]["device"] if ready else None
        context = {
            "form": form,
            "entries": entries,
            # The one code field, for every factor answered by a typed code that can be answered now
            # (an SMS only once a code was sent); none when every eligible factor is answered
            # otherwise (WebAuthn at level phr) or only "Send me a code" is possible yet.
            "takes_code": bool(ready),
            "code_entries": ready,
            "send_entries": [e for e in entries if e["method"].sends_challenge],
            # The factor the code is tried on first (a hint: see code_device).
            "selected": selected,
            "interrupted": interrupted(self.request, self.next_url),
            "next": self.next_url,
            # Explicit: the page is also the answer to a login POST (mfa_oauth.oauth.after_login).
            "action": self.request.get_full_path(),
            "error": error,
            "info": info,
            "locked": lock.locked,
            "lock": lock,
            "locked_message": lockout.message(lock, passkey=bool(entries)) if lock.locked else "",
            "extras": get_adapter().get_challenge_extras(self.request, self.next_url),
        }
        return render(self.request, self.template_name, context, status=status)


def _int(value, default: int) -> int:
    try:
        return max(0, min(int(value), 10))
    except (TypeError, ValueError):
        return default
