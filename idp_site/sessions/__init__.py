"""Django's database-backed session engines, with a session-key rotation that costs one statement.

Set as ``SESSION_ENGINE`` (Django's documented extension point, "Extending database-backed session
engines"). A session key is rotated at every login and again when a second factor completes
(OWASP ASVS 7.2.4). Django's own ``cycle_key()`` spends a SELECT checking that a fresh 32-character
random key is unused, an INSERT of the session under it, a SELECT and a DELETE of the old row, and
then its SessionMiddleware UPDATEs the new row with what the request changed after the rotation.

Here ``cycle_key()`` draws the new key at once (the response's cookie and anything else in the
request see it) and the row moves to it at the request's save, with what the request wrote: one
UPDATE of the old row's key and data, or one INSERT when there was no row yet (a first login). The
old key stops working at that moment, as it does with Django's DELETE; a request that fails before
its save keeps neither the new key nor anything it wrote, as with Django. The database's unique
key is the collision check (a clash draws another key, as Django's ``create()`` does), and a save
that would write exactly what this request already wrote is skipped.
"""

from __future__ import annotations

from contextlib import nullcontext

from django.db import IntegrityError, router, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from mfa_oauth.lookups import CompiledLookup

VALID_KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
_NOT_ROTATING = object()


def _session_by_key(key, session_key):
    return key.objects.filter(session_key=session_key)


# The session row's SELECT compiled once per session model (mfa_oauth.lookups.CompiledLookup): it runs in
# every request of a login after the password step, always the same statement.
_by_key = CompiledLookup(_session_by_key)


class LeanRotationMixin:
    def _get_session_from_db(self):
        # Django's lookup (the row under this key that has not expired; none: a new, empty session),
        # with the expiry compared here instead of in the WHERE clause: the key is the primary key,
        # so it is the same row or none, and the statement has one parameter to compile once.
        found = _by_key.get(self.session_key, key=self.model)
        if found is None or found.expire_date <= timezone.now():
            self._session_key = None
            return None
        return found

    def _get_new_session_key(self) -> str:
        # ~165 bits: a clash is vanishingly rare, and the database's unique key still catches it.
        return get_random_string(32, VALID_KEY_CHARS)

    def cycle_key(self) -> None:
        data = self._session
        if self.__dict__.get("_rotating_from", _NOT_ROTATING) is _NOT_ROTATING:
            # The key of the row in the database (None: no row yet); a second rotation in the same
            # request still moves that row.
            self._rotating_from = self.session_key
        self._session_key = self._get_new_session_key()
        self._session_cache = data
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        rotating_from = self.__dict__.pop("_rotating_from", _NOT_ROTATING)
        if rotating_from is not _NOT_ROTATING:
            self._move(rotating_from)
        else:
            fingerprint = self._fingerprint(must_create)
            if not must_create and fingerprint is not None and fingerprint == getattr(self, "_written", None):
                return  # this request already stored exactly this data under this key
            super().save(must_create)
        self._written = self._fingerprint(False)

    def _move(self, old_key: str | None) -> None:
        """Store the session under its new key, replacing the row under ``old_key`` if there is one."""
        while True:
            obj = self.create_model_instance(self._get_session(no_load=True))
            fields = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
            using = router.db_for_write(self.model, instance=obj)
            # Outside a transaction each statement commits on its own and a clash (IntegrityError)
            # leaves nothing to roll back: no BEGIN/COMMIT around them. Inside one, a savepoint
            # keeps a clash from breaking the caller's transaction.
            inside = transaction.get_connection(using).in_atomic_block
            try:
                with transaction.atomic(using=using) if inside else nullcontext():
                    moved = old_key is not None and self.model.objects.using(using).filter(session_key=old_key).update(
                        **fields
                    )
                    if not moved:  # no row yet, or it was deleted meanwhile: Django's cycle_key INSERTs too
                        obj.save(force_insert=True, using=using)
            except IntegrityError:  # the new key is taken: draw another
                self._session_key = self._get_new_session_key()
                continue
            break
        if old_key is not None:
            self._after_delete(old_key)
        self._after_write()

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None or session_key == self.session_key:
            # A rotation not yet saved: the row is still under the old key (flush() after cycle_key()).
            rotating_from = self.__dict__.pop("_rotating_from", _NOT_ROTATING)
            session_key = self.session_key if rotating_from is _NOT_ROTATING else rotating_from
            if session_key is None:
                return
        self.model.objects.filter(session_key=session_key).delete()
        self._after_delete(session_key)

    def _after_delete(self, session_key: str) -> None:
        pass

    def _after_write(self) -> None:
        pass

    def _fingerprint(self, must_create: bool) -> tuple[str, bytes] | None:
        # The data includes any explicit expiry (set_expiry); the row's expire_date computed from
        # SESSION_COOKIE_AGE would only move by the milliseconds since this request's own write.
        if self.session_key is None:
            return None
        return (self.session_key, self.serializer().dumps(self._get_session(no_load=must_create)))
