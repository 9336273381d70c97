"""Client authentication with a signed JWT (RFC 7523 §2.2, OIDC Core §9): ``private_key_jwt``
(the client's own key pair: its public keys registered inline as ``jwks`` or served at its
``jwks_uri``) and ``client_secret_jwt`` (HMAC with the client's secret).

The assertion's header ``alg`` picks the method (HS* is client_secret_jwt, RS/PS/ES private_key_jwt)
and the client must be registered for exactly that method, so a public key can never serve as an
HMAC secret. Its ``iss`` and ``sub`` are the client, its ``aud`` this IdP (the issuer or the URL of
the endpoint it was sent to), its ``exp`` at most ``MAX_LIFETIME`` ahead, and its ``jti`` is
spent on first use (Redis, for as long as the assertion could be valid): a captured assertion
cannot be replayed, at this endpoint or another.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import unquote

import requests
from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from flask import request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey

from idp.services import fapi
from shared.appkit import get_redis, get_settings

ASYMMETRIC = ["RS256", "PS256", "ES256"]
SYMMETRIC = ["HS256"]
MAX_LIFETIME = 3600  # seconds an assertion may claim to live (Authlib's client signs for 3600); its jti is kept as long
LEEWAY = 30
JWKS_CACHE_SECONDS = 300
JWKS_REFETCH_AFTER = 30  # an unknown kid refetches the client's jwks_uri, at most this often
JWKS_MAX_BYTES = 64 * 1024

_jwks_cache: dict[str, tuple[float, dict]] = {}
_last_forced: dict[str, float] = {}


def fetch_jwks(uri: str, fresh: bool = False) -> dict:
    """The client's public keys from its jwks_uri, cached; ``fresh`` (a kid we do not know: the
    client rotated) reads it again, at most once per JWKS_REFETCH_AFTER, so forged assertions
    cannot make us hammer the client's server."""
    now = time.monotonic()
    hit = _jwks_cache.get(uri)
    if fresh:
        if now - _last_forced.get(uri, -JWKS_REFETCH_AFTER) < JWKS_REFETCH_AFTER and hit:
            return hit[1]
        _last_forced[uri] = now
    elif hit and now - hit[0] < JWKS_CACHE_SECONDS:
        return hit[1]
    try:
        answer = requests.get(uri, timeout=5, allow_redirects=False, stream=True)
        body = answer.raw.read(JWKS_MAX_BYTES + 1, decode_content=True)
        if answer.status_code != 200 or len(body) > JWKS_MAX_BYTES:
            raise InvalidClientError(description="the client's jwks_uri did not answer a JWK set")
        keys = json.loads(body)
    except (requests.RequestException, ValueError) as error:
        raise InvalidClientError(description="the client's jwks_uri could not be read") from error
    if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
        raise InvalidClientError(description="the client's jwks_uri did not answer a JWK set")
    public = {"keys": [key for key in keys["keys"] if isinstance(key, dict) and "d" not in key and key.get("kty") != "oct"]}
    _jwks_cache[uri] = (time.monotonic(), public)
    return public


class ClientNamedTwice(ValueError):
    """A request naming two different clients (a form client_id beside another client's
    credentials), or credentials that cannot be read."""


def presented_client_id() -> str | None:
    """The client a token/revocation/PAR request says it is, before authentication: to pick which
    origins may read the answer (CORS) and whether it must send DPoP; authentication is Authlib's.
    Every name the request carries must agree (``ClientNamedTwice`` otherwise), so the client
    whose policy is read here is the one Authlib authenticates (outside review: a stray form
    client_id beside Basic credentials turned a DPoP-bound client's tokens into Bearer tokens)."""
    names = {name for name in (request.form.get("client_id"), _basic_user(), _assertion_subject()) if name}
    if len(names) > 1:
        raise ClientNamedTwice("the request names two different clients")
    return names.pop() if names else None


def _basic_user() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:6].lower() != "basic ":
        return None
    try:
        return unquote(base64.b64decode(header[6:], validate=True).decode("utf-8").split(":", 1)[0]) or None
    except (ValueError, UnicodeError) as error:  # Authlib would fail on it with a 500
        raise ClientNamedTwice("unreadable client credentials") from error


def _assertion_subject() -> str | None:
    assertion = request.form.get("client_assertion", "")
    if assertion.count(".") != 2:
        return None
    try:
        payload = assertion.split(".")[1]
        sub = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("sub")
    except (ValueError, UnicodeError, AttributeError):
        return None
    return sub if isinstance(sub, str) else None


class ClientAssertion(JWTBearerClientAssertion):
    """One instance per method; Authlib tries each registered method in turn."""

    def __init__(self, method: str):
        super().__init__(leeway=LEEWAY)
        self.CLIENT_AUTH_METHOD = method
        self.algorithms = SYMMETRIC if method == "client_secret_jwt" else ASYMMETRIC

    def __call__(self, query_client, request_):
        assertion = request_.form.get("client_assertion")
        if request_.form.get("client_assertion_type") != self.CLIENT_ASSERTION_TYPE or not assertion:
            return None
        headers, claims = self.extract_assertion(assertion)
        if headers.get("alg") not in self.algorithms:
            if headers.get("alg") not in SYMMETRIC + ASYMMETRIC:
                raise InvalidClientError(description=f"assertion algorithm {headers.get('alg')!r} is not accepted")
            return None  # the other JWT method's
        client = query_client(claims.get("sub")) if isinstance(claims.get("sub"), str) else None
        if client is None:
            raise InvalidClientError(description="The client does not exist on this server.")
        if client.token_endpoint_auth_method != self.CLIENT_AUTH_METHOD:
            raise InvalidClientError(description=f"The client cannot authenticate with method: {self.CLIENT_AUTH_METHOD}")
        request_.client = client
        algorithms = fapi.algorithms(client, self.algorithms)
        if headers.get("alg") not in algorithms:
            raise InvalidClientError(description=f"this client signs its assertions with {', '.join(algorithms)}")
        try:
            verified = jwt.decode(assertion, self.client_key(client), algorithms=algorithms)
        except JoseError as error:
            if not client.jwks_uri:
                raise InvalidClientError(description=error.description) from error
            try:  # the client may have rotated its keys: read its jwks_uri again (rate-limited)
                fresh = readable_key_set(fetch_jwks(client.jwks_uri, fresh=True))
                if fresh is None:
                    raise InvalidClientError(description="the client's jwks_uri serves keys that cannot be read")
                verified = jwt.decode(assertion, fresh, algorithms=algorithms)
            except JoseError as again:
                raise InvalidClientError(description=again.description) from again
        exp = verified.claims.get("exp")
        if not isinstance(exp, int) or exp > time.time() + MAX_LIFETIME:
            raise InvalidClientError(description=f"the assertion must expire within {MAX_LIFETIME} seconds")
        self.verify_claims(verified.claims)  # iss = sub, aud, exp, and the jti spent
        return self.authenticate_client(client)

    def get_audiences(self) -> list[str]:
        issuer = get_settings().issuer
        return [issuer, f"{issuer}/token", f"{issuer}{request.path}"]

    def client_key(self, client):
        if self.CLIENT_AUTH_METHOD == "client_secret_jwt":
            secret = client.shared_secret()
            if not secret:
                raise InvalidClientError(description="the client has no usable secret")
            return OctKey.import_key(secret)
        keys = readable_key_set(client.jwks if client.jwks else fetch_jwks(client.jwks_uri))
        if keys is None:
            raise InvalidClientError(description="the client's registered keys cannot be read")
        return keys

    def validate_jti(self, claims, jti) -> bool:
        """Spend the jti: the first presentation wins, any later one (however close) is refused."""
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            return False
        ttl = max(int(claims["exp"] - time.time()) + LEEWAY, 1)
        return bool(get_redis().set(f"idp:assertion-jti:{claims['iss']}:{jti}", "1", nx=True, ex=ttl))


def readable_key_set(data) -> KeySet | None:
    """The JWK set, or None when one of its keys cannot be read (bad base64, a point off the curve)."""
    try:
        keys = KeySet.import_key_set(data)
        for key in keys:
            key.as_dict(private=False)
            key.public_key  # noqa: B018 (builds the cryptography key: checks n/e, x/y on the curve)
    except (ValueError, TypeError, KeyError, JoseError):
        return None
    return keys


def register(server) -> None:
    for method in ("private_key_jwt", "client_secret_jwt"):
        server.register_client_auth_method(method, ClientAssertion(method))
