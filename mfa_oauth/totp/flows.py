"""TOTP enrollment on django-otp's TOTPDevice: a fresh secret, shown once, confirmed by a code."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..adapter import get_adapter

PENDING_SESSION_KEY = "mfa_oauth.totp.pending"


def start(request: Any, name: str = "") -> TOTPDevice:
    """A new unconfirmed device; any earlier unconfirmed one of this session is discarded, so a
    reload shows a new secret rather than the old one again. Unnamed by default: the pages call it by
    its kind ("Authenticator app"), and the user may name it on the security page."""
    discard_pending(request)
    device = TOTPDevice.objects.create(user=request.user, name=name[:64], confirmed=False)
    request.session[PENDING_SESSION_KEY] = device.pk
    return device


def pending(request: Any) -> TOTPDevice | None:
    pk = request.session.get(PENDING_SESSION_KEY)
    if pk is None:
        return None
    return TOTPDevice.objects.filter(pk=pk, user=request.user, confirmed=False).first()


def discard_pending(request: Any) -> None:
    pk = request.session.pop(PENDING_SESSION_KEY, None)
    if pk is not None:
        TOTPDevice.objects.filter(pk=pk, user=request.user, confirmed=False).delete()


def confirm(request: Any, device: TOTPDevice, token: str) -> bool:
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not locked.verify_token(token):
            return False
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
    request.session.pop(PENDING_SESSION_KEY, None)
    device.refresh_from_db()
    return True


def base32_secret(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def otpauth_uri(device: TOTPDevice) -> str:
    issuer = get_adapter().get_totp_issuer(device)
    label = quote(f"{issuer}:{device.user.get_username()}")
    return (
        f"otpauth://totp/{label}?secret={base32_secret(device)}&issuer={quote(issuer)}"
        f"&algorithm=SHA1&digits={device.digits}&period={device.step}"
    )


def qr_svg(data: str) -> str:
    """An inline SVG (no Pillow, no external image request, nothing a strict CSP blocks)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def qr_terminal(data: str) -> str:
    """The QR code drawn with block characters, for command-line enrollment."""
    qr = qrcode.QRCode(border=2)
    qr.add_data(data)
    qr.make(fit=True)
    rows = qr.get_matrix()
    lines = []
    for top, bottom in zip(rows[::2], rows[1::2] + [[False] * len(rows[0])]):
        lines.append("".join("█" if t and b else "▀" if t else "▄" if b else " " for t, b in zip(top, bottom)))
    return "\n".join(lines)
