"""The factors a user can add, as the security page and forced enrollment list them.

Each factor registers itself from its AppConfig.ready(), so the pages that list factors know
no factor by name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Enrollment:
    method: str  # the Method.name of the devices it creates
    label: str
    url_name: str  # a view that takes ?next=
    description: str = ""
    order: int = 100
    phishing_resistant: bool = False


_registry: dict[str, Enrollment] = {}


def register(enrollment: Enrollment) -> None:
    _registry[enrollment.method] = enrollment


def available() -> list[Enrollment]:
    return sorted(_registry.values(), key=lambda e: (e.order, e.label))


def methods_at(url_name: str) -> frozenset[str]:
    """The methods the view named ``url_name`` enrolls (those registered with that url_name).

    A view no factor registered (a project's own page) is known to enroll nothing: the gate does
    not send a user there for a method it might not offer (mfa_oauth.policy)."""
    return frozenset(e.method for e in _registry.values() if e.url_name == url_name)
