"""The test settings without the ``OAUTH2_PROVIDER_*_MODEL`` names: a project that leaves DOT's
model settings at DOT's defaults (tests/package/test_migrations.py)."""

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

for _name in [n for n in list(globals()) if n.startswith("OAUTH2_PROVIDER_") and n.endswith("_MODEL")]:
    del globals()[_name]

DATABASES = {**DATABASES, "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
