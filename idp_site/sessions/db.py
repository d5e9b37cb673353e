"""``SESSION_ENGINE = "idp_site.sessions.db"``: Django's db engine with lean key rotation."""

from django.contrib.sessions.backends import db

from . import LeanRotationMixin


class SessionStore(LeanRotationMixin, db.SessionStore):
    pass
