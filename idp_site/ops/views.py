from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import health


@never_cache
@require_safe
def healthz(request) -> JsonResponse:
    """200 when database, cache and broker answer; 503 naming the ones that do not."""
    checks = health.run_all()
    down = [c.name for c in checks if not c.ok]
    body = {"status": "down" if down else "ok", "down": down, "checks": {c.name: c.as_text() for c in checks}}
    return JsonResponse(body, status=503 if down else 200)
