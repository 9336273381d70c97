"""Pushed authorization requests (RFC 9126): a client POSTs its authorization parameters to
``/par``, authenticated as at the token endpoint, and gets a one-time ``request_uri`` to send the
browser to ``/authorize`` with. Nothing the browser carries can then change the request.

- The pushed parameters are validated as an authorization request of the authenticated client
  (redirect URI, PKCE, prompt…) before a ``request_uri`` is issued; errors come back as JSON.
- A ``request_uri`` lives ``LIFETIME`` seconds in Redis, belongs to its client and is spent on
  first use at ``/authorize`` (GETDEL): a leaked one is useless once the browser used it.
- A DPoP proof sent with the push (or ``dpop_jkt``) binds the authorization code to that key:
  the code is exchanged only with a proof of it (RFC 9449 §10).
- A client with ``policy.require_par`` may only start through here (§6): ``/authorize`` refuses
  its plain requests.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable

from authlib.consts import default_json_headers
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError, TokenEndpoint
from flask import g

from shared.appkit import get_redis

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
LIFETIME = 60
# client authentication travels with the push, never into the stored authorization request
CREDENTIALS = ("client_secret", "client_assertion", "client_assertion_type")


def _key(request_uri: str, client_id: str) -> str:
    """Keyed by its client too: another client's (or no) client_id cannot spend someone's request
    (outside review: the GETDEL came before the ownership check, so anyone seeing it could cancel it)."""
    return f"idp:par:{hashlib.sha256(f'{client_id} {request_uri}'.encode()).hexdigest()}"


def push(client_id: str, params: dict[str, str]) -> str:
    request_uri = REQUEST_URI_PREFIX + secrets.token_urlsafe(32)
    get_redis().set(_key(request_uri, client_id), json.dumps({"client_id": client_id, "params": params}), ex=LIFETIME)
    return request_uri


def take(request_uri: str, client_id: str | None) -> dict[str, str] | None:
    """The pushed parameters, once; None when unknown, expired, spent or another client's."""
    if not client_id:
        return None
    raw = get_redis().getdel(_key(request_uri, client_id))
    if raw is None:
        return None
    stored = json.loads(raw)
    if not client_id or stored["client_id"] != client_id:
        return None
    return stored["params"]


class PushedAuthorization(TokenEndpoint):
    """Authlib endpoint ``par``; ``validate`` checks the parameters as an authorization request
    (``idp.oidc.server.validate_params``) and raises its OAuth2Error."""

    ENDPOINT_NAME = "par"

    def __init__(self, server, validate: Callable[[dict[str, str]], object], auth_methods: list[str]):
        super().__init__(server)
        self.validate = validate
        self.CLIENT_AUTH_METHODS = auth_methods

    def create_endpoint_response(self, request):
        client = self.authenticate_endpoint_client(request)
        params = {k: v for k, v in request.form.items() if k not in CREDENTIALS}
        if "request_uri" in params:
            raise InvalidRequestError("request_uri cannot be pushed (RFC 9126 section 2.1)")
        if params.get("client_id", client.client_id) != client.client_id:
            raise InvalidRequestError("client_id does not match the authenticated client")
        params["client_id"] = client.client_id
        jkt = g.get("dpop_jkt")  # a DPoP proof sent with the push binds the code to its key (RFC 9449 §10.1)
        if jkt and params.setdefault("dpop_jkt", jkt) != jkt:
            raise InvalidRequestError("dpop_jkt does not match the DPoP proof's key")
        try:
            self.validate(params)
        except OAuth2Error as error:
            error.redirect_uri = None  # answered to the client, here, as JSON (RFC 9126 §2.3)
            raise
        return 201, {"request_uri": push(client.client_id, params), "expires_in": LIFETIME}, default_json_headers
