"""Protecting our own APIs with our access tokens: ``@require_api("provisioning")`` accepts only a
token made for that API (its audience), with its scope, issued to one of its clients
(config/authorization.toml)."""

from __future__ import annotations

from functools import wraps

from flask import g, jsonify, request

from idp.oidc import tokens
from shared import authorization


def bearer_claims(scope: str | None = None):
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":  # the scheme is case-insensitive (RFC 7235 §2.1)
        presented = header[7:].strip()
    elif request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded" and request.form.get("access_token"):
        presented = request.form["access_token"]  # RFC 6750 §2.2 form-encoded body parameter
    else:
        return None, ("invalid_token", "missing bearer token", 401)
    claims = tokens.decode_access_token(presented)
    if claims is None:
        return None, ("invalid_token", "invalid, expired or revoked token", 401)
    if scope and scope not in str(claims.get("scope", "")).split():
        return None, ("insufficient_scope", f"scope '{scope}' required", 403)
    return claims, None


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
