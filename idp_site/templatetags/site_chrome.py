"""The reference site's page chrome (``base.html``): the navigation's links and the language
switcher's options, worked out once per process instead of on every page.

Every page of a login (the login form, the challenge, the consent page) renders ``base.html``. Its
navigation reversed five URL names and its switcher looked up the local name of each of
``LANGUAGES`` and rendered an ``<option>`` per language, on every request: about a quarter of a
millisecond of template work per page, for output that depends only on the URLconf, the settings and
(for the ``selected`` option) the request's language. Both are memoised on exactly those, so a change
to any of them (``override_settings`` in tests, a script prefix) gets its own entry.
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, get_language_info

register = template.Library()


@register.simple_tag
def site_url(name: str) -> str:
    """``{% url name %}`` for a URL name without arguments (escaped by the template, as ``{% url %}``)."""
    return _reverse(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@lru_cache(maxsize=128)
def _reverse(name: str, prefix: str, urlconf: str) -> str:
    # reverse() reads the script prefix itself; it is part of the key so each prefix has its entry.
    return reverse(name, urlconf=urlconf)


@register.simple_tag
def language_options() -> SafeString:
    """The switcher's ``<option>`` elements: each of ``LANGUAGES`` by its local name, the active
    language selected (as ``{% get_language_info_list %}`` and a loop over it rendered them)."""
    languages = tuple((code, str(name)) for code, name in settings.LANGUAGES)
    return _options(languages, get_language())


# A constant attribute, not a format string: Django 6's format_html() refuses to be called without arguments.
_SELECTED = mark_safe(" selected")


@lru_cache(maxsize=64)
def _options(languages: tuple[tuple[str, str], ...], current: str | None) -> SafeString:
    return format_html_join(
        "",
        '<option value="{}" lang="{}"{}>{}</option>',
        (
            (code, code, _SELECTED if code == current else "", get_language_info(code)["name_local"])
            for code, _name in languages
        ),
    )
