"""The security page (``/account/security/``) and its changes.

Reading the page needs a completed login (a user with a second factor must have used it in this
session); every change needs a *fresh* second factor (``fresh_mfa_required``, FRESH_MFA_WINDOW).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import devices_for_user
from django_otp.models import Device

from ..adapter import get_adapter, get_form_class
from ..backup_codes import flows as backup_flows
from ..backup_codes import sealing
from ..backup_codes.models import BackupCodeDevice
from ..conf import settings as mfa_settings
from ..enrollment import available
from ..freshness import complete_sign_in_required, fresh_mfa_required
from ..methods import confirmed_devices, method_of
from ..redirects import safe_next, see_other, with_next
from ..signals import factor_removed, factor_renamed
from .rules import is_recovery, requirement

# The one-time id of the download form of the set just shown (never the codes: they are sealed in
# the page, mfa_oauth.backup_codes.sealing).
DOWNLOAD_ID_KEY = "mfa_oauth.account.backup_codes_download"


def _security_url() -> str:
    return reverse("mfa_oauth_account:security")


def _own_device(request: HttpRequest, persistent_id: str, *, pending_ok: bool = False) -> Device | None:
    if not persistent_id or len(persistent_id) > 200:
        return None
    try:
        device = Device.from_persistent_id(persistent_id)
    except (AttributeError, OverflowError, ValueError):
        # django-otp answers a non-device model label ("auth.user/1") with AttributeError.
        return None
    if device is None or device.user_id != request.user.pk:
        return None
    if not device.confirmed and not (pending_ok and _verification_url(device)):
        return None
    return device


def _verification_url(device: Any) -> str:
    """Where the user verifies an unconfirmed device, if its factor offers that (the SMS factor
    does, for numbers an operator entered or that the user left unverified): "" otherwise."""
    url = getattr(device, "verification_url", None)
    return url() if callable(url) else ""


def pending_entries(user: Any) -> list[dict]:
    """The user's unconfirmed devices that can still be verified.

    All devices, not ``confirmed=False``: a factor may count an unconfirmed device as usable
    (the SMS factor's numbers assigned by an operator), and it is still pending here."""
    entries = []
    for device in devices_for_user(user, confirmed=None):
        url = "" if device.confirmed else _verification_url(device)
        if url:
            entries.append({"device": device, "method": method_of(device), "verify_url": url})
    return entries


def _prefix(device: Any) -> str:
    return device.persistent_id.replace(".", "-").replace("/", "-")


def _entry(device: Any) -> dict:
    method = method_of(device)
    return {
        "device": device,
        "method": method,
        "recovery": is_recovery(device),
        "created_at": getattr(device, "created_at", None),
        "last_used_at": getattr(device, "last_used_at", None),
        "remaining": device.remaining if isinstance(device, BackupCodeDevice) else None,
        "rename_form": get_form_class("rename")(initial={"name": device.name}, prefix=_prefix(device)),
    }


@never_cache
@complete_sign_in_required
def security(request: HttpRequest) -> HttpResponse:
    devices = [d for d in confirmed_devices(request.user) if d.confirmed]
    entries = [_entry(d) for d in devices]
    rule = requirement(request.user)
    # Sent here to add a factor on the way somewhere (an app asking for a security key): each
    # enrollment comes back here, and the page offers the way on.
    continue_url = safe_next(request, request.GET.get("next"), default=_security_url())
    continue_url = "" if continue_url == _security_url() else continue_url
    next_url = with_next(_security_url(), continue_url) if continue_url else _security_url()
    query = urlencode({"next": next_url})
    enrollments = [{"enrollment": e, "url": f"{reverse(e.url_name)}?{query}"} for e in available()]
    pending = pending_entries(request.user)
    for entry in pending:
        entry["verify_url"] = f"{entry['verify_url']}?{query}"
    return render(
        request,
        "mfa_oauth/account/security.html",
        {
            "factors": [e for e in entries if not e["recovery"]],
            "recovery": [e for e in entries if e["recovery"]],
            "has_primary": any(not e["recovery"] for e in entries),
            "pending": pending,
            "enrollments": enrollments,
            "requirement": rule,
            "fresh_minutes": max(1, mfa_settings.FRESH_MFA_WINDOW // 60),
            "continue_url": continue_url,
        },
    )


@fresh_mfa_required(reason=gettext_lazy("rename this factor"))
def rename(request: HttpRequest, persistent_id: str) -> HttpResponse:
    if request.method != "POST":
        # Back from the step-up with a GET: the form lives on the security page.
        return see_other(_security_url())
    device = _own_device(request, persistent_id)
    if device is None:
        messages.error(request, _("That factor is not one of yours."))
        return see_other(_security_url())
    form = get_form_class("rename")(request.POST, prefix=_prefix(device))
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("name", [_("Choose another name.")])))
        return see_other(_security_url())
    old_name, new_name = device.name, form.cleaned_data["name"]
    if new_name != old_name:
        type(device).objects.filter(pk=device.pk).update(name=new_name)
        device.name = new_name
        factor_renamed.send(
            sender=type(device),
            request=request,
            user=request.user,
            device=device,
            method=method_of(device).name,
            old_name=old_name,
            new_name=new_name,
        )
    messages.success(request, _("Renamed to “%(name)s”.") % {"name": new_name})
    return see_other(_security_url())


@never_cache
@fresh_mfa_required(reason=gettext_lazy("remove this factor"))
def remove(request, persistent_id: str):
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    device = _own_device(request, persistent_id, pending_ok=True)
    if device is None:
        messages.error(request, _("That factor is not one of yours."))
        return see_other(_security_url())
    # An unconfirmed device protects nothing, so removing it is never refused.
    refusal = get_adapter().get_removal_refusal(request.user, device) if device.confirmed else None
    if request.method == "GET" or refusal:
        return render(
            request,
            "mfa_oauth/account/remove.html",
            {"entry": _entry(device), "refusal": refusal},
            status=409 if refusal and request.method == "POST" else 200,
        )
    with transaction.atomic():
        # The user row lock serialises two removals racing to leave no factor behind.
        get_user_model()._default_manager.select_for_update().filter(pk=request.user.pk).first()
        refusal = get_adapter().get_removal_refusal(request.user, device) if device.confirmed else None
        if refusal is None:
            pk = device.pk
            device.delete()
            device.pk = pk  # Django clears it on delete; receivers (audit) still name the device
            # A pending number an operator entered was announced when added, so its removal is too.
            if device.confirmed or getattr(device, "assigned", False):
                factor_removed.send(
                    sender=type(device),
                    request=request,
                    user=request.user,
                    device=device,
                    method=method_of(device).name,
                )
    if refusal:
        return render(
            request, "mfa_oauth/account/remove.html", {"entry": _entry(device), "refusal": refusal}, status=409
        )
    messages.success(request, _("Removed. It can no longer be used to sign in."))
    return see_other(_security_url())


@never_cache
@fresh_mfa_required(reason=gettext_lazy("create new backup codes"))
def backup_codes(request):
    """GET: confirm; POST: a new set (the old one stops working), shown once on the answer to this POST."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "GET":
        existing = BackupCodeDevice.objects.filter(user=request.user).first()
        return render(request, "mfa_oauth/account/backup_codes_confirm.html", {"existing": existing})
    if not any(not is_recovery(d) for d in confirmed_devices(request.user)):
        messages.error(request, _("Add an authenticator app or another factor first: backup codes back one up."))
        return see_other(_security_url())
    codes = backup_flows.generate(request.user, request=request)
    # Shown in this response only; the download form carries them sealed, the session only the
    # form's one-time id (docs/security.md "Backup codes").
    download_id = sealing.new_download_id()
    request.session[DOWNLOAD_ID_KEY] = download_id
    sealed = sealing.seal(codes, user_id=request.user.pk, download_id=download_id)
    response = render(request, "mfa_oauth/account/backup_codes.html", {"codes": codes, "sealed": sealed})
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@complete_sign_in_required
def backup_codes_download(request: HttpRequest) -> HttpResponse:
    """The codes just shown, once, as a text file, from the seal the page's form posts back.

    No fresh second factor is asked here: the download reveals nothing the page did not show, and
    only to the session that was shown it, within minutes (the seal names its one-time id)."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    download_id = request.session.get(DOWNLOAD_ID_KEY)
    codes = None
    if request.method == "POST":
        codes = sealing.unseal(request.POST.get("sealed", ""), user_id=request.user.pk, download_id=download_id)
    if codes is None:
        messages.error(
            request, _("Those codes can no longer be downloaded. Create a new set if you did not save them.")
        )
        return see_other(_security_url())
    request.session.pop(DOWNLOAD_ID_KEY, None)  # once
    username = request.user.get_username()
    lines = [
        _("Backup codes for %(user)s (%(site)s)") % {"user": username, "site": request.get_host()},
        _("Each code works once. Keep them somewhere safe."),
        "",
        *codes,
        "",
    ]
    response = HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="backup-codes.txt"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@complete_sign_in_required
def backup_codes_done(request: HttpRequest) -> HttpResponse:
    request.session.pop(DOWNLOAD_ID_KEY, None)  # the page's download form stops working
    return see_other(_security_url())
