"""Cross-origin access for browser clients (a SPA on its own origin, oidc-client-ts style):
discovery, metadata, JWKS, token, userinfo, revocation and PAR answer a cross-origin request
only when its ``Origin`` is one a client registered (``allowed_origins``).

- A preflight names no client: any registered origin passes it.
- The answer itself names one: the token, revocation and PAR endpoints allow the origins of the
  client the request presents (``client_id``, Basic user or client assertion ``sub``), userinfo
  those of the client the access token was issued to. Another client's origin reads nothing.
- Never ``Access-Control-Allow-Credentials``: these endpoints take tokens, not cookies, so a
  page elsewhere can never ride the person's IdP session through them (Fetch standard §3.2.5).
"""

from __future__ import annotations

from flask import Response, g, make_response, request

from idp.oidc.client_auth import ClientNamedTwice, presented_client_id
from idp.services import clients

CORS_PATHS = frozenset({"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/jwks",
                        "/token", "/userinfo", "/revoke", "/par"})
ALLOWED_HEADERS = "Authorization, Content-Type, DPoP"
EXPOSED_HEADERS = "WWW-Authenticate, DPoP-Nonce"
PREFLIGHT_MAX_AGE = "600"


def origin_allowed(origin: str, client_id: str | None) -> bool:
    if client_id is None:
        return origin in clients.registered_origins()
    client = clients.get(client_id)
    return client is not None and origin in client.allowed_origins


def preflight() -> Response | None:
    """Blueprint ``before_request``: answer a CORS preflight on our endpoints."""
    if request.method != "OPTIONS" or request.path not in CORS_PATHS:
        return None
    response = make_response("", 204)
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin and origin_allowed(origin, None):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def apply(response: Response) -> Response:
    """Blueprint ``after_request``: allow the answer to be read by the origins of its client."""
    if request.path not in CORS_PATHS or request.method == "OPTIONS":
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if not origin:
        return response
    if request.path in ("/token", "/revoke", "/par"):
        try:
            client_id = presented_client_id()
        except ClientNamedTwice:  # refused by the route: no origin may read it as a client's
            client_id = None
    else:
        client_id = g.get("cors_client_id")  # userinfo: the access token's client, once verified
    if origin_allowed(origin, client_id):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response
