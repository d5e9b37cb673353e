"""Django REST framework permission with the semantics of ``require_authentication``.

Imported only by projects that use DRF, so DRF stays an optional dependency::

    class TransferView(APIView):
        permission_classes = [step_up_permission(any_of=[Requirement(acr="phr"),
                                                         Requirement(acr=ACR_MFA, max_age=300)])]

DRF's exception handler copies an exception's ``auth_header`` into ``WWW-Authenticate``; the
refusal is raised as such an exception so the 401 carries the RFC 9470 challenge.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework import exceptions, permissions

from .challenge import Requirement
from .decorators import check_request, requirements
from .tokens import TokenValidator


class StepUpRequired(exceptions.APIException):
    status_code = 401
    default_code = "insufficient_user_authentication"

    def __init__(self, status: int, error: str, description: str, auth_header: str | None) -> None:
        super().__init__(detail={"error": error, "error_description": description}, code=error)
        self.status_code = status
        self.auth_header = auth_header


class StepUpPermission(permissions.BasePermission):
    """Subclass with ``alternatives``/``scopes`` set, or build one with :func:`step_up_permission`."""

    alternatives: tuple[Requirement, ...] = ()
    scopes: tuple[str, ...] = ()
    validator: TokenValidator | None = None

    def has_permission(self, request: Any, view: Any) -> bool:  # DRF's Request
        info, refusal = check_request(
            request.META.get("HTTP_AUTHORIZATION"),
            self.alternatives,
            self.scopes,
            self.validator,
            http_request=request,  # DRF's Request proxies META, method and build_absolute_uri (RFC 9449 §7)
        )
        if refusal is not None:
            raise StepUpRequired(refusal.status, refusal.error, refusal.description, refusal.www_authenticate)
        request.token_info = info
        return True


def step_up_permission(
    acr: str | None = None,
    max_age: int | None = None,
    *,
    any_of: Iterable[Requirement] | None = None,
    scopes: Iterable[str] = (),
    validator: TokenValidator | None = None,
) -> type[StepUpPermission]:
    return type(
        "StepUpPermission",
        (StepUpPermission,),
        {"alternatives": requirements(acr, max_age, any_of), "scopes": tuple(scopes), "validator": validator},
    )
