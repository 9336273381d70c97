"""Protocol endpoints (thin): discovery, JWKS, authorize, token, userinfo, end session."""

from __future__ import annotations

import time

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request
from flask_babel import gettext as _

from idp.flows import login as login_flow
from idp.flows import phishing_resistant
from idp.flows.federation import pivot_session
from idp.flows.mfa import needs_second_factor
from idp.oidc import claims as claims_module
from idp.oidc import client_auth, cors, dpop, metadata, tokens
from idp.oidc import interaction as interactions
from idp.oidc import server as oidc
from idp.oidc.grants import AuthenticatedUser
from idp.oidc.resource import bearer_claims
from idp.services import accounts, clients, consents, registration, sessions
from shared.appkit import get_settings
from shared.web import csrf

bp = Blueprint("oidc", __name__)


bp.before_request(cors.preflight)
bp.after_request(cors.apply)


@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")  # RFC 8414: the same document
def discovery():
    document = current_app.config.get("DISCOVERY_CACHE")
    if document is None:
        document = current_app.config["DISCOVERY_CACHE"] = metadata.document(get_settings().issuer)
    response = jsonify(document)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/jwks")
def jwks():
    response = jsonify(tokens.keyring().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _error_page(error: OAuth2Error):
    """Errors we must not redirect (unknown client, bad redirect URI): an HTML page, status 400."""
    return render_template("idp/authorize_error.html", error=error.error, description=error.description), 400


def _login_needed(request_: oidc.AuthorizationRequest, session, interaction=None) -> bool:
    if session is None:
        return True
    account = accounts.get(session.account_id)
    if account is None or account.status != "active":
        return True
    if "login" in request_.prompt and not (interaction and interaction.authenticated_at):
        return True
    max_age = request_.params.get("max_age")
    if max_age is not None and time.time() - session.auth_time > int(max_age):
        return not (interaction and interaction.authenticated_at)
    if request_.requested_acr and not _acr_satisfied(session, request_.requested_acr):
        return True
    if request_.client.policy.get("require_federation") and "fed" not in session.amr:
        return True
    if request_.client.policy.get("require_pivot") and not pivot_session(session):
        return True  # a standard provider's sign-in is not the FranceConnect identity this client needs
    if needs_second_factor(session, account.id, request_.client):
        return True
    if (phishing_resistant.required(request_.client, request_.requested_acr, account)
            and not phishing_resistant.phishing_resistant(session.amr)):
        return True  # a password and a TOTP code are not enough for this client: a passkey is
    return False


EIDAS = {"eidas1": 1, "eidas2": 2, "eidas3": 3}
SECOND_FACTORS = {"otp", "mfa", "hwk", "swk"}


def achieved_acrs(session) -> set[str]:
    """The advertised acr values this session's authentication satisfies: ``pwd`` any primary
    sign-in, ``mfa`` a second factor (or eIDAS substantial and above), an eIDAS level every level
    up to the one the upstream provider asserted."""
    amr = set(session.amr or [])
    achieved = {session.acr} if session.acr else set()
    if session.acr in EIDAS:
        achieved |= {level for level, rank in EIDAS.items() if rank <= EIDAS[session.acr]}
        if EIDAS[session.acr] >= 2:
            achieved.add("mfa")
    if amr & {"pwd", "fed"}:
        achieved.add("pwd")
    if amr & SECOND_FACTORS:
        achieved.add("mfa")
    if phishing_resistant.phishing_resistant(session.amr):
        achieved.add(phishing_resistant.PHISHING_RESISTANT)
    return achieved


def _acr_satisfied(session, requested: list[str]) -> bool:
    return bool(achieved_acrs(session) & set(requested))


def _acr_claim(request_: oidc.AuthorizationRequest, session) -> str | None:
    """The acr the ID token states: what the authentication itself asserted (an upstream's eIDAS
    level), else the first requested value this session satisfies."""
    if session.acr:
        return session.acr
    achieved = achieved_acrs(session)
    return next((value for value in request_.requested_acr if value in achieved), None)


def _start_interaction(request_: oidc.AuthorizationRequest):
    interaction = interactions.create(request_.client.client_id, request_.params)
    wants_eidas = any(value in EIDAS for value in request_.params.get("acr_values", "").split())
    if request_.client.policy.get("require_federation") or request_.client.policy.get("require_pivot") or wants_eidas:
        return redirect(f"/interaction/{interaction.uid}/providers")
    return redirect(f"/interaction/{interaction.uid}")


def _finish(request_: oidc.AuthorizationRequest, session, interaction=None):
    """The user is authenticated: check consent, then issue the code."""
    prompt = request_.prompt
    consented = consents.has_consent(session.account_id, request_.client, request_.scopes)
    if "none" in prompt and not consented:
        return oidc.error_redirect(_oauth_error("consent_required"), request_.redirect_uri, request_.params.get("state"),
                                   request_.response_mode)
    if not consented or "consent" in prompt:
        if interaction is None:
            interaction = interactions.create(request_.client.client_id, request_.params)
        # the decision taken in this browser, by this account, on this page: nothing else counts
        if interaction.data.get("consented_by") != session.account_id:
            # the consent page answers only to the session that got here, past every check above
            # and every post-login step: typed in before the second factor, it sends the browser back
            interaction.data["consent_asked_in"] = session.sid
            interactions.save(interaction)
            return redirect(f"/interaction/{interaction.uid}/consent")
    account = accounts.get(session.account_id)
    sessions.touch_client(session, request_.client.client_id)
    user = AuthenticatedUser(account, session.sid, session.auth_time, session.amr, _acr_claim(request_, session),
                             session.context)
    if interaction is not None:
        interactions.delete(interaction.uid)
    return oidc.authorization_response(request_, user)


def _oauth_error(code: str) -> OAuth2Error:
    error = OAuth2Error()
    error.error = code
    return error


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt
def authorize():
    try:
        request_ = oidc.validate_flask_request(request)
    except OAuth2Error as error:
        if error.redirect_uri:
            mode = request.values.get("response_mode")
            return oidc.error_redirect(error, error.redirect_uri, request.values.get("state"),
                                       mode if mode in oidc.RESPONSE_MODES else "query")
        return _error_page(error)
    session = sessions.current_session()
    if _login_needed(request_, session):
        if "none" in request_.prompt:
            return oidc.error_redirect(_oauth_error("login_required"), request_.redirect_uri,
                                       request_.params.get("state"), request_.response_mode)
        return _start_interaction(request_)
    return _finish(request_, session)


@bp.get("/authorize/resume/<uid>")
def resume(uid: str):
    interaction = interactions.load(uid)
    if interaction is not None and not interaction.client_id:  # started at the IdP itself
        return redirect(f"/interaction/{uid}/resume")
    if interaction is None:
        return render_template("idp/authorize_error.html", error="interaction_expired",
                               description=_("Cette demande de connexion a expiré. Retournez sur le site et recommencez.")), 400
    try:
        request_ = oidc.validate_params(interaction.params)
    except OAuth2Error as error:
        return _error_page(error)
    session = sessions.current_session()
    if session is not None and login_flow.steps_pending(interaction):
        return redirect(f"/interaction/{uid}/resume")  # the step not passed yet, never past it
    if (session is not None and interaction.authenticated_at is not None and request_.requested_acr
            and not _acr_satisfied(session, request_.requested_acr)):
        # the person signed in here and still cannot give what was asked (a second factor the
        # account does not have, an eIDAS level by password): say so instead of asking again
        interactions.delete(uid)
        return oidc.error_redirect(_oauth_error("unmet_authentication_requirements"), request_.redirect_uri,
                                   request_.params.get("state"), request_.response_mode)
    if _login_needed(request_, session, interaction):
        return redirect(f"/interaction/{uid}")
    return _finish(request_, session, interaction)


def _client_refusal() -> object | None:
    """A request naming two clients, or with unreadable credentials: refused before any policy
    (DPoP, CORS) is read for one of them or anything is spent (RFC 6749 §2.3: one method)."""
    try:
        client_auth.presented_client_id()
    except client_auth.ClientNamedTwice as error:
        response = jsonify(error="invalid_client", error_description=str(error))
        response.status_code = 401
        response.headers["Cache-Control"] = "no-store"
        return response
    return None


def _dpop_refusal(check) -> object | None:
    """Verify the request's DPoP proof (``g.dpop_jkt``: its key, or None); the refusal if it is wrong."""
    try:
        proof = check()
    except dpop.DPoPError as error:
        response = jsonify(error=error.error, error_description=error.description)
        response.status_code = 400
        response.headers["Cache-Control"] = "no-store"
        return response
    g.dpop_jkt = proof.jkt if proof else None
    return None


@bp.post("/token")
@csrf.exempt
def token():
    refusal = _client_refusal() or _dpop_refusal(dpop.check_token_request)
    if refusal is not None:
        return refusal
    response = oidc.server.create_token_response()
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _endpoint(name: str):
    response = oidc.server.create_endpoint_response(name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/revoke")
@csrf.exempt
def revoke():
    """RFC 7009: a client revokes one of its tokens (and with it the grant it belongs to)."""
    return _client_refusal() or _endpoint("revocation")


@bp.post("/introspect")
@csrf.exempt
def introspect():
    """RFC 7662: a resource server asks about a token made for it."""
    return _client_refusal() or _endpoint("introspection")


@bp.post("/par")
@csrf.exempt
def pushed_authorization_request():
    """RFC 9126: a client pushes its authorization request and gets a request_uri (with a DPoP
    proof, the code will be bound to its key)."""
    return _client_refusal() or _dpop_refusal(dpop.check_proof) or _endpoint("par")


def _registration_answer(call, status: int = 200):
    try:
        body = call()
    except registration.RegistrationError as error:
        response = jsonify(error=error.error, error_description=error.description)
        response.status_code = error.status
        if error.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    else:
        response = (jsonify(body), status) if body is not None else ("", 204)
        response = current_app.make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else None


@bp.post("/register")
@csrf.exempt
def register_client():
    """RFC 7591: a client registers itself with an initial access token."""
    return _registration_answer(lambda: registration.register(_bearer(), request.get_json(silent=True)), 201)


@bp.route("/register/<client_id>", methods=["GET", "PUT", "DELETE"])
@csrf.exempt
def client_configuration(client_id: str):
    """RFC 7592: the client reads, replaces or deletes its registration with its registration token."""
    if request.method == "GET":
        return _registration_answer(lambda: registration.read(client_id, _bearer()))
    if request.method == "PUT":
        return _registration_answer(lambda: registration.update(client_id, _bearer(), request.get_json(silent=True)))
    return _registration_answer(lambda: registration.delete(client_id, _bearer()))


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf.exempt
def userinfo():
    claims, error = bearer_claims("openid")
    if error:
        code, description, status = error
        response = jsonify(error=code, error_description=description)
        response.status_code = status
        response.headers["WWW-Authenticate"] = f'Bearer error="{code}"'
        return response
    g.cors_client_id = claims.get("client_id")
    client = clients.get(claims.get("client_id"))
    aud = claims.get("aud")
    if claims.get("client_id") not in (aud if isinstance(aud, list) else [aud]):  # made for an API, not for us
        return jsonify(error="invalid_token", error_description="not a token for userinfo"), 401
    account_id = _account_for(claims, client)
    account = accounts.get(account_id) if account_id else None
    if client is None or account is None or account.status != "active":
        return jsonify(error="invalid_token", error_description="unknown subject"), 401
    context = {}
    if claims.get("sid"):
        session = sessions.load(claims["sid"])
        context = session.context if session else {}
    return jsonify(claims_module.claims_for(account, client, claims.get("scope", ""), context))


def _account_for(claims: dict, client) -> str | None:
    """Map a pairwise ``sub`` back to the account (index written when the token was issued)."""
    from shared.appkit import get_redis

    return get_redis().get(f"idp:sub-index:{claims.get('client_id')}:{claims.get('sub')}")


@bp.route("/logout", methods=["GET", "POST"])
@csrf.exempt
def end_session():
    from idp.oidc import end_session as flow

    return flow.handle()
