"""An OAuth client by its ``client_id``, with the one-to-one rows mfa_oauth keeps beside it.

The authorization view's gate needs the client's policy (``mfa_policy``) and security profile
(``mfa_security``: PAR, private_key_jwt), the challenge page also its remembered-browser policy
(``browser_trust``, with ``mfa_oauth.trust`` installed; joined only when asked for, as the
authorization endpoint reads it only for a browser with a trust cookie). One SELECT with those joins
answers them, and within :func:`read_once` (the password POST answered with the challenge page:
``mfa_oauth.oauth.after_login``) a client is read once however many of them ask: nothing in that
request changes a client.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from oauth2_provider.models import get_application_model

from .lookups import CompiledLookup
from .read_once import ReadOnce

# A client_id longer than this is no client of ours (DOT's column is 100); not worth a query.
MAX_CLIENT_ID_LENGTH = 200

_CLIENTS = ReadOnce("mfa_oauth_clients_read_once")


def _related(browser_trust: bool) -> tuple[str, ...]:
    if browser_trust and apps.is_installed("mfa_oauth.trust"):
        return ("mfa_policy", "mfa_security", "browser_trust")
    return ("mfa_policy", "mfa_security")


# The statement compiled once per model and joined relations (mfa_oauth.lookups.CompiledLookup): the
# client read runs in most requests of a login, always the same SQL.
_by_client_id = CompiledLookup(
    lambda key, client_id: key[0].objects.select_related(*key[1]).filter(client_id=client_id)
)


# Within the block, by_client_id() reads each client once.
read_once = _CLIENTS.scope


def by_client_id(client_id: Any, *, browser_trust: bool = False) -> Any | None:
    """The client (DOT's application model) named ``client_id``, or None; ``browser_trust``: with its
    remembered-browser policy joined (a client read without it loads it on first use)."""
    if not isinstance(client_id, str) or not client_id or len(client_id) > MAX_CLIENT_ID_LENGTH:
        return None
    return _CLIENTS.get(
        client_id, lambda: _by_client_id.get(client_id, key=(get_application_model(), _related(browser_trust)))
    )
