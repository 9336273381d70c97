"""Minting our JWTs: ID tokens (OIDC Core §2), access tokens (RFC 9068), logout tokens
(Back-Channel Logout §2.4); and the revocation list that makes access tokens revocable.

Access tokens are self-contained but carry ``gid`` (the grant: one authorization code and the
refresh tokens that descend from it); revoking a grant adds it to a Redis set checked at
userinfo and by every API, for as long as such an access token could still be alive.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import current_app
from joserfc import jwt

from shared.appkit import get_redis, get_settings

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Access tokens are read only by us and our resource servers (shared/tokens.py), which accept
# ES256: a P-256 signature costs a twentieth of an RSA-2048 one. ID and logout tokens keep the
# algorithm each client registered (RS256 by default), as every RP can verify them.
ACCESS_SIGNATURE_ALG = "ES256"


def keyring():
    return current_app.extensions["keyring"]


def lifetime(name: str, default: int) -> int:
    return int(get_settings().section("lifetimes").get(name, default))


def sign(claims: dict[str, Any], alg: str = "RS256", typ: str = "JWT") -> str:
    key = keyring().signing_key(alg)
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": typ}, claims, key, algorithms=[alg])


def id_token(claims: dict[str, Any], client, nonce: str | None = None) -> str:
    now = int(time.time())
    body = {"iss": get_settings().issuer, "aud": client.client_id, "iat": now,
            "exp": now + lifetime("id_token", 600), **claims}
    if nonce:
        body["nonce"] = nonce
    return sign(body, client.id_token_signed_response_alg or "RS256")


def access_token(sub: str, client, scope: str, gid: str | None, extra: dict[str, Any] | None = None,
                 audience: list[str] | None = None) -> tuple[str, int]:
    """``audience``: the client itself for a person's token (userinfo), plus each API it was granted."""
    now = int(time.time())
    expires_in = lifetime("access_token", 600)
    aud: str | list[str] = audience if audience and len(audience) > 1 else (audience or [client.client_id])[0]
    body = {"iss": get_settings().issuer, "sub": sub, "aud": aud, "client_id": client.client_id,
            "scope": scope, "iat": now, "exp": now + expires_in, "jti": secrets.token_urlsafe(16)}
    if gid:
        body["gid"] = gid
    body.update(extra or {})
    return sign(body, ACCESS_SIGNATURE_ALG, typ="at+jwt"), expires_in


def logout_token(client, sub: str | None, sid: str | None) -> str:
    now = int(time.time())
    body = {"iss": get_settings().issuer, "aud": client.client_id, "iat": now, "exp": now + 120,
            "jti": secrets.token_urlsafe(16), "events": {BACKCHANNEL_EVENT: {}}}
    if sub:
        body["sub"] = sub
    if sid:
        body["sid"] = sid
    return sign(body, client.id_token_signed_response_alg or "RS256", typ="logout+jwt")


def revoked_grant_key(gid: str) -> str:
    return f"idp:revoked-grant:{gid}"


def revoke_grant(gid: str) -> None:
    get_redis().set(revoked_grant_key(gid), "1", ex=lifetime("access_token", 600) + 120)


# Key prefixes of the two marks a code exchange reads too (grants.CONSUME_CODE builds the keys from the
# code's own sid, account and client, in the same script that spends it)
REVOKED_SID_PREFIX = "idp:revoked-sid:"  # + sid
WITHDRAWN_PREFIX = "idp:withdrawn:"  # + account_id + ":" + client_id, holding the withdrawal's time


def revoke_session(sid: str) -> None:
    """Every access token issued under this IdP session stops working (sign-out), refresh token or not;
    so does every authorization code issued under it (``grants.CONSUME_CODE``)."""
    get_redis().set(REVOKED_SID_PREFIX + sid, "1", ex=lifetime("access_token", 600) + 120)


def mark_withdrawn(account_id: str, client_id: str) -> None:
    """The person withdrew this service now: a code issued before is worth nothing (codes live a minute;
    ``grants.CONSUME_CODE`` compares this time with the code's ``issued_at``)."""
    get_redis().set(f"{WITHDRAWN_PREFIX}{account_id}:{client_id}", str(time.time()),
                    ex=lifetime("authorization_code", 60) + 120)


def revoke_jti(jti: str) -> None:
    """One access token revoked by its client (RFC 7009), for the rest of its lifetime."""
    get_redis().set(f"idp:revoked-jti:{jti}", "1", ex=lifetime("access_token", 600) + 120)


def revoked(claims: dict[str, Any]) -> bool:
    """The token itself, its grant or its session was revoked (one round trip for the marks)."""
    keys = [revoked_grant_key(claims["gid"])] if claims.get("gid") else []
    if claims.get("sid"):
        keys.append(REVOKED_SID_PREFIX + claims["sid"])
    if claims.get("jti"):
        keys.append(f"idp:revoked-jti:{claims['jti']}")
    return bool(keys) and bool(get_redis().exists(*keys))


def decode_access_token(token: str) -> dict[str, Any] | None:
    """Verify one of our access tokens: signature, typ, issuer, expiry, not revoked."""
    from joserfc.errors import JoseError
    from joserfc.jws import extract_compact

    try:
        header = extract_compact(token.encode()).headers()
        if header.get("alg") not in ("RS256", "ES256") or header.get("typ") != "at+jwt":
            return None
        claims = jwt.decode(token, keyring().verification_keys(), algorithms=["RS256", "ES256"]).claims
    except (JoseError, ValueError, UnicodeError):
        return None
    now = time.time()
    if claims.get("iss") != get_settings().issuer or not isinstance(claims.get("exp"), int) or claims["exp"] < now:
        return None
    if revoked(claims):
        return None
    return claims
