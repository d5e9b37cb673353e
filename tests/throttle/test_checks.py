"""System checks of the login throttle (mfa_oauth.W020-W022, E020-E022)."""

from __future__ import annotations

from mfa_oauth.throttle.checks import check_login_throttle, check_login_throttle_cache_is_shared


def ids(messages) -> set[str]:
    return {message.id for message in messages}


def test_the_reference_settings_pass():
    assert ids(check_login_throttle(None)) == set()


def test_no_throttled_backend_first_is_a_warning(settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    assert ids(check_login_throttle(None)) == {"mfa_oauth.W020"}
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "mfa_oauth.throttle.backends.ThrottledModelBackend",
    ]
    assert ids(check_login_throttle(None)) == {"mfa_oauth.W020"}  # too late: ModelBackend checked first


def test_a_bad_trusted_proxy_is_an_error(mfa_settings):
    mfa_settings(TRUSTED_PROXIES=["10.0.0.0/8", "proxy.example"])
    assert ids(check_login_throttle(None)) == {"mfa_oauth.E020"}


def test_a_cache_that_cannot_count_is_an_error(settings, mfa_settings):
    mfa_settings(LOGIN_THROTTLE_CACHE="missing")
    assert ids(check_login_throttle(None)) == {"mfa_oauth.E021"}
    settings.CACHES = {**settings.CACHES, "dummy": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    mfa_settings(LOGIN_THROTTLE_CACHE="dummy")
    assert ids(check_login_throttle(None)) == {"mfa_oauth.E021"}


def test_numbers_out_of_range_are_an_error(mfa_settings):
    mfa_settings(LOGIN_THROTTLE_BASE_DELAY=600, LOGIN_THROTTLE_MAX_DELAY=60)
    assert ids(check_login_throttle(None)) == {"mfa_oauth.E022"}
    mfa_settings(LOGIN_THROTTLE_BASE_DELAY=60, LOGIN_THROTTLE_MAX_DELAY=600, LOGIN_THROTTLE_ACCOUNT_FREE_FAILURES=-1)
    assert ids(check_login_throttle(None)) == {"mfa_oauth.E022"}
    mfa_settings(LOGIN_THROTTLE_ACCOUNT_FREE_FAILURES=5, LOGIN_THROTTLE_IPV6_PREFIX=200)
    assert ids(check_login_throttle(None)) == {"mfa_oauth.E022"}


def test_a_proxy_without_trusted_proxies_is_a_warning(settings, mfa_settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert ids(check_login_throttle(None)) == {"mfa_oauth.W022"}
    mfa_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
    assert ids(check_login_throttle(None)) == set()


def test_a_per_process_cache_is_a_deploy_warning(settings):
    assert ids(check_login_throttle_cache_is_shared(None)) == {"mfa_oauth.W021"}  # the test settings: LocMem
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}}
    assert ids(check_login_throttle_cache_is_shared(None)) == set()
