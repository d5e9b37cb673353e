"""``SESSION_ENGINE = "idp_site.sessions.cached_db"``: Django's cached_db engine with lean key rotation."""

from django.contrib.sessions.backends import cached_db

from . import LeanRotationMixin


class SessionStore(LeanRotationMixin, cached_db.SessionStore):
    def _after_delete(self, session_key: str) -> None:
        self._cache.delete(self.cache_key_prefix + session_key)
