"""Reading the site's HTML pages the way a browser would submit them (the test clients' one copy)."""

from __future__ import annotations

import re
from html import unescape


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of ``page``, by name (the last of a name wins), unescaped."""
    return {k: unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}


def form_action(page: str, form_id: str) -> str:
    """The action of the form ``form_id`` on ``page``, unescaped; '' when there is no such form or action."""
    match = re.search(r'<form[^>]*\bid="' + re.escape(form_id) + r'"[^>]*>', page)
    action = re.search(r'\baction="([^"]*)"', match.group(0)) if match else None
    return unescape(action.group(1)) if action else ""
