"""The authorization endpoint with the second-factor gate.

``MFAAuthorizationView`` subclasses DOT's ``AuthorizationView`` and puts the gate in
``dispatch()``: DOT may issue a code on GET (``skip_authorization``, ``approval_prompt=auto``),
so nothing of DOT runs until the session satisfies the client's policy and the request's
``prompt``/``max_age``/``acr_values``/``claims``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

from django.apps import apps
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView
from oauth2_provider.views.metadata import OAuthServerMetadataView
from oauth2_provider.views.oidc import ConnectDiscoveryInfoView

from ..conf import settings as mfa_settings
from ..context import ACR_LEVELS, get_context
from ..policy import AuthRequest, Decision, EffectivePolicy, Outcome, gate_decision
from ..redirects import with_next
from . import gate, reauthentication
from .claims import discovery_claims_metadata, subject_matches
from .server import accepted_flows

# Prompt values this provider implements (discovery must not advertise more); "create" too when
# DOT's OIDC_RP_INITIATED_REGISTRATION_ENABLED is on (supported_prompts()).
SUPPORTED_PROMPTS = ("none", "login")
# Set in the session by prompt=login / max_age=0: this session's second factor must be presented.
FRESH_LOGIN_KEY = "mfa_oauth.fresh_login"


def supported_prompts() -> list[str]:
    """The prompt values the authorization endpoint implements, as discovery advertises them
    (OpenID Connect Prompt Create 1.0 §4.1: ``create`` only where registration is enabled)."""
    prompts = list(SUPPORTED_PROMPTS)
    if oauth2_settings.OIDC_RP_INITIATED_REGISTRATION_ENABLED:
        prompts.append("create")
    return prompts


def challenge_url(back: str, decision: Decision) -> str:
    """The second-factor step a SECOND_FACTOR decision sends the browser to, returning to ``back``."""
    return with_next(
        reverse(mfa_settings.VERIFY_URL),
        back,
        level=str(decision.required_level),
        methods=",".join(decision.allowed_methods),
    )


# DOT's BaseAuthorizationView is exempt from Django's LoginRequiredMiddleware (its dispatch carries
# login_not_required); a dispatch of our own must say so again, or prompt=none for an anonymous user
# would get the middleware's login page instead of login_required, and a bad client a login redirect.
@method_decorator(login_not_required, name="dispatch")
class MFAAuthorizationView(AuthorizationView):
    # RFC 6749 §3.1: the authorization endpoint serves GET (and may serve POST). Every other method,
    # HEAD and OPTIONS included, is refused before anything of DOT runs: Django would answer HEAD
    # with get(), which issues a code itself for skip_authorization / approval_prompt=auto clients.
    http_method_names = ["get", "post"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.oauth2_data = {}
        if request.method not in ("GET", "POST"):
            return self.http_method_not_allowed(request, *args, **kwargs)
        params = request.GET if request.method == "GET" else request.POST
        auth_request = AuthRequest.from_params(params)
        # Loaded once; every error answer of this request reuses it.
        self.application = application = self._application(params.get("client_id"))

        early = self._before_gate(request, params, auth_request, application)
        if early is not None:
            return early

        policy = EffectivePolicy.for_application(application)
        # evaluate() plus the adapter's substitutes (mfa_oauth.trust), never after prompt=login/max_age=0.
        decision, self.mfa_context = gate_decision(
            request,
            application=application,
            context=get_context(request),
            policy=policy,
            auth_request=auth_request,
            allow_substitute=FRESH_LOGIN_KEY not in request.session,
        )
        # A POST with malformed parameters is refused like the GET (never waved through: that
        # would let a half-authenticated session post the consent form and obtain a code).
        if decision.satisfied:
            return self._satisfied(request, params, decision, auth_request.prompt, application, *args, **kwargs)
        return self._unsatisfied(request, params, decision, auth_request.prompt)

    # --- the steps of dispatch -----------------------------------------------------------------

    def _before_gate(
        self, request: HttpRequest, params: Any, auth_request: AuthRequest, application: Any
    ) -> HttpResponse | None:
        """The answers due before the gate decides: malformed parameters, an unknown client or
        redirect URI, prompt=create, prompt=login / max_age=0 and the request they continue."""
        if request.method == "GET" and auth_request.errors and application is not None:
            # Malformed max_age/claims: invalid_request to a registered redirect URI (else a page).
            # Before DOT's validation, which turns a malformed claims parameter into a redirect
            # without a scheme (DisallowedRedirect, a bare 400).
            return self._error_redirect(request, params, "invalid_request", "; ".join(auth_request.errors))
        # An unknown client or a bad redirect URI is shown here and never redirected (RFC 9700 §4.1.3).
        if application is None or request.method == "GET":
            error = self._validation_error(request, auth_request)
            if error is not None:
                return error

        prompt = auth_request.prompt
        if request.method == "GET" and "create" in prompt:
            # OpenID Connect Prompt Create 1.0 §4 through DOT's own handler (the client and redirect
            # URI were validated above): invalid_request when OIDC_RP_INITIATED_REGISTRATION_ENABLED
            # is off (§4.1.1), the registration page for an anonymous user (handled before "login":
            # an account must exist before anyone can log in to it). A signed-in session goes on to
            # the gate like any request; registration itself never issues anything.
            response = self.handle_prompt_create()
            if response is not None:
                return response
        if request.method == "GET" and "login" in prompt and "none" not in prompt:
            return self._restart_login(request, drop={"prompt"})
        if request.method == "GET" and auth_request.max_age == 0:
            return self._restart_login(request, drop={"max_age"})
        waiting = reauthentication.waiting(request)
        if waiting is not None and waiting == self._continuation(request, params):
            # The request a prompt=login / max_age=0 continues: the new login has not happened yet.
            return self._redirect_local(with_next(resolve_url(settings.LOGIN_URL), request.get_full_path()))
        return None

    def _satisfied(
        self,
        request: HttpRequest,
        params: Any,
        decision: Decision,
        prompt: Any,
        application: Any,
        *args: Any,
        **kwargs: Any,
    ) -> HttpResponse:
        """The gate said yes: the requested subject, consent for prompt=none, then DOT issues the code
        with the gate's decision published (mfa_oauth.oauth.gate)."""
        if not subject_matches(params.get("claims"), request.user, application):
            # OIDC Core §5.5.1: the requested sub names someone else; no code for the session's user.
            # prompt=none: login_required; otherwise the login page (to sign in as that user), and
            # the session is kept until a new login succeeds (docs/security.md, "Re-authentication").
            if "none" in prompt:
                return self._error_redirect(request, params, "login_required", "Another user was requested")
            back = request.get_full_path() if request.method == "GET" else self._authorize_url_from_form(params)
            return self._redirect_local(with_next(resolve_url(settings.LOGIN_URL), back))
        # Consent only matters to prompt=none (DOT decides it itself otherwise); spare the query.
        consent_given = "none" in prompt and self._consent_given(request, application, params)
        state = gate.GateState(
            decision, consent_given=consent_given, application=application, context=self.mfa_context, issuing=True
        )
        if "none" in prompt and not state.consent_given:
            return self._error_redirect(request, params, "consent_required", "The user has not approved this client")
        with gate.published(state):
            return super().dispatch(request, *args, **kwargs)

    # --- outcomes -----------------------------------------------------------------------------

    def _unsatisfied(self, request: HttpRequest, params: Any, decision: Decision, prompt: Any) -> HttpResponse:
        outcome = decision.outcome
        if outcome is Outcome.INVALID:
            return self._error_redirect(request, params, "invalid_request", decision.reason)
        if outcome is Outcome.UNMET:
            return self._error_redirect(
                request,
                params,
                "unmet_authentication_requirements",
                "The requested authentication level cannot be reached",
            )
        if "none" in prompt:
            if outcome is Outcome.LOGIN:
                return self._error_redirect(request, params, "login_required", "The user is not logged in")
            return self._error_redirect(request, params, "interaction_required", "A second factor is required")
        if request.method == "POST":
            # A consent form posted by a session that does not satisfy the policy: start over.
            back = self._authorize_url_from_form(params)
        else:
            back = request.get_full_path()
        if outcome is Outcome.LOGIN:
            context = get_context(request)
            if context is not None and not context.is_multi_factor:
                # A half-authenticated session whose time ran out ends here (docs/security.md, "The
                # half-authenticated state"). A complete sign-in is never ended by a link: the login
                # page replaces it once the new login succeeds ("Re-authentication").
                logout(request)
            return self._redirect_local(with_next(resolve_url(settings.LOGIN_URL), back))
        if outcome is Outcome.ENROLL:
            return self._redirect_local(with_next(reverse(mfa_settings.ENROLL_URL), back))
        return self._redirect_local(challenge_url(back, decision))

    def _restart_login(self, request: HttpRequest, drop: set[str]) -> HttpResponse:
        """``prompt=login`` and ``max_age=0``: a new password and second factor, whatever the session.

        OIDC Core §3.1.2.1: the user is asked to authenticate again. The existing session is kept
        until that new login succeeds (a cross-site link must not log anyone out); the request
        that continues the flow is refused until then (:mod:`mfa_oauth.oauth.reauthentication`)."""
        parsed = urlparse(request.get_full_path())
        query = [(k, v) for k, v in parse_qsl(parsed.query, keep_blank_values=True) if k not in drop]
        back = urlunparse(parsed._replace(query=urlencode(query)))
        reauthentication.require(request, back)
        # The new login must prove every factor afresh: nothing may stand in for the second
        # factor (mfa_oauth.trust reads this marker; it survives login's session key rotation).
        request.session[FRESH_LOGIN_KEY] = True
        return self._redirect_local(with_next(resolve_url(settings.LOGIN_URL), back))

    def _continuation(self, request: HttpRequest, params: Any) -> str:
        """The authorize URL this request stands for (a consent POST stands for its GET)."""
        return request.get_full_path() if request.method == "GET" else self._authorize_url_from_form(params)

    def _redirect_local(self, url: str) -> HttpResponse:
        response = HttpResponse(status=302)
        response["Location"] = url
        return response

    def _error_redirect(self, request: HttpRequest, params: Any, error: str, description: str) -> HttpResponse:
        """An OIDC error sent to the client's (already validated) redirect URI."""
        application = self.application
        redirect_uri = params.get("redirect_uri") or (application.default_redirect_uri if application else "")
        if application is None or not redirect_uri or not application.redirect_uri_allowed(redirect_uri):
            return self.render_to_response({"error": {"error": error, "description": description}}, status=400)
        response_params = {"error": error, "error_description": description}
        if params.get("state"):
            response_params["state"] = params["state"]
        if oauth2_settings.COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS:
            response_params["iss"] = oauth2_settings.oauth2_authorization_server_issuer(request)
        separator = "&" if "?" in redirect_uri else "?"
        return self.redirect(redirect_uri + separator + urlencode(response_params), application)

    # --- helpers ------------------------------------------------------------------------------

    def _validation_error(self, request: HttpRequest, auth_request: AuthRequest) -> HttpResponse | None:
        """Run DOT's request validation once, with silent login answered by our own evaluation."""
        provisional = gate.GateState(Decision(Outcome.SATISFIED), consent_given=True, application=self.application)
        try:
            with gate.published(provisional):
                self._validated = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        _scopes, credentials = self._validated
        if credentials.get("code_challenge_method") == "plain":
            # Refused up front rather than after consent, where DOT would refuse it (RFC 9700 §2.1.1).
            return self._error_redirect(request, request.GET, "invalid_request", 'Use the "S256" code_challenge_method')
        return None

    def validate_authorization_request(self, request):
        cached = getattr(self, "_validated", None)
        if cached is not None:
            return cached
        return super().validate_authorization_request(request)

    @staticmethod
    def _application(client_id):
        if not client_id or len(client_id) > 200:
            return None
        Application = get_application_model()
        return Application.objects.select_related("mfa_policy").filter(client_id=client_id).first()

    @staticmethod
    def _consent_given(request: HttpRequest, application: Any, params: Any) -> bool:
        if application is None or not request.user.is_authenticated:
            return False
        if application.skip_authorization:
            return True
        scopes = set(params.get("scope", "").split())
        tokens = get_access_token_model().objects.filter(
            user=request.user, application=application, expires__gt=timezone.now()
        )
        return any(token.allow_scopes(scopes) for token in tokens)

    @staticmethod
    def _authorize_url_from_form(params: Any) -> str:
        keep = (
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "nonce",
            "code_challenge",
            "code_challenge_method",
            "claims",
        )
        query = {k: params[k] for k in keep if params.get(k)}
        return f"{reverse('oauth2_provider:authorize')}?{urlencode(query)}"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "none" in request.GET.get("prompt", "").split():
            # The gate established consent already; DOT must not render a page under prompt=none.
            params = request.GET.copy()
            params["approval_prompt"] = "auto"
            request.GET = params  # type: ignore[assignment]  # DOT's view reads request.GET
        return super().get(request, *args, **kwargs)

    def create_authorization_response(self, request, scopes, credentials, allow):
        # Only the context of the gate that approved this very request travels with the code (see
        # validators.py); without one nothing is issued (docs/security.md, "Deny by default").
        context = gate.approved_context()
        if context is None:
            raise PermissionDenied("mfa_oauth: no authorization without the second-factor gate's approval")
        credentials["mfa_context"] = context
        return super().create_authorization_response(request, scopes, credentials, allow)


def only_accepted_flows(metadata: dict) -> dict:
    """Advertise exactly the response and grant types the configured server accepts.

    OIDC Discovery §3 / RFC 8414 §2: ``response_types_supported`` and ``grant_types_supported`` say
    what the server supports; an omitted ``grant_types_supported`` means "authorization_code and
    implicit", which this server refuses, so it is always given."""
    response_types, grant_types = accepted_flows()
    advertised = metadata.get("response_types_supported") or response_types
    metadata["response_types_supported"] = [t for t in advertised if t in response_types]
    metadata["grant_types_supported"] = list(grant_types)
    return metadata


class MFAServerMetadataView(OAuthServerMetadataView):
    """RFC 8414 metadata that names only the flows the configured server accepts."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        if response.status_code != 200:
            return response
        enriched = JsonResponse(only_accepted_flows(json.loads(response.content)))
        for header in ("Access-Control-Allow-Origin", "Cache-Control"):
            if header in response:
                enriched[header] = response[header]
        return enriched


class MFADiscoveryView(ConnectDiscoveryInfoView):
    """Discovery with what this provider adds: acr values, the claims parameter, honest prompts."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data["acr_values_supported"] = list(ACR_LEVELS)
        # claims_parameter_supported, claims_supported, subject_types_supported (OIDC Discovery §3).
        data.update(discovery_claims_metadata())
        data["prompt_values_supported"] = supported_prompts()
        only_accepted_flows(data)
        if apps.is_installed("mfa_oauth.device"):
            # RFC 8628 §4: where devices start the device authorization grant (only with its app installed).
            data["device_authorization_endpoint"] = request.build_absolute_uri(
                reverse("oauth2_provider:device-authorization")
            )
        enriched = JsonResponse(data)
        enriched["Access-Control-Allow-Origin"] = "*"
        return enriched
