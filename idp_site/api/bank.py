"""The demo bank's accounts: two per user (current and savings), with made-up transactions.

Derived from the user's id, so every demo user has them without a table. The account-information API
serves an account only when the token's RFC 9396 ``account_information`` details name it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    balance: str
    currency: str = "EUR"


def accounts_of(user) -> list[Account]:
    base = f"{user.pk:08d}"
    return [
        Account(f"DE89{base}0001", "Current account", f"{1000 + user.pk * 7 % 900}.42"),
        Account(f"DE89{base}0002", "Savings account", f"{5000 + user.pk * 13 % 4000}.00"),
    ]


def transactions_of(account: Account) -> list[dict]:
    seed = int(account.id[-4:])
    return [
        {"date": f"2026-11-0{day + 1}", "amount": f"-{10 + seed * day % 90}.{day * 7:02d}", "text": text}
        for day, text in enumerate(("Grocery store", "Train ticket", "Coffee"))
    ]


def granted_accounts(token_info, action: str) -> set[str]:
    """Account ids the token's account_information details allow ``action`` on."""
    granted: set[str] = set()
    for detail in token_info.authorization_details:
        if detail.get("type") == "account_information" and action in (detail.get("actions") or ()):
            granted.update(a for a in detail.get("accounts") or () if isinstance(a, str))
    return granted
