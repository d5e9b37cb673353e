"""The factors a user can add, as the security page and forced enrollment list them.

The list comes from the project's adapter (``DefaultMFAOAuthAdapter.get_enrollments``), so the pages
that list factors know no factor by name.
"""

from __future__ import annotations

from .adapter import Enrollment, get_adapter

__all__ = ["Enrollment", "available", "methods_at"]


def available() -> list[Enrollment]:
    return sorted(get_adapter().get_enrollments(), key=lambda e: (e.order, str(e.label)))


def methods_at(url_name: str) -> frozenset[str]:
    """The methods the view named ``url_name`` enrolls (the adapter's enrollments with that url_name).

    A view no enrollment names (a project's own page) is known to enroll nothing: the gate does
    not send a user there for a method it might not offer (mfa_oauth.policy)."""
    return frozenset(e.method for e in get_adapter().get_enrollments() if e.url_name == url_name)
