"""Template tags for the WebAuthn templates."""

from __future__ import annotations

from django import template

from .. import config

register = template.Library()


@register.simple_tag(takes_context=True)
def webauthn_site_address(context) -> str:
    """The address security keys work at (the first configured origin), for a refusal to name it:
    a browser refuses a ceremony on any other origin (WebAuthn L2 §13.4.9)."""
    request = context.get("request")
    origins = config.expected_origins(request) if request is not None else []
    return f"{origins[0]}/" if origins else ""
