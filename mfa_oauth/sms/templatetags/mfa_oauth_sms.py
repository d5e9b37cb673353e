from typing import Any

from django import template

from .. import reasons, service

register = template.Library()


@register.simple_tag(takes_context=True)
def sms_delivery_problem(context: Any, device: Any) -> str:
    """Why the newest code of this login attempt did not go out ("" when it is fine)."""
    request = context.get("request")
    if request is None:
        return ""
    attempt = service.login_attempt_id(request, create=False)
    return reasons.problem(service.latest_message(device, attempt, request))
