"""The authorization endpoint with the second-factor gate.

``MFAAuthorizationView`` subclasses DOT's ``AuthorizationView`` and puts the gate in
``dispatch()``: DOT may issue a code on GET (``skip_authorization``, ``approval_prompt=auto``),
so nothing of DOT runs until the session satisfies the client's policy and the request's
``prompt``/``max_age``/``acr_values``/``claims``.
"""

from __future__ import annotations

import json
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render, resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.forms import AllowForm
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView
from oauth2_provider.views.metadata import OAuthServerMetadataView
from oauth2_provider.views.oidc import ConnectDiscoveryInfoView

from .. import clients, dpop, par, rar
from ..conf import settings as mfa_settings
from ..context import ACR_LEVELS, LEVEL_PHISHING_RESISTANT, get_context
from ..enrollment import available
from ..policy import AuthRequest, Decision, EffectivePolicy, Outcome, gate_decision
from ..redirects import with_next
from . import gate, hints, reauthentication, request_objects, responses, signing
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


class MFAAllowForm(AllowForm):
    # The consent POST must answer in the response mode the GET asked for (Form Post Response Mode §2).
    response_mode = forms.CharField(required=False, widget=forms.HiddenInput())


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
# csrf_exempt: an authorization request may arrive as a cross-site POST (OIDC Core §3.1.2.1); the
# consent form's POST is still checked against CSRF in dispatch() (_csrf_refusal).
@method_decorator(login_not_required, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")
class MFAAuthorizationView(AuthorizationView):
    # RFC 6749 §3.1: the authorization endpoint serves GET (and may serve POST). Every other method,
    # HEAD and OPTIONS included, is refused before anything of DOT runs: Django would answer HEAD
    # with get(), which issues a code itself for skip_authorization / approval_prompt=auto clients.
    http_method_names = ["get", "post"]
    form_class = MFAAllowForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.oauth2_data = {}
        self.application = None
        if request.method not in ("GET", "POST"):
            return self.http_method_not_allowed(request, *args, **kwargs)
        if request.method == "POST":
            if self._is_posted_authorization_request(request):
                # OIDC Core §3.1.2.1: "Authorization Servers MUST support the use of the HTTP GET and POST
                # methods"; a posted request is the same request as its GET (Form Serialization), so it
                # continues there. Nothing is decided on this POST.
                return self._redirect_local(f"{request.path}?{request.POST.urlencode()}", status=303)
            refused = self._csrf_refusal(request)
            if refused is not None:
                return refused
        # OIDC Core §3.1.2.1 ui_locales: the pages of this request in the language asked for, if offered
        # (a consent POST goes to the URL of its GET, so the query still carries it).
        return hints.in_ui_locales(request.GET.get("ui_locales"), lambda: self._dispatch(request, *args, **kwargs))

    def _dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # RFC 9126 (mfa_oauth.par): a request_uri of ours stands for the pushed parameters; foreign
        # ones and a PAR-required client's plain request are refused.
        refusal = self._use_pushed_request(request)
        if refusal is not None:
            return refusal
        if self.request_uri:
            # OIDC Core §3.1.2.1 ui_locales of a pushed request: its URL carries only client_id and request_uri.
            return hints.in_ui_locales(
                request.GET.get("ui_locales"), lambda: self._decide_pushed(request, *args, **kwargs)
            )
        return self._decide(request, *args, **kwargs)

    def _decide_pushed(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = self._decide(request, *args, **kwargs)
        # RFC 9126 §4: what renders the answer (the consent page, its language form's "next") sees the
        # browser's short URL again, not the pushed parameters oauthlib was handed in the query.
        request.META["QUERY_STRING"] = urlparse(self._continuation(request, request.GET)).query
        return response

    def _decide(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # RFC 9396 (mfa_oauth.rar): authorization_details checked before anything is shown or issued.
        refusal = self._check_authorization_details(request)
        if refusal is not None:
            return refusal
        params = request.GET if request.method == "GET" else request.POST
        auth_request = AuthRequest.from_params(params)
        # Loaded once; every error answer of this request reuses it.
        self.application = application = self._client(params.get("client_id"))

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
        """The answers due before the gate decides: the request refused (:meth:`_refusal`), or a
        prompt the session must act on first (:meth:`_prompt_step`)."""
        refused = self._refusal(request, params, auth_request, application)
        return refused if refused is not None else self._prompt_step(request, params, auth_request)

    def _refusal(
        self, request: HttpRequest, params: Any, auth_request: AuthRequest, application: Any
    ) -> HttpResponse | None:
        """A missing or unknown redirect URI, malformed or unsupported parameters, an unknown client."""
        if request.method == "GET" and application is not None and not params.get("redirect_uri"):
            if "openid" in params.get("scope", "").split():
                # OIDC Core §3.1.2.1: redirect_uri is REQUIRED in an OpenID request; without one there is
                # no URI the request named to send the error to, so it is shown (RFC 6749 §4.1.2.1).
                return self._error_page("invalid_request", "Missing redirect_uri (required for openid requests)")

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
        if request.method == "GET":
            # The client and redirect URI are trusted now: refusals go back to the client.
            problem = self._unsupported(request, params)
            if problem is not None:
                return self._error_redirect(request, params, *problem)
        return None

    def _prompt_step(self, request: HttpRequest, params: Any, auth_request: AuthRequest) -> HttpResponse | None:
        """prompt=create, prompt=login / max_age=0, and the request such a new login continues."""
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
            return self._redirect_local(with_next(resolve_url(settings.LOGIN_URL), waiting))
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
            return self._redirect_local(with_next(resolve_url(settings.LOGIN_URL), self._continuation(request, params)))
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
            error = "unmet_authentication_requirements"
            description = "The requested authentication level cannot be reached"
            offer = self._enrollment_offer(request, decision, prompt)
            if offer is not None:
                return self._offer_enrollment(request, params, offer, error, description)
            return self._error_redirect(request, params, error, description)
        if "none" in prompt:
            if outcome is Outcome.LOGIN:
                return self._error_redirect(request, params, "login_required", "The user is not logged in")
            return self._error_redirect(request, params, "interaction_required", "A second factor is required")
        # A consent form posted by a session that does not satisfy the policy starts over from its GET.
        back = self._continuation(request, params)
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

    def _enrollment_offer(self, request, decision: Decision, prompt):
        """The phishing-resistant factor a signed-in user could add to reach ``decision``'s level.

        OpenID Connect EAP ACR Values 1.0 §5 lets the OP interact with the user before answering
        ``unmet_authentication_requirements``; the user is offered the enrollment first and the
        error reaches the client only if they decline. Not for prompt=none (no interaction), an
        anonymous user, a POST (the consent form) or a level a new key may not reach (hardware)."""
        if request.method != "GET" or "none" in prompt or not request.user.is_authenticated:
            return None
        if get_context(request) is None or decision.required_level > LEVEL_PHISHING_RESISTANT:
            return None
        allowed = decision.allowed_methods
        return next((e for e in available() if e.phishing_resistant and (not allowed or e.method in allowed)), None)

    def _offer_enrollment(self, request, params, offer, error: str, description: str) -> HttpResponse:
        back = self._continuation(request, params)
        try:
            add_url = with_next(reverse("mfa_oauth_account:security"), back)
        except NoReverseMatch:  # the security page is optional (mfa_oauth.account)
            add_url = with_next(reverse(offer.url_name), back)
        declined = self._error_redirect(request, params, error, description)
        return render(
            request,
            "mfa_oauth/unmet.html",
            {
                "application": self.application,
                "enrollment": offer,
                "add_url": add_url,
                "decline_url": declined.get("Location", ""),
            },
        )

    def _restart_login(self, request: HttpRequest, drop: set[str]) -> HttpResponse:
        """``prompt=login`` and ``max_age=0``: a new password and second factor, whatever the session.

        OIDC Core §3.1.2.1: the user is asked to authenticate again. The existing session is kept
        until that new login succeeds (a cross-site link must not log anyone out); the request
        that continues the flow is refused until then (:mod:`mfa_oauth.oauth.reauthentication`)."""
        if self.request_uri:
            # RFC 9126 §4: a pushed request continues at its short URL, which stands for the session copy
            # of the pushed parameters; that copy has no prompt=login / max_age=0 (mfa_oauth.par).
            back = self._continuation(request, request.GET)
        else:
            parsed = urlparse(request.get_full_path())
            query = [(k, v) for k, v in parse_qsl(parsed.query, keep_blank_values=True) if k not in drop]
            back = urlunparse(parsed._replace(query=urlencode(query)))
        reauthentication.require(request, back)
        # The new login must prove every factor afresh: nothing may stand in for the second
        # factor (mfa_oauth.trust reads this marker; it survives login's session key rotation).
        request.session[FRESH_LOGIN_KEY] = True
        return self._redirect_local(with_next(resolve_url(settings.LOGIN_URL), back))

    def _continuation(self, request: HttpRequest, params: Any) -> str:
        """The authorize URL this request stands for (a consent POST stands for its GET); for a pushed
        request, its short URL: the pushed parameters never go back to the browser (RFC 9126 §4)."""
        request_uri = getattr(self, "request_uri", None)
        if request_uri:
            return par.front_channel_url(request.path, params["client_id"], request_uri)
        return request.get_full_path() if request.method == "GET" else self._authorize_url_from_form(params)

    def _unsupported(self, request, params) -> tuple[str, str] | None:
        """An error for a parameter this provider cannot honour (never silently ignored)."""
        if getattr(self, "request_uri", None):
            # RFC 9126 §4: the request_uri of a pushed request of ours was resolved in _use_pushed_request.
            params = {name: value for name, value in params.items() if name != "request_uri"}
        refused = request_objects.refusal(params)  # OIDC Core §6.1, §6.2
        if refused is not None:
            return refused
        jkt = params.get("dpop_jkt")
        if jkt is not None and not dpop.valid_jkt(jkt):
            # RFC 9449 §10: dpop_jkt is the JWK SHA-256 thumbprint of the key the code is bound to; a
            # malformed one is refused, never ignored (a code bound to no key would be a bearer code).
            return "invalid_request", "dpop_jkt is not a JWK SHA-256 thumbprint (RFC 9449 §10)"
        mode = params.get("response_mode")
        if mode is not None and mode not in responses.RESPONSE_MODES:
            # OAuth 2.0 Multiple Response Type Encoding Practices §2.1: modes this server supports only.
            return "invalid_request", "Unsupported response_mode"
        hint = params.get("id_token_hint")
        if hint:
            try:
                hinted = hints.hinted_user_id(request, hint)
            except hints.HintError as error:
                return "invalid_request", str(error)
            if request.user.is_authenticated and request.user.pk != hinted:
                # OIDC Core §3.1.2.1 id_token_hint: another user is signed in here.
                return "login_required", "The signed-in user is not the one the id_token_hint names"
        return None

    def _error_page(self, error: str, description: str) -> HttpResponse:
        return self.render_to_response({"error": {"error": error, "description": description}}, status=400)

    def redirect(self, redirect_to, application):
        """Every response to the client's redirect URI: in its response mode and with ``iss``.

        DOT's hook for the final redirect (success and redirected errors); see :mod:`.responses`."""
        application = application or self.application
        redirect_uri = self._response_redirect_uri(application)
        if not redirect_uri or urlparse(redirect_to)[:3] != urlparse(redirect_uri)[:3]:
            return super().redirect(redirect_to, application)
        schemes = application.get_allowed_schemes() if application else oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES
        mode = responses.requested_mode(self.request)
        return responses.deliver(self.request, redirect_to, redirect_uri, schemes, mode)

    def _response_redirect_uri(self, application) -> str:
        request = self.request
        params = request.POST if request.method == "POST" else request.GET
        return params.get("redirect_uri") or (application.default_redirect_uri if application else "") or ""

    def get_initial(self):
        initial = super().get_initial()
        initial["response_mode"] = self.request.GET.get("response_mode")
        return initial

    @staticmethod
    def _is_posted_authorization_request(request) -> bool:
        # The consent form always carries the CSRF token; an RP's form never does, nor a decision.
        form = request.POST
        return "csrfmiddlewaretoken" not in form and "allow" not in form and "client_id" in form

    @staticmethod
    def _csrf_refusal(request) -> HttpResponse | None:
        """Django's CSRF check, as CsrfViewMiddleware would have made it (the view is exempt)."""
        # No view callback: the check itself, without the exemption this view carries.
        return CsrfViewMiddleware(lambda _request: HttpResponse()).process_view(request, cast(Any, None), (), {})

    def _redirect_local(self, url: str, status: int = 302) -> HttpResponse:
        response = HttpResponse(status=status)
        response["Location"] = url
        return response

    def _error_redirect(self, request: HttpRequest, params: Any, error: str, description: str) -> HttpResponse:
        """An OIDC error sent to the client's (already validated) redirect URI."""
        application = self.application
        redirect_uri = params.get("redirect_uri") or (application.default_redirect_uri if application else "")
        if application is None or not redirect_uri or not application.redirect_uri_allowed(redirect_uri):
            return self._error_page(error, description)
        response_params = {"error": error, "error_description": description}
        if params.get("state"):
            response_params["state"] = params["state"]
        # iss (RFC 9207 §2) and the response mode: added by redirect().
        separator = "&" if "?" in redirect_uri else "?"
        return self.redirect(redirect_uri + separator + urlencode(response_params), application)

    # --- pushed authorization requests (RFC 9126, mfa_oauth.par) ------------------------------

    def _use_pushed_request(self, request) -> HttpResponse | None:
        """Put the pushed parameters in place of the request's (GET query or consent form)."""
        self.request_uri = None
        params = request.GET if request.method == "GET" else request.POST
        request_uri = params.get("request_uri")
        application = self._client(params.get("client_id"))
        if not par.is_pushed_request_uri(request_uri):
            # No request_uri, or one that is not this server's PAR reference (a request object by
            # reference): the latter is refused as request_uri_not_supported (OIDC Core §6.2) by
            # _unsupported(), with state and iss at the redirect URI.
            if application is not None and par.required_for(application):
                self.application = application
                return self._error_redirect(
                    request, params, "invalid_request", "This client must push its authorization requests (PAR)"
                )
            return None
        if application is None:
            # RFC 9126 §4: client_id accompanies request_uri; without a client nothing is redirected.
            error = {"error": "invalid_request", "description": "client_id is missing or unknown"}
            return self.render_to_response({"error": error}, status=400)
        try:
            pushed = par.parameters_for_browser(request, application.client_id, request_uri)
        except par.PushedRequestError as error:
            # The redirect URI is not known for sure before the pushed request is: shown, not redirected.
            return self.render_to_response(
                {"error": {"error": error.error, "description": error.description}}, status=400
            )
        self.request_uri = request_uri
        merged = QueryDict(mutable=True)
        merged.update({**pushed, "request_uri": request_uri})
        # DOT hands oauthlib the URL's query, never a POST body: the pushed parameters (dpop_jkt,
        # authorization_details, ...) must be there for the consent POST too, whatever URL it went to.
        request.META["QUERY_STRING"] = merged.urlencode()
        if request.method == "GET":
            request.GET = merged
        else:
            request.GET = merged.copy()
            posted = request.POST
            merged = merged.copy()
            for name in ("allow", "csrfmiddlewaretoken", *rar.CONSENT_FIELDS):
                if name in posted:
                    merged.setlist(name, posted.getlist(name))
            request.POST = merged
        merged._mutable = False
        return None

    def get_context_data(self, **kwargs):
        # The consent form posts the request_uri back, so its POST is checked against the pushed request.
        context = super().get_context_data(**kwargs)
        context["request_uri"] = getattr(self, "request_uri", None)
        # RFC 9396: what will be granted, in plain words (exactly what the code will carry).
        context["authorization_details_choices"] = rar.consent_choices(getattr(self, "authorization_details", []))
        return context

    def _check_authorization_details(self, request) -> HttpResponse | None:
        self.authorization_details = []
        params = request.GET if request.method == "GET" else request.POST
        raw = params.get("authorization_details")
        if raw is None and request.method == "POST":
            raw = request.GET.get("authorization_details")  # the consent form posts to the same URL
        application = self._client(params.get("client_id"))
        if raw is None or application is None:
            return None
        try:
            self.authorization_details = rar.parse(raw, application)
        except rar.InvalidAuthorizationDetails as error:
            self.application = application
            return self._error_redirect(request, params, error.error, error.description)
        if request.method == "POST":
            # The accounts the user ticked; oauthlib reads the code's details from the query.
            chosen = rar.narrowed(self.authorization_details, request.POST)
            if chosen != self.authorization_details:
                query = request.GET.copy()
                if chosen:
                    query["authorization_details"] = json.dumps(chosen)
                else:
                    query.pop("authorization_details", None)
                request.META["QUERY_STRING"] = query.urlencode()
                request.GET = query
                self.authorization_details = chosen
        return None

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

    def _client(self, client_id):
        # Loaded once per request: the PAR step and the gate ask for the same client.
        loaded = getattr(self, "_loaded_application", None)
        if loaded is None or loaded[0] != client_id:
            loaded = self._loaded_application = (client_id, self._application(client_id))
        return loaded[1]

    @staticmethod
    def _application(client_id):
        # With its policy and security profile (whether it must use PAR: mfa_oauth.par) in one SELECT.
        return clients.by_client_id(client_id)

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
            "response_mode",
            "ui_locales",
            "request_uri",
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
        # RFC 9126 §4: the pushed request is spent once its authorization response goes out.
        par.finish(request, getattr(self, "request_uri", None))
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


# RFC 8414 §2 / OIDC Discovery §3: client authentication at the token and revocation endpoints;
# "none" is what public clients use (RFC 7591 §2: "The client is a public client ... and does not
# have a client secret"), which DOT accepts with the client_id alone (and PKCE, required here).
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
PUBLIC_CLIENT_AUTH_METHOD = "none"


def truthful_metadata(metadata: dict) -> dict:
    """Every field both discovery documents share, as the endpoints behave (RFC 8414 §2, OIDC Discovery §3)."""
    only_accepted_flows(metadata)
    # Multiple Response Type Encoding Practices §2.1 and Form Post Response Mode §2 (mfa_oauth.oauth.responses).
    metadata["response_modes_supported"] = list(responses.RESPONSE_MODES)
    metadata["token_endpoint_auth_methods_supported"] = [*CLIENT_AUTH_METHODS, PUBLIC_CLIENT_AUTH_METHOD]
    if "revocation_endpoint" in metadata:
        # RFC 7009 §2.1: a public client revokes with its client_id (DOT's revocation endpoint).
        metadata["revocation_endpoint_auth_methods_supported"] = [*CLIENT_AUTH_METHODS, PUBLIC_CLIENT_AUTH_METHOD]
    if "introspection_endpoint" in metadata:
        # RFC 7662 §2.1: only authenticated callers (mfa_oauth.oauth.introspection refuses public clients).
        metadata["introspection_endpoint_auth_methods_supported"] = list(CLIENT_AUTH_METHODS)
    # RFC 9207 §3: iss is in every authorization response (mfa_oauth.oauth.responses adds it).
    metadata["authorization_response_iss_parameter_supported"] = True
    # OIDC Discovery §3: request_uri_parameter_supported defaults to true, so both are always given.
    metadata["request_parameter_supported"] = request_objects.REQUEST_PARAMETER_SUPPORTED
    metadata["request_uri_parameter_supported"] = request_objects.REQUEST_URI_PARAMETER_SUPPORTED
    # The one place that says whether the claims parameter (OIDC Core §5.5) is honoured: mfa_oauth.oauth.claims.
    metadata["claims_parameter_supported"] = discovery_claims_metadata()["claims_parameter_supported"]
    return metadata


class MFAServerMetadataView(OAuthServerMetadataView):
    """RFC 8414 metadata that names only the flows the configured server accepts."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        if response.status_code != 200:
            return response
        data = json.loads(response.content)
        if apps.is_installed("mfa_oauth.device"):
            # RFC 8628 §4: the device authorization endpoint is RFC 8414 metadata too.
            data["device_authorization_endpoint"] = self._get_endpoint_url(request, "device-authorization")
        truthful_metadata(data)
        par.metadata(request, data)  # RFC 9126 §5, RFC 7523 (mfa_oauth.par, mfa_oauth.client_auth)
        dpop.metadata(data)  # RFC 9449 §5.1 (mfa_oauth.dpop)
        rar.metadata(data)  # RFC 9396 §10 (mfa_oauth.rar)
        enriched = JsonResponse(data)
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
        if apps.is_installed("mfa_oauth.device"):
            # RFC 8628 §4: where devices start the device authorization grant (only with its app installed).
            data["device_authorization_endpoint"] = self._get_endpoint_url(request, "device-authorization")
        for key, view_name in (("revocation_endpoint", "revoke-token"), ("introspection_endpoint", "introspect")):
            # OIDC Discovery §3 allows the RFC 8414 fields too; they match the RFC 8414 document.
            data[key] = self._get_endpoint_url(request, view_name)
        truthful_metadata(data)
        par.metadata(request, data)  # RFC 9126 §5, RFC 7523 (mfa_oauth.par, mfa_oauth.client_auth)
        dpop.metadata(data)  # RFC 9449 §5.1 (mfa_oauth.dpop)
        rar.metadata(data)  # RFC 9396 §10 (mfa_oauth.rar)
        signing.metadata(data)  # OIDC Discovery §3 id_token_signing_alg_values_supported (mfa_oauth.oauth.signing)
        enriched = JsonResponse(data)
        enriched["Access-Control-Allow-Origin"] = "*"
        return enriched
