"""The row a lookup by a unique column finds, without the ``ORDER BY`` that ``first()`` adds.

``QuerySet.first()`` on an unordered queryset orders by the primary key, and compiling that ordering
is about a third of the CPU of a one-row SELECT in Django's ORM. A lookup by a unique column (a
client_id, a code, a checksum, a primary key, a one-to-one user) has at most one row, so the order is
moot: ``LIMIT 1`` alone gives the same answer. The flows run about ten such lookups per login.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet


def unique_or_none(queryset: QuerySet) -> Any | None:
    """The one row (model instance, or values tuple for ``values_list``) of ``queryset``, or None.

    Only for a queryset filtered on a unique column (or a primary key): with several rows the one
    returned would be arbitrary."""
    for row in queryset[:1]:
        return row
    return None
