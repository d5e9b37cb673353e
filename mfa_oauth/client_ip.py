"""The client's IP address, proxy-aware only when the operator names the proxies to trust.

``X-Forwarded-For`` is written by whoever sends the request, so believing it by default would let
an attacker pick a fresh address for every guess and walk past every per-IP limit. The default is
therefore ``REMOTE_ADDR`` alone. An operator who runs the site behind reverse proxies lists their
addresses or networks in ``MFA_OAUTH["TRUSTED_PROXIES"]``; then, and only when the connection
really comes from one of them, the header is read from the right (each proxy appends the address
it saw) and the first address that is not a trusted proxy is the client (docs/security.md,
"Client IP"). Used by the login throttle, the SMS limits, the audit log and the notifications, so
they all agree on who the client is.
"""

from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache

from django.http import HttpRequest

from .conf import settings as mfa_settings

logger = logging.getLogger("mfa_oauth.client_ip")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(value: object) -> Address | None:
    """An IP address from a header or REMOTE_ADDR value, or None for anything else."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 64:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
    return address


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    # strict=False: "10.0.0.1/8" means the network 10.0.0.0/8; a bad entry is system check mfa_oauth.E020.
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def trusted_proxies() -> tuple[Network, ...]:
    """The networks of ``MFA_OAUTH["TRUSTED_PROXIES"]`` (raises ValueError on a malformed entry)."""
    entries = mfa_settings.TRUSTED_PROXIES or ()
    if isinstance(entries, str):
        entries = [entries]
    return _networks(tuple(str(entry) for entry in entries))


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_address(request: HttpRequest | None) -> Address | None:
    """The client's address as an ``ipaddress`` object, or None when the request has none."""
    meta = getattr(request, "META", None) if request is not None else None
    if not meta:
        return None
    current = parse_address(meta.get("REMOTE_ADDR"))
    try:
        networks = trusted_proxies()
    except (TypeError, ValueError):
        # A malformed setting (system check mfa_oauth.E020) trusts no header rather than failing the request.
        logger.error("MFA_OAUTH['TRUSTED_PROXIES'] is malformed; using REMOTE_ADDR only")
        networks = ()
    if current is None or not networks or not _trusted(current, networks):
        return current
    hops = [hop for hop in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if hop.strip()]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            # Not written by a proxy we trust (each appends a bare address): keep the last address
            # that was, rather than believe anything further left.
            break
        current = address
        if not _trusted(address, networks):
            break
    return current


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's IP address as text (for logs, audit rows and GenericIPAddressField), or None."""
    address = client_address(request)
    return str(address) if address is not None else None
