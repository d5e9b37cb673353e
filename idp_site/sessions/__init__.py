"""Django's database-backed session engines, two statements lighter per session-key rotation.

Set as ``SESSION_ENGINE`` (Django's documented extension point, "Extending database-backed session
engines"). A session key is rotated at every login and again when a second factor completes
(SECURITY.md H3). Django's own engines spend a SELECT checking that a fresh 32-character random key
is unused before INSERTing it, and a SELECT loading the old row before DELETEing it. Here the INSERT
itself is the uniqueness check (a collision raises ``CreateError`` and ``create()`` draws another
key, exactly as Django already handles a race between the check and the INSERT), and the old row
is deleted with one DELETE. And a save that would write exactly what this request already wrote
(the INSERT of a rotation, then Django's end-of-request save) is skipped.
"""

from __future__ import annotations

from django.utils.crypto import get_random_string

VALID_KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


class LeanRotationMixin:
    def _get_new_session_key(self) -> str:
        # ~165 bits: a clash is vanishingly rare, and the must_create INSERT still catches it.
        return get_random_string(32, VALID_KEY_CHARS)

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self.model.objects.filter(session_key=session_key).delete()
        self._after_delete(session_key)

    def _after_delete(self, session_key: str) -> None:
        pass

    def save(self, must_create: bool = False) -> None:
        fingerprint = self._fingerprint(must_create)
        if not must_create and fingerprint is not None and fingerprint == getattr(self, "_written", None):
            return  # this request already stored exactly this data under this key
        super().save(must_create)
        self._written = self._fingerprint(must_create)

    def _fingerprint(self, must_create: bool) -> tuple[str, bytes] | None:
        # The data includes any explicit expiry (set_expiry); the row's expire_date computed from
        # SESSION_COOKIE_AGE would only move by the milliseconds since this request's own write.
        if self.session_key is None:
            return None
        return (self.session_key, self.serializer().dumps(self._get_session(no_load=must_create)))
