"""Feature apps may add fields to the challenge form (e.g. mfa_oauth.trust's "trust this browser").

A provider is called as ``provider(request, next_url)`` and returns None or a dict with at least
``template`` (included inside the form, with the dict available as ``extra``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_providers: list[Callable[[Any, str], dict | None]] = []


def register(provider: Callable[[Any, str], dict | None]) -> None:
    if provider not in _providers:
        _providers.append(provider)


def collect(request, next_url: str) -> list[dict]:
    return [extra for extra in (provider(request, next_url) for provider in _providers) if extra]
