"""Relying-party glue, written once for every portal.

    from shared.rp import init_rp, login_required, current_principal, require_bearer

    init_rp(app, settings, client_key="ecomms")   # adds /login /callback /logout /backchannel-logout

    @app.get("/")
    @login_required
    def home():
        principal = current_principal()           # .sub, .claims, .sid, .display_name
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, current_app, g, jsonify, redirect, request, url_for
from flask import session as browser_session  # `session` would be shadowed by the submodule

from shared import authorization
from shared.appkit import get_redis
from shared.config import Settings
from shared.rp.client import RelyingParty, RPError
from shared.rp.session import Principal, SessionStore
from shared.rp.views import SESSION_COOKIE_KEY, bp
from shared.tokens import TokenError, verify_access_token

__all__ = ["init_rp", "login_required", "current_principal", "require_bearer", "Principal", "RPError"]


def init_rp(app: Flask, settings: Settings, client_key: str) -> RelyingParty:
    """Register the sign-in routes; needs ``init_storage`` first (sessions live in Redis)."""
    relying_party = RelyingParty.from_config(settings, client_key)
    app.extensions["rp"] = relying_party
    with app.app_context():
        app.extensions["rp_sessions"] = SessionStore(get_redis(), client_key)
    app.register_blueprint(bp)

    @app.context_processor
    def principal_context():
        return {"principal": current_principal()}

    return relying_party


def relying_party() -> RelyingParty:
    return current_app.extensions["rp"]


def current_principal() -> Principal | None:
    if "principal" in g:
        return g.principal
    store: SessionStore = current_app.extensions["rp_sessions"]
    principal = store.load(browser_session.get(SESSION_COOKIE_KEY))
    if principal is None and SESSION_COOKIE_KEY in browser_session:
        browser_session.pop(SESSION_COOKIE_KEY)  # ended elsewhere (back-channel logout)
    g.principal = principal
    return principal


def login_required(view):
    """Signed-in users only; a session not re-checked at the IdP lately is re-checked silently."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        principal = current_principal()
        here = request.full_path.rstrip("?") if request.method == "GET" else request.path
        if principal is None or principal.expired_check:
            return redirect(url_for("rp.login", next=here))
        if principal.needs_recheck and request.method == "GET":
            return redirect(url_for("rp.login", next=here, prompt="none"))
        return view(*args, **kwargs)

    return wrapper


def require_bearer(scope: str, audience: str | None = None):
    """For JSON APIs called by other systems with an access token from our IdP. When the scope
    opens an API of config/authorization.toml, the token must also be made for that API (its
    audience) and issued to one of its clients."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return _auth_error(401, "invalid_token", "missing bearer token")
            try:
                api = authorization.model().api_for_scope(scope)
                g.token = verify_access_token(header[7:].strip(), relying_party().provider,
                                              None if api else scope, audience)
                refusal = authorization.token_acceptable(g.token, api) if api else None
                if refusal:
                    raise TokenError(refusal)
            except TokenError as error:
                status = 403 if error.reason == "insufficient scope" else 401
                code = "insufficient_scope" if status == 403 else "invalid_token"
                return _auth_error(status, code, error.reason)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _auth_error(status: int, code: str, description: str):
    response = jsonify(error=code, error_description=description)
    response.status_code = status
    response.headers["WWW-Authenticate"] = f'Bearer error="{code}", error_description="{description}"'
    return response
