"""Helpers DOT's modules import from ``tests.utils``."""

import base64
from unittest import mock


def get_basic_auth_header(user: str, password: str) -> dict[str, str]:
    """HTTP Basic client authentication (RFC 6749 §2.3.1) as Django test-client keyword arguments."""
    credentials = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"HTTP_AUTHORIZATION": f"Basic {credentials}"}


def spy_on(function):
    """A plain function (so it binds as a method when patched onto a class) that calls ``function``
    and records each call, self included, on ``.spy``."""
    spy = mock.MagicMock()

    def wrapper(*args, **kwargs):
        spy(*args, **kwargs)
        return function(*args, **kwargs)

    wrapper.spy = spy
    return wrapper
