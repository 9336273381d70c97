"""RP-initiated logout (OIDC RP-Initiated Logout 1.0): /logout with ``id_token_hint``,
a registered ``post_logout_redirect_uri`` and ``state``; a confirmation page otherwise.

Ending the session revokes its refresh tokens and queues back-channel logouts (logout.py); a
federated session also ends at the upstream provider through ``LOGOUT_HOOKS``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import redirect, render_template, request
from joserfc import jwt
from joserfc.errors import JoseError

from idp.oidc import tokens
from idp.oidc.logout import LOGOUT_HOOKS
from idp.services import clients, sessions
from shared.appkit import get_settings


def _hint_claims(id_token_hint: str | None) -> dict | None:
    """An ID token this IdP issued to one of its clients, signature checked; an expired one is
    still a valid hint. Our access and logout tokens are signed with the same keys: their
    ``typ`` (at+jwt, logout+jwt) and their claims (client_id, scope, events) set them apart."""
    if not id_token_hint or len(id_token_hint) > 8192:
        return None
    try:
        token = jwt.decode(id_token_hint, tokens.keyring().verification_keys(), algorithms=["RS256", "ES256"])
    except (JoseError, ValueError, UnicodeError):
        return None
    claims = token.claims
    if token.header.get("typ", "JWT") != "JWT" or claims.get("iss") != get_settings().issuer:
        return None
    if any(name in claims for name in ("client_id", "scope", "events")) or not isinstance(claims.get("aud"), str):
        return None
    return claims if clients.get(claims["aud"]) is not None else None


def _destination(params, hint: dict | None) -> str | None:
    target = params.get("post_logout_redirect_uri")
    if not target:
        return None
    client_id = (hint or {}).get("aud") or params.get("client_id")
    if isinstance(client_id, list):
        client_id = client_id[0] if client_id else None
    client = clients.get(client_id)
    if client is None or target not in client.post_logout_redirect_uris:
        return None
    if params.get("client_id") and hint and params.get("client_id") != client_id:
        return None
    if params.get("state"):
        target = f"{target}{'&' if '?' in target else '?'}{urlencode({'state': params['state']})}"
    return target


def _end_and_redirect(destination: str | None):
    session = sessions.current_session()
    upstream_url = None
    if session is not None:
        for hook in LOGOUT_HOOKS:
            upstream_url = upstream_url or hook(session, destination or f"{get_settings().issuer}/logged-out")
        sessions.end_session(session.sid)
    response = redirect(upstream_url or destination or "/logged-out")
    sessions.clear_cookie(response)
    return response


def handle():
    params = request.values
    hint = _hint_claims(params.get("id_token_hint"))
    if params.get("id_token_hint") and hint is None:
        return render_template("idp/logout_error.html"), 400
    destination = _destination(params, hint)
    if params.get("post_logout_redirect_uri") and destination is None:
        return render_template("idp/logout_error.html"), 400
    session = sessions.current_session()
    if request.method == "POST" and request.form.get("confirm") == "yes":
        from flask_wtf.csrf import validate_csrf

        validate_csrf(request.form.get("csrf_token"))
        return _end_and_redirect(destination)
    if hint is not None and session is not None and hint.get("sid") == session.sid:
        return _end_and_redirect(destination)  # the hint proves the request comes from this session's client
    if session is None:
        return redirect(destination or "/logged-out")
    return render_template("idp/logout_confirm.html", params=params)
