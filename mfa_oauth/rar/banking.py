"""Two open-banking detail types, shaped after the examples of RFC 9396 §2 and §A.3.

``account_information``: read access to named accounts. ``payment_initiation``: one transfer of an
amount to a creditor. A site replaces them with :func:`mfa_oauth.rar.register`.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .registry import register

_ACCOUNT = {"type": "string", "minLength": 4, "maxLength": 34, "pattern": "^[A-Za-z0-9]+$"}

ACCOUNT_INFORMATION = {
    "type": "object",
    "required": ["type", "actions", "accounts"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "account_information"},
        "actions": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"enum": ["read_balances", "read_transactions"]},
        },
        "accounts": {"type": "array", "minItems": 1, "maxItems": 10, "uniqueItems": True, "items": _ACCOUNT},
        "until": {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    },
}

PAYMENT_INITIATION = {
    "type": "object",
    "required": ["type", "instructedAmount", "creditorName", "creditorAccount"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "payment_initiation"},
        "instructedAmount": {
            "type": "object",
            "required": ["currency", "amount"],
            "additionalProperties": False,
            "properties": {
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "amount": {"type": "string", "pattern": "^[0-9]{1,9}(\\.[0-9]{1,2})?$"},
            },
        },
        "creditorName": {"type": "string", "minLength": 1, "maxLength": 70},
        "creditorAccount": {
            "type": "object",
            "required": ["iban"],
            "additionalProperties": False,
            "properties": {"iban": _ACCOUNT},
        },
    },
}


def _masked(account: str) -> str:
    return "•••• " + account[-4:]


def describe_account_information(detail: dict) -> str:
    actions = set(detail["actions"])
    if actions == {"read_balances", "read_transactions"}:
        what = _("Read the balance and transactions")
    elif actions == {"read_balances"}:
        what = _("Read the balance")
    else:
        what = _("Read the transactions")
    accounts = ", ".join(_masked(a) for a in detail["accounts"])
    sentence = _("%(what)s of account(s) %(accounts)s") % {"what": what, "accounts": accounts}
    if detail.get("until"):
        sentence += " " + _("until %(date)s") % {"date": detail["until"]}
    return sentence


def describe_payment_initiation(detail: dict) -> str:
    amount = detail["instructedAmount"]
    return _("Pay %(amount)s %(currency)s once to %(name)s (account %(account)s)") % {
        "amount": amount["amount"],
        "currency": amount["currency"],
        "name": detail["creditorName"],
        "account": _masked(detail["creditorAccount"]["iban"]),
    }


register("account_information", ACCOUNT_INFORMATION, describe_account_information)
register("payment_initiation", PAYMENT_INITIATION, describe_payment_initiation)
