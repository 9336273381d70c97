"""Sign-in pages (thin): identifier, password, consent, resume; the IdP's home and sign-out pages."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from idp.flows import login as flow
from idp.flows.mfa import is_complete
from idp.oidc import interaction as interactions
from idp.services import accounts, branding, clients, consents, devices, sessions
from shared.web import safe_local_path

bp = Blueprint("login", __name__)


def _interaction_or_404(uid: str) -> interactions.Interaction:
    interaction = interactions.load(uid)
    if interaction is None:
        abort(404)
    return interaction


def _client_name(interaction) -> str:
    """The name of the service the person signs in to: the client's brand, else the IdP's own."""
    client = clients.get(interaction.client_id) if interaction.client_id else None
    return branding.brand_for(client).name


@bp.get("/signin")
def signin():
    """Sign in at the IdP itself (e.g. to reach the account page)."""
    target = safe_local_path(request.args.get("next"), "/")
    if is_complete(sessions.current_session()):
        return redirect(target)
    interaction = interactions.create(flow.INTERNAL, {"return_to": target})
    return redirect(url_for("login.identifier", uid=interaction.uid))


@bp.route("/interaction/<uid>", methods=["GET", "POST"])
def identifier(uid: str):
    interaction = _interaction_or_404(uid)
    errors = {}
    if request.method == "POST":
        error = flow.submit_identifier(interaction, request.form.get("identifier", ""))
        if error is None:
            return redirect(url_for("login.password", uid=uid))
        errors["identifier"] = error
    return identifier_page(interaction, errors, 400 if errors else 200)


def identifier_page(interaction: interactions.Interaction, errors: dict, status: int):
    """The identifier page, also shown again when a passkey sign-in from it was refused."""
    prefill = interaction.identifier if request.args.get("change") else interaction.params.get("login_hint", "")
    return render_template("idp/login_identifier.html", uid=interaction.uid, client_name=_client_name(interaction),
                           value=prefill or "", errors=errors, federation_offered=_federation_offered()), status


def _federation_offered() -> bool:
    try:
        from idp.upstream.registry import get_upstreams
    except ImportError:
        return False
    return bool(get_upstreams())


@bp.route("/interaction/<uid>/password", methods=["GET", "POST"])
def password(uid: str):
    interaction = _interaction_or_404(uid)
    if flow.state_of(interaction) is flow.State.IDENTIFIER:
        return redirect(url_for("login.identifier", uid=uid))
    errors, status, action = {}, 200, None
    if request.method == "POST":
        try:
            account = flow.submit_password(uid, interaction.identifier, request.form.get("password", ""))
        except flow.LoginRefused as refusal:
            errors["password"], status, action = refusal.message, refusal.status, refusal.action
        else:
            response = flow.complete_authentication(uid, account.id, ["pwd"])
            devices.remember(response, account.id)  # this browser proved the password: a known device
            return response
    return render_template("idp/login_password.html", uid=uid, identifier=interaction.identifier,
                           client_name=_client_name(interaction), errors=errors, action=action), status


@bp.get("/interaction/<uid>/resume")
def resume_login(uid: str):
    return redirect(flow.continue_url(uid))


@bp.route("/interaction/<uid>/consent", methods=["GET", "POST"])
def consent(uid: str):
    interaction = _interaction_or_404(uid)
    session = sessions.current_session()
    client = clients.get(interaction.client_id)
    if session is None or client is None:
        return redirect(url_for("login.identifier", uid=uid))
    if interaction.data.get("consent_asked_in") != session.sid:
        # not sent here by the authorization (a step, the second factor, is not passed, or another
        # session): it decides where this browser stands, and nothing is recorded
        return redirect(interactions.resume_url(uid))
    from authlib.oauth2 import OAuth2Error

    from idp.oidc import server as oidc

    try:
        request_ = oidc.validate_params(interaction.params)
    except OAuth2Error as error:  # the client changed meanwhile (redirect URI removed, disabled)
        return render_template("idp/authorize_error.html", error=error.error, description=error.description), 400
    if request.method == "POST" and interaction.data.get("consent_shown_to") == session.account_id:
        if request.form.get("decision") == "allow":
            consents.grant(session.account_id, client, request_.scopes)
            interaction.data["consented_by"] = session.account_id
            interactions.save(interaction)
            return redirect(interactions.resume_url(uid))
        interactions.delete(uid)
        from idp.web.oidc import _oauth_error

        return oidc.error_redirect(_oauth_error("access_denied"), request_.redirect_uri,
                                   interaction.params.get("state"), request_.response_mode)
    # the decision counts only for the account the page was shown to: a page left open while
    # another account signed in (another tab) asks again, naming the account now signed in
    interaction.data["consent_shown_to"] = session.account_id
    interactions.save(interaction)
    account = accounts.get(session.account_id)
    return render_template("idp/consent.html", uid=uid, client=client, scopes=request_.scopes,
                           account_email=account.email if account else ""), (409 if request.method == "POST" else 200)


@bp.get("/")
def home():
    session = sessions.current_session()
    account = accounts.get(session.account_id) if session else None
    return render_template("idp/home.html", account=account)


@bp.get("/logged-out")
def logged_out():
    return render_template("idp/logged_out.html")


@bp.post("/signout")
def signout():
    """Sign out from the IdP's own pages: ends the session everywhere (back-channel logout)."""
    session = sessions.current_session()
    if session:
        from idp.oidc.logout import LOGOUT_HOOKS

        upstream = None
        for hook in LOGOUT_HOOKS:
            upstream = upstream or hook(session, url_for("login.logged_out", _external=True))
        sessions.end_session(session.sid)
    else:
        upstream = None
    response = redirect(upstream or url_for("login.logged_out"))
    sessions.clear_cookie(response)
    return response
