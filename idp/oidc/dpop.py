"""DPoP (RFC 9449): tokens bound to a key the client holds, so a stolen token is useless alone.

- At the token endpoint a ``DPoP`` header (a proof: a JWT of ``typ`` dpop+jwt signed by the
  public key in its own header) binds the new access token to that key: ``cnf.jkt`` (its
  RFC 7638 thumbprint), ``token_type`` DPoP. A public client's refresh tokens are bound too
  (§5): refreshing needs a proof of the same key. A client with ``policy.require_dpop`` (its
  FAPI 2.0 sender-constraining) must send one.
- Where a bound access token is used (userinfo, our APIs) the request carries
  ``Authorization: DPoP <token>`` and a proof of the same key over that method and URL, with
  ``ath`` the token's hash. Presented as a Bearer token, a bound token is refused.
- Each proof is fresh (``iat`` within ``WINDOW`` seconds) and its ``jti`` spent once (Redis).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass

from flask import request
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry
from joserfc.util import json_b64decode

from idp.oidc.client_auth import presented_client_id
from idp.services import clients, fapi
from shared.appkit import get_redis, get_settings

ALGORITHMS = ["RS256", "PS256", "ES256"]
WINDOW = 60  # seconds a proof's iat may be off (RFC 9449 §11.1: short)
MAX_PROOF = 4096


class DPoPError(Exception):
    """``invalid_dpop_proof`` (RFC 9449 §7.1) with what was wrong."""

    error = "invalid_dpop_proof"

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class Proof:
    jkt: str
    claims: dict


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def access_token_hash(token: str) -> str:
    return _b64(hashlib.sha256(token.encode()).digest())


def endpoint_url() -> str:
    """The URL the proof must name: our issuer's origin and the request's path, no query."""
    return f"{get_settings().issuer}{request.path}"


def check_proof(access_token: str | None = None, algorithms: list[str] = ALGORITHMS) -> Proof | None:
    """The request's DPoP proof, verified, or None when it has none; DPoPError when it is wrong."""
    values = request.headers.getlist("DPoP")
    if not values:
        return None
    if len(values) > 1 or len(values[0]) > MAX_PROOF:
        raise DPoPError("send exactly one DPoP proof")
    proof = values[0]
    try:
        header = json_b64decode(proof.split(".")[0].encode())
    except (ValueError, IndexError, UnicodeError):
        raise DPoPError("the DPoP proof is not a JWT") from None
    if not isinstance(header, dict) or header.get("typ") != "dpop+jwt" or header.get("alg") not in algorithms:
        raise DPoPError(f"the DPoP proof must be typ dpop+jwt, alg one of {', '.join(algorithms)}")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or "d" in jwk or jwk.get("kty") not in ("RSA", "EC"):
        raise DPoPError("the DPoP proof must carry its public key (jwk)")
    try:
        key = JWKRegistry.import_key(jwk)
        claims = _claims(jws.deserialize_compact(proof, key, algorithms=algorithms).payload)
    except (JoseError, ValueError, TypeError):
        raise DPoPError("the DPoP proof's signature does not verify with its key") from None
    if claims.get("htm") != request.method or claims.get("htu") != endpoint_url():
        raise DPoPError("the DPoP proof was made for another method or URL")
    iat = claims.get("iat")
    if not isinstance(iat, int) or abs(time.time() - iat) > WINDOW:
        raise DPoPError("the DPoP proof is too old or from the future")
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise DPoPError("the DPoP proof does not name this access token (ath)")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 256:
        raise DPoPError("the DPoP proof needs a jti")
    jkt = key.thumbprint()
    if not get_redis().set(f"idp:dpop-jti:{jkt}:{jti}", "1", nx=True, ex=2 * WINDOW):
        raise DPoPError("this DPoP proof was already used")
    return Proof(jkt, claims)


def _claims(payload: bytes) -> dict:
    claims = json.loads(payload)
    if not isinstance(claims, dict):
        raise ValueError("not an object")
    return claims


def check_token_request() -> Proof | None:
    """The token endpoint's proof (None without one); a client that must use DPoP is refused
    before anything of its grant (a code, a refresh token) is spent."""
    client = clients.get(presented_client_id())
    proof = check_proof(algorithms=fapi.algorithms(client, ALGORITHMS) if client else ALGORITHMS)
    if proof is None:
        if client is not None and client.policy.get("require_dpop"):
            raise DPoPError("this client must send a DPoP proof")
    return proof


def bound_key(claims: dict) -> str | None:
    """The thumbprint an access token is bound to (``cnf.jkt``), if any."""
    cnf = claims.get("cnf")
    return cnf.get("jkt") if isinstance(cnf, dict) else None
