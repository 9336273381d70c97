"""Protecting our own APIs with our access tokens: ``@require_token("provisioning")``."""

from __future__ import annotations

from functools import wraps

from flask import g, jsonify, request

from idp.oidc import tokens


def bearer_claims(scope: str | None = None):
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
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


def require_token(scope: str | None = None):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            claims, error = bearer_claims(scope)
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
