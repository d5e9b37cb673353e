"""The SMS factor's refusals, in a module of their own so that the models, the service, the limits and
the delivery can all raise them without importing one another."""

from __future__ import annotations

from ..errors import UserFacingError


class SMSRefused(UserFacingError):
    """Nothing was sent; ``user_message`` says why (the challenge page shows it)."""

    def __init__(self, user_message: str, retry_after: int | None = None) -> None:
        super().__init__(user_message, retry_after=retry_after)


class BrokerUnavailable(SMSRefused):
    """The code was stored and its row stays queued; the sweep sends it once the broker is back."""


class LimitReached(UserFacingError):
    """A send limit (cooldown, per number/user/IP/site window, country) says no; ``retry_after`` says
    when a slot frees (0: never, e.g. a country the site does not text)."""

    retry_after: int

    def __init__(self, user_message: str, retry_after: int) -> None:
        super().__init__(user_message, retry_after=retry_after)
