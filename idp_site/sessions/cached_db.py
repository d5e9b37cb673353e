"""``SESSION_ENGINE = "idp_site.sessions.cached_db"``: Django's cached_db engine with lean key rotation."""

import logging

from django.contrib.sessions.backends import cached_db

from . import LeanRotationMixin

logger = logging.getLogger("django.contrib.sessions")


class SessionStore(LeanRotationMixin, cached_db.SessionStore):
    def _after_delete(self, session_key: str) -> None:
        self._cache.delete(self.cache_key_prefix + session_key)

    def _after_write(self) -> None:
        # What cached_db's own save() does after its database write (the moved row bypasses it).
        try:
            self._cache.set(self.cache_key, self._session, self.get_expiry_age())
        except Exception:
            logger.exception("Error saving to cache (%s)", self._cache)
