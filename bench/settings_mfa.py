"""Bench settings: the reference site as it is deployed, plus the SQL-count header.

``idp_site.settings`` is the embedded default, or the production settings when ``IDP_PRODUCTION=1``
is in the environment (it applies ``idp_site.production.configure`` itself), so this module follows
whichever the bench's environment selects. The only change is ``bench.sqlcount``'s middleware,
outermost so its count covers every other middleware too. ``bench/settings_plain.py`` builds on this.
"""

from idp_site.settings import *  # noqa: F403
from idp_site.settings import MIDDLEWARE

MIDDLEWARE = ["bench.sqlcount.SQLCountMiddleware", *MIDDLEWARE]
