"""The finance app's per-browser state, in the database (idp_site.demo.finance).

A relying party that runs on several workers or nodes must find, at the callback, the request it
pushed on another one: the PKCE verifier and the DPoP private key. The site's cache is per process in
the embedded default (LocMem), so the state lives in a table that every worker shares. The browser
holds only a random reference in an httponly cookie; the row is keyed by its SHA-256, so the table
alone does not let anyone act as a browser.
"""

from __future__ import annotations

from django.db import models


class FinanceAppState(models.Model):
    # SHA-256 (hex) of the cookie's random reference.
    key = models.CharField(max_length=64, primary_key=True)
    # The serialized pending authorization request (requests-oauth2client's AuthorizationRequestSerializer:
    # PKCE verifier, DPoP key, state); emptied by the one callback that claims it (a conditional UPDATE).
    pending = models.TextField(blank=True, default="")
    # What the page shows: the accounts asked for, the token (serialized, with its DPoP key), the last
    # reading, the answer without the key, an error message.
    data = models.JSONField(default=dict, blank=True)
    # After this the row is no state at all; expired rows are deleted when a new connection starts.
    expires = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "finance app browser state"
