"""Phone numbers: parsed and judged with ``phonenumbers``, stored in E.164, shown masked."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _

from ..conf import settings as mfa_settings
from ..errors import UserFacingError


class InvalidNumber(UserFacingError, ValueError):
    """A number we will not text; ``user_message`` says why in words a user understands."""


def parse(raw: str) -> phonenumbers.PhoneNumber:
    """The number in ``raw`` if it is one we may text, else :class:`InvalidNumber`."""
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise InvalidNumber(_("Enter a phone number, starting with + and the country code."))
    try:
        number = phonenumbers.parse(text, mfa_settings.SMS_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidNumber(
            _("That is not a phone number. Type it with + and the country code, e.g. +44 7700 900123.")
        ) from None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise InvalidNumber(_("That phone number is incomplete or does not exist. Check the digits."))
    region = phonenumbers.region_code_for_number(number)
    allowed = {c.upper() for c in mfa_settings.SMS_ALLOWED_COUNTRIES}
    if allowed and region not in allowed:
        message = _("We cannot send text messages to numbers in that country (%(region)s).")
        raise InvalidNumber(message % {"region": region})
    kind = phonenumbers.number_type(number)
    allowed_types = {getattr(phonenumbers.PhoneNumberType, name) for name in mfa_settings.SMS_ALLOWED_NUMBER_TYPES}
    if kind not in allowed_types:
        raise InvalidNumber(
            _("That number cannot receive our text messages (%(kind)s). Use a mobile number.")
            % {"kind": _type_name(kind)}
        )
    return number


def to_e164(raw: str) -> str:
    return phonenumbers.format_number(parse(raw), phonenumbers.PhoneNumberFormat.E164)


def country_of(e164: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or ""
    except phonenumbers.NumberParseException:
        return ""


def mask(e164: str) -> str:
    """``+1 ••• ••• 0123``: the country code and the last four digits, the layout kept."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "•••"
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    prefix = f"+{number.country_code}"
    rest = formatted[len(prefix) :]
    digits_seen = sum(ch.isdigit() for ch in rest)
    keep_from = digits_seen - 4
    out, index = [], 0
    for ch in rest:
        if ch.isdigit():
            out.append(ch if index >= keep_from else "•")
            index += 1
        elif ch in " -":
            out.append(" ")
        # brackets and other punctuation are dropped: they would hint at the hidden digits' layout
    return prefix + "".join(out)


def _type_name(kind: int) -> str:
    names = {
        phonenumbers.PhoneNumberType.FIXED_LINE: _("landline"),
        phonenumbers.PhoneNumberType.PREMIUM_RATE: _("premium-rate"),
        phonenumbers.PhoneNumberType.TOLL_FREE: _("toll-free"),
        phonenumbers.PhoneNumberType.SHARED_COST: _("shared-cost"),
        phonenumbers.PhoneNumberType.VOIP: _("internet phone"),
        phonenumbers.PhoneNumberType.PAGER: _("pager"),
        phonenumbers.PhoneNumberType.UAN: _("company number"),
        phonenumbers.PhoneNumberType.VOICEMAIL: _("voicemail"),
        phonenumbers.PhoneNumberType.PERSONAL_NUMBER: _("personal forwarding number"),
    }
    return str(names.get(kind, _("not a mobile number")))
