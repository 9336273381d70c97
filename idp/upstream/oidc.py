"""A generic upstream OpenID provider, found by discovery: the IdP acts as a full relying party.

Authorization code flow with ``state``, ``nonce`` and PKCE S256 (RFC 7636); the authorization
response ``iss`` is checked when present or announced (RFC 9207); the ID token is validated as
OIDC Core §3.1.3.7 says (signature against the provider's JWKS with an asymmetric-only algorithm
allow-list — ``none`` and HS* are refused before any key is looked at —, ``iss``, ``aud``/``azp``,
``exp``/``iat``, ``nonce``, ``acr``); userinfo is read with the access token and must name the same
``sub`` (§5.3.2). An ID token without ``acr`` gets the provider's declared ``default_acr``.

The client authenticates with ``client_secret_basic`` (id and secret form-urlencoded before the
Basic encoding, RFC 6749 §2.3.1) or ``client_secret_post``. The provider's back-channel logout
tokens (OIDC Back-Channel Logout 1.0 §2.6) are validated by :meth:`OIDCUpstream.validate_logout_token`. Discovery documents and JWKS are cached per process (they are caches: losing
them costs one HTTP request); the JWKS is refetched once when a token names an unknown ``kid``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, urlencode

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from idp.upstream.base import (
    EIDAS_LEVELS,
    ProviderDescription,
    Transaction,
    Upstream,
    UpstreamError,
    UpstreamResult,
    satisfies,
)
from idp.upstream.pivot import PivotIdentityError, map_claims

SAFE_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
DEFAULT_ALGORITHMS = ("RS256", "PS256", "ES256")
LEEWAY = 60
HTTP_TIMEOUT = 10
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_MAX_AGE = 600  # a logout token older than this (by iat) is refused: it is sent at once


@dataclass(frozen=True)
class UpstreamConfig:
    """One ``[table]`` of ``config/upstream_providers.toml``, secrets resolved."""

    key: str
    issuer: str
    client_id: str
    client_secret: str | None
    display_name: str
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    claims: dict[str, str] = field(default_factory=dict)  # pivot field → upstream claim
    logo: str | None = None
    acr_levels: tuple[str, ...] = ("eidas1",)
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    token_endpoint_auth_method: str = "client_secret_basic"  # noqa: S105 - a method name
    sandbox: bool = False
    help_url: str | None = None
    send_acr_values: bool = True
    identity: str = "standard"  # "pivot": trusted to assert the FranceConnect pivot identity
    default_acr: str | None = None  # the level of an ID token that states no acr (one of acr_levels)

    @property
    def pivot(self) -> bool:
        return self.identity == "pivot"


class _Cache:
    """Discovery documents and key sets per issuer, for this process."""

    def __init__(self, ttl: int = 3600, min_refresh: int = 5):
        self.ttl = ttl
        self.min_refresh = min_refresh
        self.discovery: dict[str, tuple[float, dict[str, Any]]] = {}
        self.jwks: dict[str, tuple[float, KeySet]] = {}
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.discovery.clear()
            self.jwks.clear()


CACHE = _Cache()


class OIDCUpstream(Upstream):
    def __init__(self, config: UpstreamConfig, http: requests.Session | None = None, cache: _Cache = CACHE):
        self.config = config
        self.key = config.key
        self.http = http or requests.Session()
        self.cache = cache
        for alg in config.algorithms:
            if alg not in SAFE_ALGORITHMS:
                raise ValueError(f"upstream {config.key}: algorithm {alg!r} is not allowed (asymmetric only)")

    # -- metadata -------------------------------------------------------------------------------
    def describe(self) -> ProviderDescription:
        c = self.config
        return ProviderDescription(key=c.key, display_name=c.display_name, logo=c.logo,
                                   acr_levels=tuple(c.acr_levels), sandbox=c.sandbox, help_url=c.help_url,
                                   pivot=c.pivot)

    def discovery(self) -> dict[str, Any]:
        issuer = self.config.issuer
        with self.cache.lock:
            cached = self.cache.discovery.get(issuer)
            if cached and time.monotonic() - cached[0] < self.cache.ttl:
                return cached[1]
        try:
            response = self.http.get(issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            raise UpstreamError("unavailable", f"discovery failed: {error.__class__.__name__}") from error
        if document.get("issuer") != issuer:
            raise UpstreamError("invalid_response", "discovery issuer differs from the configured issuer")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not document.get(name):
                raise UpstreamError("invalid_response", f"discovery lacks {name}")
        with self.cache.lock:
            self.cache.discovery[issuer] = (time.monotonic(), document)
        return document

    def key_set(self, force: bool = False) -> KeySet:
        issuer = self.config.issuer
        with self.cache.lock:
            cached = self.cache.jwks.get(issuer)
            if cached:
                age = time.monotonic() - cached[0]
                if age < self.cache.ttl and not (force and age > self.cache.min_refresh):
                    return cached[1]
        try:
            response = self.http.get(self.discovery()["jwks_uri"], timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            keys = KeySet.import_key_set(response.json())
        except (requests.RequestException, ValueError, JoseError) as error:
            raise UpstreamError("unavailable", f"JWKS fetch failed: {error.__class__.__name__}") from error
        with self.cache.lock:
            self.cache.jwks[issuer] = (time.monotonic(), keys)
        return keys

    # -- the three plug-in methods --------------------------------------------------------------
    def start_auth(self, transaction: Transaction) -> str:
        endpoint = self.discovery()["authorization_endpoint"]
        params = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": transaction.redirect_uri,
            "scope": " ".join(self.config.scopes),
            "state": transaction.state,
            "nonce": transaction.nonce,
            "code_challenge": transaction.code_challenge,
            "code_challenge_method": "S256",
        }
        if transaction.acr and self.config.send_acr_values:
            params["acr_values"] = transaction.acr
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)

    def handle_callback(self, params: dict[str, str], transaction: Transaction) -> UpstreamResult:
        document = self.discovery()
        if params.get("error"):
            code = "access_denied" if params["error"] in ("access_denied", "login_required") else "upstream_error"
            raise UpstreamError(code, params.get("error", "") + " " + params.get("error_description", ""))
        if params.get("state") != transaction.state:
            raise UpstreamError("invalid_response", "state mismatch")
        if "iss" in params or document.get("authorization_response_iss_parameter_supported"):
            if params.get("iss") != self.config.issuer:
                raise UpstreamError("invalid_response", "authorization response iss mismatch")
        code = params.get("code")
        if not code:
            raise UpstreamError("invalid_response", "no authorization code")
        tokens = self.exchange_code(code, transaction)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise UpstreamError("invalid_response", "token response without id_token")
        claims = self.validate_id_token(id_token, transaction)
        userinfo = self.fetch_userinfo(tokens.get("access_token"), claims["sub"])
        merged = {**claims, **userinfo}
        try:
            identity = map_claims(merged, self.config.claims, pivot=self.config.pivot)
        except PivotIdentityError as error:
            raise UpstreamError("invalid_identity", ", ".join(error.missing)) from error
        amr = claims.get("amr") if isinstance(claims.get("amr"), list) else []
        return UpstreamResult(provider=self.key, subject=str(claims["sub"]), identity=identity,
                              acr=self.achieved_acr(claims.get("acr")), amr=tuple(str(a) for a in amr), id_token=id_token,
                              end_session_endpoint=document.get("end_session_endpoint"),
                              sid=claims["sid"] if isinstance(claims.get("sid"), str) else None)

    def end_session_url(self, id_token_hint: str | None, post_logout_redirect_uri: str | None,
                        state: str | None = None) -> str | None:
        try:
            endpoint = self.discovery().get("end_session_endpoint")
        except UpstreamError:
            return None
        if not endpoint:
            return None
        params = {"client_id": self.config.client_id}
        if id_token_hint:
            params["id_token_hint"] = id_token_hint
        if post_logout_redirect_uri:
            params["post_logout_redirect_uri"] = post_logout_redirect_uri
        if state:
            params["state"] = state
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)

    # -- relying-party steps --------------------------------------------------------------------
    def exchange_code(self, code: str, transaction: Transaction) -> dict[str, Any]:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": transaction.redirect_uri,
                "code_verifier": transaction.code_verifier}
        auth = None
        if self.config.token_endpoint_auth_method == "client_secret_post":  # noqa: S105
            data.update(client_id=self.config.client_id, client_secret=self.config.client_secret or "")
        elif self.config.client_secret:
            auth = basic_credentials(self.config.client_id, self.config.client_secret)
        else:
            data["client_id"] = self.config.client_id
        try:
            response = self.http.post(self.discovery()["token_endpoint"], data=data, auth=auth,
                                      headers={"Accept": "application/json"}, timeout=HTTP_TIMEOUT)
        except requests.RequestException as error:
            raise UpstreamError("unavailable", f"token endpoint: {error.__class__.__name__}") from error
        try:
            body = response.json()
        except ValueError as error:
            raise UpstreamError("invalid_response", f"token endpoint answered {response.status_code}") from error
        if response.status_code != 200 or not isinstance(body, dict):
            raise UpstreamError("invalid_response", f"token endpoint: {body.get('error') if isinstance(body, dict) else body}")
        return body

    def verified_claims(self, token: str, code: str = "invalid_id_token") -> tuple[dict[str, Any], dict[str, Any]]:
        """(header, claims) of a JWT signed by this provider, its iss and aud checked; else ``code``."""
        try:
            header = extract_compact(token.encode()).headers()
        except (JoseError, ValueError, UnicodeError) as error:
            raise UpstreamError(code, "malformed") from error
        alg = header.get("alg")
        if alg not in self.config.algorithms or alg not in SAFE_ALGORITHMS:
            raise UpstreamError(code, f"algorithm not allowed: {alg!r}")
        keys = self.key_set()
        kid = header.get("kid")
        if kid and not any(k.kid == kid for k in keys.keys):
            keys = self.key_set(force=True)
        try:
            claims = jwt.decode(token, keys, algorithms=list(self.config.algorithms)).claims
        except (JoseError, ValueError) as error:
            raise UpstreamError(code, f"signature: {error.__class__.__name__}") from error
        if claims.get("iss") != self.config.issuer:
            raise UpstreamError(code, "wrong issuer")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.config.client_id not in audiences:
            raise UpstreamError(code, "wrong audience")
        if len(audiences) > 1 and claims.get("azp") != self.config.client_id:
            raise UpstreamError(code, "azp must name this client")
        return header, claims

    def validate_logout_token(self, token: str) -> dict[str, Any]:
        """A back-channel logout token of this provider, as OIDC Back-Channel Logout 1.0 §2.6 says:
        signature (same algorithms and keys as ID tokens), ``iss``, ``aud``, ``iat`` (recent) and
        ``exp``, the back-channel logout event, ``sub`` and/or ``sid``, a ``jti``, and no ``nonce``
        (so that an ID token is never taken for one). Single use of ``jti`` is the caller's."""
        header, claims = self.verified_claims(token, "invalid_logout_token")
        typ = str(header.get("typ", "logout+jwt")).lower()
        if typ not in ("logout+jwt", "application/logout+jwt", "jwt"):
            raise UpstreamError("invalid_logout_token", f"typ {typ!r}")
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int | float) or iat > now + LEEWAY or iat < now - LOGOUT_TOKEN_MAX_AGE:
            raise UpstreamError("invalid_logout_token", "iat missing, in the future or too old")
        if exp is not None and (not isinstance(exp, int | float) or exp < now - LEEWAY):
            raise UpstreamError("invalid_logout_token", "expired")
        events = claims.get("events")
        if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
            raise UpstreamError("invalid_logout_token", "no back-channel logout event")
        if "nonce" in claims:
            raise UpstreamError("invalid_logout_token", "a logout token carries no nonce")
        if not isinstance(claims.get("jti"), str) or not claims["jti"]:
            raise UpstreamError("invalid_logout_token", "no jti")
        sub, sid = claims.get("sub"), claims.get("sid")
        if not (isinstance(sub, str) and sub) and not (isinstance(sid, str) and sid):
            raise UpstreamError("invalid_logout_token", "neither sub nor sid")
        for name in ("sub", "sid"):
            if name in claims and not isinstance(claims[name], str):
                raise UpstreamError("invalid_logout_token", f"{name} is not a string")
        return claims

    def validate_id_token(self, token: str, transaction: Transaction) -> dict[str, Any]:
        _, claims = self.verified_claims(token)
        if "events" in claims:  # a logout token is never an ID token
            raise UpstreamError("invalid_id_token", "events claim")
        now = time.time()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or exp < now - LEEWAY:
            raise UpstreamError("invalid_id_token", "expired or no exp")
        if not isinstance(iat, int | float) or iat > now + LEEWAY:
            raise UpstreamError("invalid_id_token", "iat missing or in the future")
        if claims.get("nonce") != transaction.nonce:
            raise UpstreamError("invalid_id_token", "nonce mismatch")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise UpstreamError("invalid_id_token", "no sub")
        self.check_acr(claims.get("acr"), transaction.acr)
        return claims

    def check_acr(self, asserted: Any, required: str | None) -> None:
        """The eIDAS level given must be a known level, one this provider is declared for, and enough.
        An ID token that states no acr gives the provider's declared ``default_acr``."""
        if not required:
            return
        achieved = self.config.default_acr if asserted is None else asserted
        if achieved is None:
            raise UpstreamError("acr_too_low", "no acr stated, and no default_acr declared for this provider")
        if achieved not in EIDAS_LEVELS or achieved not in self.config.acr_levels:
            raise UpstreamError("acr_too_low", f"unexpected acr {achieved!r}")
        if not satisfies(achieved, required):
            raise UpstreamError("acr_too_low", f"acr {achieved!r} below the required {required!r}")

    def achieved_acr(self, acr: Any) -> str | None:
        """The eIDAS level passed on: only a known level this provider is declared for; its declared
        ``default_acr`` when the ID token states none."""
        if acr is None:
            return self.config.default_acr
        return acr if acr in EIDAS_LEVELS and acr in self.config.acr_levels else None

    def fetch_userinfo(self, access_token: Any, sub: str) -> dict[str, Any]:
        endpoint = self.discovery().get("userinfo_endpoint")
        if not endpoint or not isinstance(access_token, str):
            return {}
        try:
            response = self.http.get(endpoint, headers={"Authorization": f"Bearer {access_token}",
                                                        "Accept": "application/json"}, timeout=HTTP_TIMEOUT)
        except requests.RequestException as error:
            raise UpstreamError("unavailable", f"userinfo: {error.__class__.__name__}") from error
        if response.status_code != 200:
            raise UpstreamError("invalid_response", f"userinfo answered {response.status_code}")
        if not response.headers.get("Content-Type", "").startswith("application/json"):
            raise UpstreamError("invalid_response", "userinfo is not JSON (signed userinfo is not supported)")
        info = response.json()
        if not isinstance(info, dict) or info.get("sub") != sub:
            raise UpstreamError("invalid_response", "userinfo sub differs from the ID token sub")
        return info


def basic_credentials(client_id: str, client_secret: str) -> tuple[str, str]:
    """HTTP Basic credentials as RFC 6749 §2.3.1 wants them: id and secret each encoded with
    application/x-www-form-urlencoded first (a ``:``, ``%``, ``+`` or space in a secret survives)."""
    return quote_plus(client_id, safe=""), quote_plus(client_secret, safe="")
