"""Database routers DOT's checks tests install by dotted path (no query runs through them:
DOT's token-configuration check only asks where each model would be written)."""

from oauth2_provider.settings import oauth2_settings


class AlphaRouter:
    def db_for_read(self, model, **hints):
        return "alpha"

    def db_for_write(self, model, **hints):
        return "alpha"


class CrossDatabaseRouter:
    """The access token model in another database than the other token models."""

    def db_for_write(self, model, **hints):
        if model._meta.label == oauth2_settings.ACCESS_TOKEN_MODEL:
            return "beta"
        return None

    def db_for_read(self, model, **hints):
        return self.db_for_write(model, **hints)
