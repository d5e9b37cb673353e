"""The site's URLs plus two resources a client's own token (client_credentials) may call: one behind
``mfa_oauth.resource.require_authentication`` and one behind the DRF permission, neither asking for a
user authentication (tests/fapi/test_dpop_client_credentials.py)."""

from django.http import JsonResponse
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from mfa_oauth.resource import require_authentication
from mfa_oauth.resource.drf import step_up_permission


@require_authentication(scopes=["balance"])
def client_api(request):
    return JsonResponse({"client_id": request.token_info.client_id, "jkt": request.token_info.jkt})


class ClientApiView(APIView):
    authentication_classes: list = []
    permission_classes = [step_up_permission(scopes=["balance"])]

    def get(self, request):
        return Response({"client_id": request.token_info.client_id})


urlpatterns = [
    path("client-api/", client_api),
    path("client-api/drf/", ClientApiView.as_view()),
    path("", include("idp_site.urls")),
]
