"""A portal as an OpenID Connect client of the IdP: authorization request (code + PKCE S256,
state, nonce), code exchange, refresh, client-credentials tokens, end-session URL.

Written once for every portal. Client id and policy come from ``config/clients.toml``; the
secret from ``<KEY>_CLIENT_SECRET`` or, in development, the file ``idp clients sync`` wrote in
``instance/client-secrets/``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

from shared import authorization
from shared.config import Settings, load_toml
from shared.tokens import ProviderMetadata


class RPError(Exception):
    """The IdP answered with an error or could not be reached."""


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@dataclass
class RelyingParty:
    settings: Settings
    client_key: str
    client_id: str
    redirect_uri: str
    post_logout_redirect_uri: str
    scope: str
    provider: ProviderMetadata
    extra_params: dict[str, str] = field(default_factory=dict)
    _cc_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, settings: Settings, client_key: str) -> RelyingParty:
        entry = load_toml("clients.toml").get(client_key, {})
        public = settings.public_url
        scope = entry.get("scope", "openid profile email")
        # Portals need no offline access at the IdP: their sessions are short and re-checked; and a
        # sign-in asks only what a person's sign-in can give (an API scope such as provisioning or
        # support comes with the portal's own client-credentials token, config/authorization.toml).
        client_id = entry.get("client_id", client_key)
        scope = " ".join(s for s in scope.split()
                         if s != "offline_access" and authorization.model().may_obtain(client_id, s, "authorization_code"))
        return cls(
            settings=settings,
            client_key=client_key,
            client_id=entry.get("client_id", client_key),
            redirect_uri=f"{public}/callback",
            post_logout_redirect_uri=f"{public}/",
            scope=scope,
            provider=ProviderMetadata(settings.issuer, internal_url=os.environ.get("IDP_INTERNAL_URL")),
        )

    @property
    def client_secret(self) -> str:
        from_env = os.environ.get(f"{self.client_key.upper()}_CLIENT_SECRET")
        if from_env:
            return from_env
        path = self.settings.instance_path / "client-secrets" / self.client_id
        if not path.exists():
            raise RPError(f"no client secret: set {self.client_key.upper()}_CLIENT_SECRET or run `idp clients sync`")
        return path.read_text().strip()

    def authorization_url(self, state: str, nonce: str, code_challenge: str, **params: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            **self.extra_params,
            **{k: v for k, v in params.items() if v},
        }
        return f"{self.provider.public_endpoint('authorization_endpoint')}?{urlencode(query)}"

    def _token_request(self, data: dict[str, str]) -> dict[str, Any]:
        try:
            response = self.provider.http.post(
                self.provider.endpoint("token_endpoint"), data=data,
                auth=(self.client_id, self.client_secret), timeout=15,
            )
        except requests.RequestException as error:
            raise RPError(f"token endpoint unreachable: {error.__class__.__name__}") from error
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code != 200:
            raise RPError(body.get("error", f"http {response.status_code}"))
        return body

    def exchange_code(self, code: str, code_verifier: str) -> dict[str, Any]:
        return self._token_request({
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": self.redirect_uri, "code_verifier": code_verifier,
        })

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        return self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def client_credentials_token(self, scope: str) -> str:
        """A cached client-credentials access token for calling the IdP's APIs."""
        cached = self._cc_tokens.get(scope)
        if cached and cached[1] - 30 > time.time():
            return cached[0]
        body = self._token_request({"grant_type": "client_credentials", "scope": scope})
        token = body["access_token"]
        self._cc_tokens[scope] = (token, time.time() + int(body.get("expires_in", 300)))
        return token

    def userinfo(self, access_token: str) -> dict[str, Any]:
        response = self.provider.http.get(self.provider.endpoint("userinfo_endpoint"),
                                          headers={"Authorization": f"Bearer {access_token}"}, timeout=10)
        if response.status_code != 200:
            raise RPError(f"userinfo http {response.status_code}")
        return response.json()

    def end_session_url(self, id_token: str | None, state: str | None = None) -> str:
        query = {"post_logout_redirect_uri": self.post_logout_redirect_uri, "client_id": self.client_id}
        if id_token:
            query["id_token_hint"] = id_token
        if state:
            query["state"] = state
        return f"{self.provider.public_endpoint('end_session_endpoint')}?{urlencode(query)}"
