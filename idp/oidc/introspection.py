"""Token introspection (RFC 7662) for resource servers, with their own client credentials.

A token is described only to a client it was made for: an access token to a client named in its
``aud`` (the client it was issued to, for its own use) or to a resource server
config/authorization.toml names for one of the APIs in its ``aud`` (``resource_servers``); a
refresh token only to the client holding it. To anyone else, as for an unknown, expired or
revoked token, the answer is ``{"active": false}`` (RFC 7662 §2.2): introspection never tells a
resource server about another's tokens, nor whether they exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from idp.oidc import grants, tokens
from shared import authorization
from shared.appkit import get_settings

# Resource servers are confidential clients: a public client holds nothing to prove it is one
INTROSPECTION_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"]


@dataclass(frozen=True)
class IntrospectedToken:
    kind: str  # "access_token" or "refresh_token"
    claims: dict[str, Any] = field(default_factory=dict)

    def is_expired(self) -> bool:
        return False  # checked when it was found (signature, expiry, revocation, rotation)

    def is_revoked(self) -> bool:
        return False

    def audiences(self) -> list[str]:
        aud = self.claims.get("aud")
        return aud if isinstance(aud, list) else [aud]


def may_introspect(token: IntrospectedToken, client_id: str) -> bool:
    if token.kind == "refresh_token":  # noqa: S105 (a kind's name)
        return token.claims.get("client_id") == client_id
    audiences = token.audiences()
    if client_id in audiences:
        return True
    return any(api.audience in audiences and client_id in api.resource_servers
               for api in authorization.model().apis)


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = INTROSPECTION_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> IntrospectedToken | None:
        if len(token_string) > 8192:
            return None
        if token_type_hint != "refresh_token":  # noqa: S105 (a hint's name)
            claims = tokens.decode_access_token(token_string)
            if claims is not None:
                return IntrospectedToken("access_token", claims)
        if token_type_hint != "access_token":  # noqa: S105 (a hint's name)
            row = grants.find_refresh_token(token_string)
            if row is not None and not grants.expired(row):
                return IntrospectedToken("refresh_token", {
                    "client_id": row.client_id, "scope": row.scope, "iat": int(row.issued_at.timestamp()),
                    "exp": int(row.expires_at.timestamp()), "iss": get_settings().issuer})
        return None

    def check_permission(self, token: IntrospectedToken, client, request) -> bool:
        return may_introspect(token, client.client_id)

    def introspect_token(self, token: IntrospectedToken) -> dict[str, Any]:
        if token.kind == "refresh_token":  # noqa: S105
            return {"active": True, "token_type": "refresh_token", **token.claims}
        names = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti", "sid", "acr", "auth_time", "cnf")
        token_type = "DPoP" if "cnf" in token.claims else "Bearer"  # noqa: S105 (a type's name)
        return {"active": True, "token_type": token_type, **{n: token.claims[n] for n in names if n in token.claims}}
