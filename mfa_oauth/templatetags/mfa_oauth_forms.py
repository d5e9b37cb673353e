"""Render a form's field with the page's accessibility attributes, from the form class's own widget
(so a project that swaps a form through ``MFA_OAUTH["FORMS"]`` changes the page)."""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def field_input(
    field: BoundField, *, describedby: str = "", invalid: Any = False, keep_value: bool = True
) -> SafeString:
    """``field``'s widget with ``aria-describedby`` (space-separated ids of the help and error texts on
    the page; Django's own ``<id>_error`` when the field has errors) and ``aria-invalid`` when
    ``invalid`` or the field has errors (WCAG 2.2 SC 3.3.1, 1.3.1). ``keep_value=False`` renders it
    empty: a one-time code that did not work is typed afresh, never shown back."""
    ids = describedby.split()
    if field.errors and field.auto_id:
        ids.append(f"{field.auto_id}_error")
    attrs: dict[str, Any] = {}
    if ids:
        attrs["aria-describedby"] = " ".join(dict.fromkeys(ids))
    if invalid:
        attrs["aria-invalid"] = "true"
    if keep_value:
        return field.as_widget(attrs=attrs)
    widget = field.field.widget
    attrs = field.build_widget_attrs({**widget.attrs, **attrs}, widget)
    if field.auto_id:
        attrs["id"] = field.auto_id
    return SafeString(widget.render(field.html_name, None, attrs=attrs, renderer=field.form.renderer))
