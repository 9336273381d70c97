"""Protecting our own APIs with our access tokens: ``@require_api("provisioning")`` accepts only a
token made for that API (its audience), with its scope, issued to one of its clients
(config/authorization.toml)."""

from __future__ import annotations

from functools import wraps

from flask import g, jsonify, request

from idp.oidc import dpop, tokens
from shared import authorization


def bearer_claims(scope: str | None = None):
    """The verified claims of the request's access token: a Bearer token (RFC 6750), or a DPoP
    one (RFC 9449 §7) with its proof of the key the token is bound to."""
    header = request.headers.get("Authorization", "")
    scheme = header.split(" ", 1)[0].lower()  # the scheme is case-insensitive (RFC 7235 §2.1)
    if scheme in ("bearer", "dpop"):
        presented = header[len(scheme) + 1:].strip()
    elif request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded" and request.form.get("access_token"):
        scheme, presented = "bearer", request.form["access_token"]  # RFC 6750 §2.2 form-encoded body parameter
    else:
        return None, ("invalid_token", "missing bearer token", 401)
    claims = tokens.decode_access_token(presented)
    if claims is None:
        return None, ("invalid_token", "invalid, expired or revoked token", 401)
    refusal = sender_refusal(claims, scheme, presented)
    if refusal:
        return None, ("invalid_token", refusal, 401)
    if scope and scope not in str(claims.get("scope", "")).split():
        return None, ("insufficient_scope", f"scope '{scope}' required", 403)
    return claims, None


def sender_refusal(claims: dict, scheme: str, presented: str) -> str | None:
    """Why a bound token's sender is not its holder: no proof, another key's, a stale one."""
    jkt = dpop.bound_key(claims)
    if jkt is None:
        return "an unbound token is sent as Bearer, not DPoP" if scheme == "dpop" else None
    if scheme != "dpop":
        return "this token is DPoP-bound: send it with the DPoP scheme and a proof"
    try:
        proof = dpop.check_proof(access_token=presented)
    except dpop.DPoPError as error:
        return error.description
    if proof is None or proof.jkt != jkt:
        return "the DPoP proof is not made with the key this token is bound to"
    return None


def api_claims(api_name: str):
    claims, error = bearer_claims()
    if error:
        return None, error
    refusal = authorization.token_acceptable(claims, authorization.model().api(api_name))
    if refusal == "insufficient scope":
        return None, ("insufficient_scope", f"scope '{authorization.model().api(api_name).scope}' required", 403)
    if refusal:
        return None, ("invalid_token", f"this token is not for this API ({refusal})", 401)
    return claims, None


def require_api(api_name: str):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            claims, error = api_claims(api_name)
            if error:
                code, description, status = error
                response = jsonify(error=code, error_description=description)
                response.status_code = status
                response.headers["WWW-Authenticate"] = f'Bearer error="{code}"'
                return response
            g.token = claims
            return view(*args, **kwargs)

        return wrapper

    return decorator
