"""The one base class of errors whose message is meant for the person at the browser.

Views catch :class:`UserFacingError` and show ``user_message`` as it is (it is already translated and
says what to do, never an internal detail); ``retry_after`` (seconds), when set, says when trying again
can help (the SMS limits answer 429 with it, RFC 6585 §4). Raising one means nothing was changed.
"""

from __future__ import annotations


class UserFacingError(Exception):
    def __init__(self, user_message: str, *, retry_after: int | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.retry_after = retry_after
