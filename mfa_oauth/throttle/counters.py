"""Failure counts and waiting windows for password logins, kept in Django's cache.

Two scopes are counted for every password check: the account (the user name as typed, normalised,
so an unknown name is counted like a real one and the answer never tells them apart) and the client
IP (an IPv6 client by its /64). Each scope has two cache keys: the number of failures, and, while a
window is open, the time it closes.

An attempt (:func:`begin`) is decided before the password is checked:

1. a scope with an open window refuses at once: nothing is counted and no password is checked, so
   even the right one is refused (NIST SP 800-63B-4 §3.2.2; RFC 4226 §7.3);
2. the attempt is counted first, with the cache's atomic ``add`` + ``incr`` (RFC 4226 §7.3: a
   limit must span sessions, because guessers guess in parallel), and the count it gets is its
   ticket;
3. a ticket at or past the scope's free allowance opens that scope's next window itself, with
   ``cache.add`` (set-if-absent), *before* the password is checked: of any number of attempts
   racing past the allowance, exactly one wins the window and is checked; the others are refused
   and un-counted. The window is ``BASE_DELAY * 2**(k-1)`` for the k-th failure past the
   allowance, capped at ``MAX_DELAY``.

The right password (:meth:`Attempt.succeeded`) then closes what this attempt opened: the account
forgets its failures and window (§3.2.2: "SHOULD disregard previous failed attempts"); the IP gets
its ticket back, but keeps the failures of others, so a guesser cannot launder an address by
logging into an account of their own. A wrong password needs no further step: it was counted in 2.
An account's count is forgotten ``FORGET_AFTER`` seconds after its last failure; an IP's lasts
``IP_PERIOD`` from its first, so the allowance is a budget per period and a busy shared address
(an office, a carrier's NAT) is not locked out by a day of typos. A window always closes: no
password failure ever locks an account for good.

Every web node must see the same cache (Redis in production). When the cache cannot be reached the
attempt is refused ("unavailable"), never let through uncounted.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext, ngettext

from ..client_ip import Address
from ..conf import settings as mfa_settings

logger = logging.getLogger("mfa_oauth.throttle")

ACCOUNT = "account"
IP = "ip"
KEY_PREFIX = "mfa_oauth:login-throttle"
# Largest exponent of the doubling (2**40 seconds is far beyond any sensible MAX_DELAY).
_MAX_DOUBLINGS = 40


@dataclass(frozen=True)
class Config:
    account_free: int
    ip_free: int
    base_delay: int
    max_delay: int
    forget_after: int
    ip_period: int
    ipv6_prefix: int
    cache_alias: str

    @classmethod
    def current(cls) -> Config:
        return cls(
            account_free=int(mfa_settings.LOGIN_THROTTLE_ACCOUNT_FREE_FAILURES or 0),
            ip_free=int(mfa_settings.LOGIN_THROTTLE_IP_FREE_FAILURES or 0),
            base_delay=max(1, int(mfa_settings.LOGIN_THROTTLE_BASE_DELAY)),
            max_delay=max(1, int(mfa_settings.LOGIN_THROTTLE_MAX_DELAY)),
            forget_after=max(1, int(mfa_settings.LOGIN_THROTTLE_FORGET_AFTER)),
            ip_period=max(1, int(mfa_settings.LOGIN_THROTTLE_IP_PERIOD)),
            ipv6_prefix=int(mfa_settings.LOGIN_THROTTLE_IPV6_PREFIX),
            cache_alias=str(mfa_settings.LOGIN_THROTTLE_CACHE),
        )

    def window(self, past_allowance: int) -> int:
        """Seconds of the window the ``past_allowance``-th failure past the free ones opens (1-based)."""
        doublings = min(max(past_allowance, 1) - 1, _MAX_DOUBLINGS)
        return min(self.base_delay * 2**doublings, self.max_delay)


@dataclass(frozen=True)
class Refusal:
    """Why a password login is refused before its password is checked, and for how long."""

    retry_after: int  # seconds
    scopes: tuple[str, ...] = ()  # ACCOUNT and/or IP; empty when the counters could not be read
    unavailable: bool = False

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))

    @property
    def message(self) -> str:
        if self.unavailable:
            return gettext("Signing in with a password is unavailable right now. Try again in a few minutes.")
        return ngettext(
            "Too many failed attempts. Try again in %(minutes)d minute.",
            "Too many failed attempts. Try again in %(minutes)d minutes.",
            self.minutes,
        ) % {"minutes": self.minutes}

    def audit_detail(self) -> dict:
        if self.unavailable:
            return {"throttled": True, "reason": "unavailable"}
        return {"throttled": True, "scopes": list(self.scopes), "retry_after": self.retry_after}


class LoginThrottled(PermissionDenied):
    """Raised by the backend: ``authenticate()`` stops at a ``PermissionDenied`` (Django's documented
    contract for backends), so no later backend checks the password either."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


@dataclass(frozen=True)
class Scope:
    name: str
    digest: str
    free: int
    lifetime: int  # seconds a count lasts
    sliding: bool  # from the last failure (True) or from the first (False)

    @property
    def failures_key(self) -> str:
        return f"{KEY_PREFIX}:{self.name}:{self.digest}:failures"

    @property
    def window_key(self) -> str:
        return f"{KEY_PREFIX}:{self.name}:{self.digest}:window"


def normalise_username(username: str) -> str:
    # NFKC as Django's UsernameField does, then case-folded: "Alice" and "alice" share one count, so
    # a guesser gains nothing by varying the case (a case-insensitive login would accept both).
    return unicodedata.normalize("NFKC", str(username)).strip().casefold()


def _ip_bucket(address: Address, prefix: int) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    return str(address)


def _digest(scope: str, value: str) -> str:
    # Keyed with SECRET_KEY: the cache holds no user names and no addresses in clear text.
    return salted_hmac(f"mfa_oauth.throttle.{scope}", value, algorithm="sha256").hexdigest()[:40]


def scopes_for(username: str, address: Address | None, config: Config) -> tuple[Scope, ...]:
    scopes = []
    if config.account_free > 0:
        digest = _digest(ACCOUNT, normalise_username(username))
        scopes.append(Scope(ACCOUNT, digest, config.account_free, config.forget_after, sliding=True))
    if config.ip_free > 0 and address is not None:
        digest = _digest(IP, _ip_bucket(address, config.ipv6_prefix))
        scopes.append(Scope(IP, digest, config.ip_free, config.ip_period, sliding=False))
    return tuple(scopes)


@dataclass(frozen=True)
class Ticket:
    scope: Scope
    count: int
    opened_window: bool


@dataclass(frozen=True)
class Attempt:
    """One password check that has been counted; settle it with :meth:`succeeded` when it passes."""

    tickets: tuple[Ticket, ...]
    cache_alias: str

    def succeeded(self) -> None:
        if not self.tickets:
            return
        cache = caches[self.cache_alias]
        try:
            for ticket in self.tickets:
                if ticket.scope.name == ACCOUNT:
                    cache.delete_many([ticket.scope.failures_key, ticket.scope.window_key])
                    continue
                _decrement(cache, ticket.scope.failures_key)
                if ticket.opened_window:
                    cache.delete(ticket.scope.window_key)
        except Exception:  # the login itself stands; the counts fade with FORGET_AFTER
            logger.exception("could not clear the login throttle after a successful login")


def _open_windows(cache: Any, scopes: tuple[Scope, ...], now: float) -> Refusal | None:
    found = cache.get_many([scope.window_key for scope in scopes])
    closing = {scope.name: found[scope.window_key] for scope in scopes if scope.window_key in found}
    live = {name: until for name, until in closing.items() if isinstance(until, int | float) and until > now}
    if not live:
        return None
    return Refusal(retry_after=max(1, math.ceil(max(live.values()) - now)), scopes=tuple(sorted(live)))


def _increment(cache: Any, scope: Scope) -> int:
    # add + incr: atomic on Redis (SET NX, INCR) and on Django's other backends; a key that expires
    # between the two is added again.
    key = scope.failures_key
    for _ in range(3):
        cache.add(key, 0, timeout=scope.lifetime)
        try:
            count = int(cache.incr(key))
        except ValueError:
            continue
        # Sliding: forgotten FORGET_AFTER after the last failure. Either way the first count sets the
        # lifetime, also when Redis's INCR re-created a key that expired just before it (no TTL then).
        if scope.sliding or count == 1:
            cache.touch(key, timeout=scope.lifetime)
        return count
    raise RuntimeError(f"the cache cannot count (key {key!r}); is LOGIN_THROTTLE_CACHE a real shared cache?")


def _decrement(cache: Any, key: str) -> None:
    try:
        if cache.decr(key) < 0:
            cache.delete(key)
    except ValueError:
        pass  # already forgotten


def begin(username: str, address: Address | None) -> Attempt:
    """Count a password attempt for ``username`` from ``address``, or raise :class:`LoginThrottled`."""
    config = Config.current()
    scopes = scopes_for(username, address, config)
    if not scopes:
        return Attempt((), config.cache_alias)
    now = time.time()
    try:
        cache = caches[config.cache_alias]
        refusal = _open_windows(cache, scopes, now)
        if refusal is not None:
            raise LoginThrottled(refusal)
        counted = [(scope, _increment(cache, scope)) for scope in scopes]
        tickets: list[Ticket] = []
        for scope, count in counted:
            if count < scope.free:
                tickets.append(Ticket(scope, count, opened_window=False))
                continue
            window = config.window(count - scope.free + 1)
            if cache.add(scope.window_key, now + window, timeout=window):
                tickets.append(Ticket(scope, count, opened_window=True))
                continue
            # Another attempt opened this scope's window first: this one is not checked, and not counted.
            for ticket in tickets:
                if ticket.opened_window:
                    cache.delete(ticket.scope.window_key)
            for other, _count in counted:
                _decrement(cache, other.failures_key)
            raise LoginThrottled(_open_windows(cache, scopes, now) or Refusal(retry_after=1, scopes=(scope.name,)))
        return Attempt(tuple(tickets), config.cache_alias)
    except LoginThrottled:
        raise
    except Exception:
        # Deny by default: a guess that cannot be counted is not checked.
        logger.exception("login throttle unavailable: the password was not checked")
        raise LoginThrottled(Refusal(retry_after=60, unavailable=True)) from None
