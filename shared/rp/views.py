"""The portal's side of sign-in and sign-out: /login, /callback, /logout, /backchannel-logout.

One blueprint for every portal. Routes are thin: protocol steps live in ``RelyingParty``
(client.py), token checks in ``shared.tokens``, sessions in ``SessionStore``.
"""

from __future__ import annotations

import json
import secrets

from flask import Blueprint, abort, current_app, jsonify, redirect, request, session
from flask_babel import get_locale
from flask_babel import gettext as _

from shared.rp.client import RelyingParty, RPError, pkce_pair
from shared.rp.session import SessionStore
from shared.tokens import TokenError, verify_id_token, verify_logout_token
from shared.web import csrf, render_error, safe_local_path

SESSION_COOKIE_KEY = "rp_psid"
LOGIN_TTL = 600
SILENT_ERRORS = {"login_required", "interaction_required", "consent_required", "account_selection_required"}

bp = Blueprint("rp", __name__)


def rp() -> RelyingParty:
    return current_app.extensions["rp"]


def store() -> SessionStore:
    return current_app.extensions["rp_sessions"]


@bp.route("/login")
def login():
    target = safe_local_path(request.args.get("next"))
    prompt = request.args.get("prompt") if request.args.get("prompt") in ("none", "login") else None
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier, challenge = pkce_pair()
    transaction = {"next": target, "nonce": nonce, "verifier": verifier, "prompt": prompt}
    store().redis.set(f"{store().ns}:login:{state}", json.dumps(transaction), ex=LOGIN_TTL)
    # Bind the transaction to this browser too: a callback carrying someone else's state is refused.
    session["rp_states"] = ([*session.get("rp_states", [])] + [state])[-5:]
    try:
        url = rp().authorization_url(state, nonce, challenge, prompt=prompt or "",
                                     ui_locales=str(get_locale() or "fr"),
                                     login_hint=request.args.get("login_hint", ""))
    except Exception:  # discovery unreachable
        current_app.logger.exception("identity provider unreachable")
        abort(503)
    return redirect(url)


def _fail(message: str, status: int = 400):
    return render_error(status, _("Connexion impossible"), message)


@bp.route("/callback")
def callback():
    state = request.args.get("state", "")
    raw = store().redis.getdel(f"{store().ns}:login:{state}") if state else None
    if not raw or state not in session.get("rp_states", []):
        return _fail(_("Cette tentative de connexion a expiré ou ne vient pas de ce navigateur. Recommencez."))
    session["rp_states"] = [s for s in session.get("rp_states", []) if s != state]
    transaction = json.loads(raw)
    issuer = request.args.get("iss")
    if issuer is not None and issuer != rp().provider.issuer:  # RFC 9207: mix-up defence
        return _fail(_("La réponse ne vient pas du fournisseur d'identité attendu."))
    error = request.args.get("error")
    if error:
        if error in SILENT_ERRORS and transaction.get("prompt") == "none":
            _end_local_session()
            return redirect(transaction["next"])
        if error == "access_denied":
            return _fail(_("La connexion a été annulée."))
        return _fail(_("Le fournisseur d'identité a refusé la connexion."))
    try:
        tokens = rp().exchange_code(request.args.get("code", ""), transaction["verifier"])
        claims = verify_id_token(tokens.get("id_token", ""), rp().provider, rp().client_id, transaction["nonce"])
        userinfo = rp().userinfo(tokens["access_token"]) if tokens.get("access_token") else {}
    except (RPError, TokenError, KeyError) as error:
        current_app.logger.warning("sign-in refused: %s", error)
        return _fail(_("La connexion n'a pas pu être vérifiée. Recommencez."))
    if userinfo and userinfo.get("sub") != claims["sub"]:
        return _fail(_("La connexion n'a pas pu être vérifiée. Recommencez."))
    merged = {**claims, **userinfo}
    _end_local_session()
    session.clear()  # new session id at sign-in: no fixation
    principal = store().create(claims["sub"], merged, claims.get("sid"), tokens.get("id_token"),
                               tokens.get("access_token"))
    session[SESSION_COOKIE_KEY] = principal.session_id
    session.permanent = False
    return redirect(transaction["next"])


def _end_local_session() -> str | None:
    principal = store().load(session.get(SESSION_COOKIE_KEY))
    session.pop(SESSION_COOKIE_KEY, None)
    if principal:
        store().delete(principal.session_id)
        return principal.id_token
    return None


@bp.route("/logout", methods=["POST"])
def logout():
    id_token = _end_local_session()
    session.clear()
    try:
        return redirect(rp().end_session_url(id_token))
    except Exception:
        current_app.logger.exception("identity provider unreachable at logout")
        return redirect("/")


@bp.route("/backchannel-logout", methods=["POST"])
@csrf.exempt
def backchannel_logout():
    """OIDC Back-Channel Logout 1.0 §2.5: verify, refuse replays, end the matching sessions."""
    token = request.form.get("logout_token", "")
    try:
        claims = verify_logout_token(token, rp().provider, rp().client_id)
    except TokenError as error:
        current_app.logger.warning("logout token refused: %s", error.reason)
        return _no_store(jsonify(error="invalid_request", error_description=error.reason), 400)
    if not store().remember_once(f"jti:{claims['jti']}", 3600):
        return _no_store(jsonify(error="invalid_request", error_description="replayed logout token"), 400)
    store().end_matching(claims.get("sid"), claims.get("sub"))
    return _no_store(current_app.response_class(status=200), 200)


def _no_store(response, status: int):
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
