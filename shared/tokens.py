"""Verifying the IdP's JWTs on the relying-party side, against a cached JWKS.

Only asymmetric algorithms we publish are accepted (``alg: none`` and HS* are refused before any
key is looked at), so a token signed with the public key as an HMAC secret cannot pass.
Spec: OIDC Core §3.1.3.7 (ID token), OIDC Back-Channel Logout §2.4/§2.6 (logout token),
RFC 9068 (JWT access tokens).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

ALLOWED_ALGORITHMS = ("RS256", "ES256")
LEEWAY = 60  # seconds of clock skew tolerated
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class TokenError(Exception):
    """A token is not acceptable; ``reason`` says why (for logs and tests, not for end users)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class ProviderMetadata:
    """The IdP's discovery document and JWKS, fetched lazily and cached.

    The JWKS is refetched when a token names an unknown ``kid`` (key rotation), at most once
    every ``min_refresh`` seconds so a flood of bogus kids cannot hammer the IdP.
    """

    issuer: str
    internal_url: str | None = None  # where to reach the issuer from this process, when it differs
    ttl: int = 3600
    min_refresh: int = 10
    http: requests.Session = field(default_factory=requests.Session)
    _discovery: dict[str, Any] | None = None
    _discovery_at: float = 0.0
    _jwks: KeySet | None = None
    _jwks_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _url(self, url: str) -> str:
        if self.internal_url and url.startswith(self.issuer):
            return self.internal_url.rstrip("/") + url[len(self.issuer):]
        return url

    def discovery(self) -> dict[str, Any]:
        with self._lock:
            if self._discovery is None or time.monotonic() - self._discovery_at > self.ttl:
                response = self.http.get(self._url(self.issuer + "/.well-known/openid-configuration"), timeout=10)
                response.raise_for_status()
                document = response.json()
                if document.get("issuer") != self.issuer:
                    raise TokenError("discovery issuer mismatch")
                self._discovery, self._discovery_at = document, time.monotonic()
            return self._discovery

    def endpoint(self, name: str) -> str:
        return self._url(self.discovery()[name])

    def public_endpoint(self, name: str) -> str:
        """As published: for URLs the user's browser follows."""
        return self.discovery()[name]

    def jwks(self, force: bool = False) -> KeySet:
        with self._lock:
            stale = self._jwks is None or time.monotonic() - self._jwks_at > self.ttl
            may_refresh = time.monotonic() - self._jwks_at > self.min_refresh
            if stale or (force and may_refresh):
                jwks_uri = self._url((self._discovery or {}).get("jwks_uri") or self.issuer + "/jwks")
                response = self.http.get(jwks_uri, timeout=10)
                response.raise_for_status()
                self._jwks, self._jwks_at = KeySet.import_key_set(response.json()), time.monotonic()
            return self._jwks


def _header(token: str) -> dict[str, Any]:
    try:
        return extract_compact(token.encode()).headers()
    except (JoseError, ValueError, UnicodeError) as error:
        raise TokenError("malformed token") from error


def decode_verified(token: str, provider: ProviderMetadata) -> dict[str, Any]:
    """Signature and algorithm check only; claims are checked by the callers below."""
    header = _header(token)
    if header.get("alg") not in ALLOWED_ALGORITHMS:
        raise TokenError(f"algorithm not allowed: {header.get('alg')!r}")
    keys = provider.jwks()
    kid = header.get("kid")
    if kid and not any(key.kid == kid for key in keys.keys):
        keys = provider.jwks(force=True)
    try:
        return jwt.decode(token, keys, algorithms=list(ALLOWED_ALGORITHMS)).claims
    except (JoseError, ValueError) as error:
        raise TokenError(f"bad signature or payload: {error.__class__.__name__}") from error


def _check_times(claims: dict[str, Any], now: float, require_exp: bool = True) -> None:
    exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf")
    if require_exp and not isinstance(exp, int | float):
        raise TokenError("missing exp")
    if isinstance(exp, int | float) and exp < now - LEEWAY:
        raise TokenError("expired")
    if isinstance(nbf, int | float) and nbf > now + LEEWAY:
        raise TokenError("not yet valid")
    if isinstance(iat, int | float) and iat > now + LEEWAY:
        raise TokenError("issued in the future")


def _check_audience(claims: dict[str, Any], client_id: str) -> None:
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if client_id not in audiences:
        raise TokenError("wrong audience")
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != client_id:
        raise TokenError("azp must name this client when there are several audiences")


def verify_id_token(token: str, provider: ProviderMetadata, client_id: str, nonce: str | None) -> dict[str, Any]:
    claims = decode_verified(token, provider)
    if claims.get("iss") != provider.issuer:
        raise TokenError("wrong issuer")
    _check_audience(claims, client_id)
    _check_times(claims, time.time())
    if not claims.get("sub"):
        raise TokenError("missing sub")
    if nonce is not None and claims.get("nonce") != nonce:
        raise TokenError("nonce mismatch")
    return claims


def verify_logout_token(token: str, provider: ProviderMetadata, client_id: str) -> dict[str, Any]:
    claims = decode_verified(token, provider)
    if claims.get("iss") != provider.issuer:
        raise TokenError("wrong issuer")
    _check_audience(claims, client_id)
    _check_times(claims, time.time(), require_exp=False)
    if not isinstance(claims.get("iat"), int | float):
        raise TokenError("missing iat")
    events = claims.get("events")
    if not isinstance(events, dict) or BACKCHANNEL_EVENT not in events:
        raise TokenError("not a logout token")
    if "nonce" in claims:
        raise TokenError("logout token must not carry a nonce")
    if not claims.get("sid") and not claims.get("sub"):
        raise TokenError("logout token names neither sid nor sub")
    if not claims.get("jti"):
        raise TokenError("missing jti")
    return claims


def verify_access_token(token: str, provider: ProviderMetadata, scope: str | None = None,
                        audience: str | None = None) -> dict[str, Any]:
    """RFC 9068 JWT access token issued by our IdP, optionally requiring a scope and audience."""
    header = _header(token)
    if header.get("typ", "").lower() not in ("at+jwt", "application/at+jwt"):
        raise TokenError("not an access token")
    claims = decode_verified(token, provider)
    if claims.get("iss") != provider.issuer:
        raise TokenError("wrong issuer")
    _check_times(claims, time.time())
    if audience is not None:
        aud = claims.get("aud")
        if audience not in (aud if isinstance(aud, list) else [aud]):
            raise TokenError("wrong audience")
    if scope is not None and scope not in str(claims.get("scope", "")).split():
        raise TokenError("insufficient scope")
    return claims


def unverified_claims(token: str) -> dict[str, Any]:
    """For display/debug only (e.g. tests inspecting what they were sent); never for decisions."""
    try:
        return json.loads(extract_compact(token.encode()).payload)
    except (JoseError, ValueError, UnicodeError) as error:
        raise TokenError("malformed token") from error
