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
