"""Token revocation (RFC 7009) on Authlib's endpoint: a client revokes its own tokens.

A refresh token, or an access token issued under a grant, revokes the whole grant (its refresh
tokens and access tokens, ``grants.revoke_family``); a client-credentials access token is revoked
by its ``jti`` for the rest of its lifetime. Another client's token is refused; an unknown or
already invalid token answers 200 (RFC 7009 §2.2), so the endpoint tells nothing about tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc7009 import RevocationEndpoint

from idp.oidc import grants, tokens


@dataclass(frozen=True)
class RevocableToken:
    client_id: str
    family_id: str | None = None
    jti: str | None = None

    def check_client(self, client) -> bool:
        return self.client_id == client.client_id


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = grants.TOKEN_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> RevocableToken | None:
        if len(token_string) > 8192:
            return None
        if token_type_hint != "refresh_token":  # noqa: S105 (a hint's name)
            claims = tokens.decode_access_token(token_string)
            if claims is not None:
                return RevocableToken(claims.get("client_id", ""), claims.get("gid"), claims.get("jti"))
        if token_type_hint != "access_token":  # noqa: S105 (a hint's name)
            found = grants.find_refresh_token(token_string)
            if found is not None:
                return RevocableToken(found.client_id, found.family_id)
        return None

    def revoke_token(self, token: RevocableToken, request) -> None:
        if token.family_id:
            grants.revoke_family(token.family_id, "revoked by its client (RFC 7009)")
        elif token.jti:
            tokens.revoke_jti(token.jti)
