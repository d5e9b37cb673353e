"""System checks for a password throttle that would not hold (docs/security.md, "Password guessing")."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string

from ..client_ip import trusted_proxies
from ..conf import settings as mfa_settings
from .backends import LoginThrottleMixin

BACKEND = "mfa_oauth.throttle.backends.ThrottledModelBackend"
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


def _first_backend_throttles() -> bool:
    backends = list(getattr(settings, "AUTHENTICATION_BACKENDS", []) or [])
    if not backends:
        return False
    try:
        first = import_string(backends[0])
    except ImportError:
        return False  # Django's own start-up reports the bad path
    return isinstance(first, type) and issubclass(first, LoginThrottleMixin)


def _positive_int(name: str, *, allow_off: bool) -> bool:
    value = getattr(mfa_settings, name)
    if value is None and allow_off:
        return True
    return isinstance(value, int) and not isinstance(value, bool) and (value >= 0 if allow_off else value > 0)


@register()
def check_login_throttle(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if not _first_backend_throttles():
        messages.append(
            Warning(
                "Password guessing is not throttled: the first entry of AUTHENTICATION_BACKENDS is not a "
                "throttled backend.",
                hint=f"Put {BACKEND!r} (or your backend with mfa_oauth.throttle.backends.LoginThrottleMixin) "
                "first in AUTHENTICATION_BACKENDS.",
                id="mfa_oauth.W020",
            )
        )
    try:
        trusted_proxies()
    except (TypeError, ValueError) as error:
        messages.append(
            Error(
                f"MFA_OAUTH['TRUSTED_PROXIES'] holds an entry that is not an IP address or network: {error}.",
                hint="List addresses or CIDR networks, e.g. ['10.0.0.0/8', '2001:db8::/32'].",
                id="mfa_oauth.E020",
            )
        )
    alias = mfa_settings.LOGIN_THROTTLE_CACHE
    caches = getattr(settings, "CACHES", {}) or {}
    if alias not in caches or caches[alias].get("BACKEND") == "django.core.cache.backends.dummy.DummyCache":
        messages.append(
            Error(
                f"MFA_OAUTH['LOGIN_THROTTLE_CACHE'] is {alias!r}, which is not a cache that can count: every "
                "password login would be refused.",
                hint="Name a CACHES alias backed by Redis (or another shared cache).",
                id="mfa_oauth.E021",
            )
        )
    bad = [
        name
        for name, allow_off in (
            ("LOGIN_THROTTLE_ACCOUNT_FREE_FAILURES", True),
            ("LOGIN_THROTTLE_IP_FREE_FAILURES", True),
            ("LOGIN_THROTTLE_BASE_DELAY", False),
            ("LOGIN_THROTTLE_MAX_DELAY", False),
            ("LOGIN_THROTTLE_FORGET_AFTER", False),
            ("LOGIN_THROTTLE_IP_PERIOD", False),
        )
        if not _positive_int(name, allow_off=allow_off)
    ]
    prefix = mfa_settings.LOGIN_THROTTLE_IPV6_PREFIX
    if not isinstance(prefix, int) or not 1 <= prefix <= 128:
        bad.append("LOGIN_THROTTLE_IPV6_PREFIX")
    if not bad and mfa_settings.LOGIN_THROTTLE_MAX_DELAY < mfa_settings.LOGIN_THROTTLE_BASE_DELAY:
        bad.append("LOGIN_THROTTLE_MAX_DELAY")
    if bad:
        messages.append(
            Error(
                "Login throttle settings out of range: " + ", ".join(f"MFA_OAUTH[{name!r}]" for name in bad) + ".",
                hint="Whole seconds / counts as documented in mfa_oauth/conf.py; MAX_DELAY at least BASE_DELAY; "
                "the free-failure counts may be 0 or None to turn one scope off; the IPv6 prefix 1..128.",
                id="mfa_oauth.E022",
            )
        )
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and not (mfa_settings.TRUSTED_PROXIES or ()):
        messages.append(
            Warning(
                "SECURE_PROXY_SSL_HEADER says the site is behind a proxy, but MFA_OAUTH['TRUSTED_PROXIES'] is "
                "empty: every client looks like the proxy, so one guesser can make the per-IP login throttle "
                "(and the SMS per-IP cap) refuse everyone.",
                hint="List the proxy's addresses or network in MFA_OAUTH['TRUSTED_PROXIES'] "
                "(MFA_TRUSTED_PROXIES on the reference site).",
                id="mfa_oauth.W022",
            )
        )
    return messages


@register(deploy=True)
def check_login_throttle_cache_is_shared(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    alias = mfa_settings.LOGIN_THROTTLE_CACHE
    backend = ((getattr(settings, "CACHES", {}) or {}).get(alias) or {}).get("BACKEND", "")
    if backend in PER_PROCESS_CACHES:
        return [
            Warning(
                f"The login throttle counts in the cache {alias!r} ({backend}), which each process keeps for "
                "itself: with several workers or nodes a guesser gets the allowance once per process.",
                hint="Use a shared cache (django.core.cache.backends.redis.RedisCache) for "
                "MFA_OAUTH['LOGIN_THROTTLE_CACHE'].",
                id="mfa_oauth.W021",
            )
        ]
    return []
