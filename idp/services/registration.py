"""Dynamic client registration (RFC 7591) behind an initial access token, and the client's own
management of its registration (RFC 7592).

- An operator issues initial access tokens (``idp clients initial-token``): each allows a
  number of registrations within its lifetime (Redis, stored by digest).
- A registration is a third-party client (consent asked) for people's sign-in only: the code
  and refresh grants, person scopes (the authorization model refuses API scopes and client
  credentials to a client it does not name). Every rule of ``clients.create`` applies.
- The answer carries a registration access token (kept by digest on the client) and the URI
  where the client reads (GET), replaces (PUT) or deletes (DELETE) its registration with it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
from typing import Any
from urllib.parse import urlsplit

from idp.services import clients
from shared.appkit import get_redis, get_settings

REGISTRABLE_GRANTS = ("authorization_code", "refresh_token")
DEFAULT_INITIAL_TOKEN_LIFETIME = 86400


class RegistrationError(Exception):
    """An RFC 7591 §3.2.2 error: ``invalid_client_metadata``, ``invalid_redirect_uri``…, or
    ``invalid_token`` (status 401)."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_initial_token(expires_in: int = DEFAULT_INITIAL_TOKEN_LIFETIME, uses: int = 1) -> str:
    token = secrets.token_urlsafe(32)
    get_redis().set(f"idp:initial-access:{_digest(token)}", uses, ex=expires_in)
    return token


def check_initial_token(token: str | None) -> None:
    """A registration is judged only for a holder of a live token; the token is spent once it succeeds
    (outside review: refused registrations used up its uses)."""
    if not token or not get_redis().exists(f"idp:initial-access:{_digest(token)}"):
        raise RegistrationError("invalid_token", "a valid initial access token is required to register", 401)


def spend_initial_token(token: str | None) -> None:
    key = f"idp:initial-access:{_digest(token or '')}"
    redis = get_redis()
    if not token or not redis.exists(key) or redis.decr(key) < 0:
        if redis.ttl(key) == -1:
            redis.delete(key)  # a decrement of a key expired meanwhile left one without expiry
        raise RegistrationError("invalid_token", "a valid initial access token is required to register", 401)


def _metadata_values(client_id: str, metadata: dict[str, Any], method: str) -> dict[str, Any]:
    if not isinstance(metadata, dict):
        raise RegistrationError("invalid_client_metadata", "the registration is a JSON object")
    grants = metadata.get("grant_types", ["authorization_code"])
    if not isinstance(grants, list) or any(grant not in REGISTRABLE_GRANTS for grant in grants):
        raise RegistrationError("invalid_client_metadata", "grant_types: authorization_code and refresh_token only")
    if metadata.get("response_types", ["code"]) != ["code"]:
        raise RegistrationError("invalid_client_metadata", "response_types: code only")
    redirect_uris = metadata.get("redirect_uris")
    if not isinstance(redirect_uris, list) or not redirect_uris or not all(isinstance(u, str) for u in redirect_uris):
        raise RegistrationError("invalid_redirect_uri", "redirect_uris: at least one absolute URI")
    _check_registrant_uris(redirect_uris, metadata.get("post_logout_redirect_uris"),
                           metadata.get("backchannel_logout_uri"))
    _check_servers_we_would_call(metadata.get("backchannel_logout_uri"), metadata.get("jwks_uri"))
    try:
        return clients.checked_values(
            client_id, str(metadata.get("client_name") or "Dynamically registered client")[:200], redirect_uris,
            metadata.get("post_logout_redirect_uris"), metadata.get("backchannel_logout_uri"), True,
            metadata.get("id_token_signed_response_alg", "RS256"), metadata.get("scope", "openid"), {}, grants,
            method, [], metadata.get("jwks"), metadata.get("jwks_uri"))
    except (ValueError, TypeError, AttributeError) as error:
        code = "invalid_redirect_uri" if "URI" in str(error) and "jwks" not in str(error) else "invalid_client_metadata"
        raise RegistrationError(code, str(error)) from None


MAX_URIS = 10


def _check_registrant_uris(redirect_uris: list, post_logout: Any, backchannel: Any) -> None:
    """What an anonymous registrant may name (operators' own registrations are not bound by it)."""
    post_logout = post_logout or []
    if not isinstance(post_logout, list) or len(redirect_uris) > MAX_URIS or len(post_logout) > MAX_URIS:
        raise RegistrationError("invalid_redirect_uri", f"at most {MAX_URIS} redirect URIs of each kind")
    for uri in [*redirect_uris, *post_logout]:  # outside review: a plain-http redirect was accepted
        if not clients.https_or_loopback(uri):
            raise RegistrationError("invalid_redirect_uri", f"{str(uri)[:200]}: https, or http on loopback only")
    if backchannel is not None:
        if not clients.https_or_loopback(backchannel, loopback_allowed=not get_settings().production):
            raise RegistrationError("invalid_client_metadata",
                                    "backchannel_logout_uri must be https (http only on loopback, in development)")


def _check_servers_we_would_call(*uris: Any) -> None:
    """The IdP itself calls a registrant's jwks_uri and back-channel logout URI: their hosts must be
    public unless the operator allows internal ones ([dynamic_registration] allow_internal_hosts;
    by default only outside production), so a registrant cannot aim the IdP at its own network."""
    allowed = get_settings().section("dynamic_registration").get("allow_internal_hosts", not get_settings().production)
    if allowed:
        return
    for uri in uris:
        if isinstance(uri, str) and not resolves_to_public_addresses(uri):
            raise RegistrationError("invalid_client_metadata",
                                    f"{uri[:200]}: the host must be a public address the IdP may call")


def resolves_to_public_addresses(uri: str) -> bool:
    host = urlsplit(uri).hostname
    if not host:
        return False
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses)


def describe(client: clients.RegisteredClient) -> dict[str, Any]:
    """The client's registered metadata, as RFC 7591 §3.2.1 answers it."""
    described = {
        "client_id": client.client_id, "client_name": client.name, "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris), "grant_types": list(client.grant_types),
        "response_types": ["code"], "scope": client.scope,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "registration_client_uri": f"{get_settings().issuer}/register/{client.client_id}",
    }
    if client.backchannel_logout_uri:
        described["backchannel_logout_uri"] = client.backchannel_logout_uri
    if client.jwks:
        described["jwks"] = client.jwks
    if client.jwks_uri:
        described["jwks_uri"] = client.jwks_uri
    return described


def register(initial_token: str | None, metadata: dict[str, Any]) -> dict[str, Any]:
    check_initial_token(initial_token)
    method = metadata.get("token_endpoint_auth_method", "client_secret_basic") if isinstance(metadata, dict) else ""
    if method not in clients.AUTH_METHODS:
        raise RegistrationError("invalid_client_metadata", f"token_endpoint_auth_method: one of {', '.join(clients.AUTH_METHODS)}")
    client_id = f"dcr-{secrets.token_hex(8)}"
    values = _metadata_values(client_id, metadata, method)
    spend_initial_token(initial_token)
    try:
        client, secret = clients.create(values["name"], values["redirect_uris"], values["post_logout_redirect_uris"],
                                        values["backchannel_logout_uri"], id_token_alg=values["id_token_signed_response_alg"],
                                        scope=values["scope"], client_id=client_id, grant_types=values["grant_types"],
                                        token_endpoint_auth_method=method, jwks=values["jwks"], jwks_uri=values["jwks_uri"])
    except ValueError as error:
        raise RegistrationError("invalid_client_metadata", str(error)) from None
    registration_token = secrets.token_urlsafe(32)
    clients.replace(client_id, {"registration_token_hash": _digest(registration_token)})
    answer = {**describe(client), "client_id_issued_at": int(time.time()), "registration_access_token": registration_token}
    if secret:
        answer.update(client_secret=secret, client_secret_expires_at=0)
    return answer


def _own_client(client_id: str, registration_token: str | None) -> clients.RegisteredClient:
    """The client this registration access token manages; the same answer for a wrong token
    and an unknown client (RFC 7592 §2: nothing tells whether a client_id exists)."""
    client = clients.get(client_id, fresh=True)
    stored = client.registration_token_hash if client else None
    if not stored or not registration_token or not hmac.compare_digest(stored, _digest(registration_token)):
        raise RegistrationError("invalid_token", "a valid registration access token is required", 401)
    return client


def read(client_id: str, registration_token: str | None) -> dict[str, Any]:
    return describe(_own_client(client_id, registration_token))


def update(client_id: str, registration_token: str | None, metadata: dict[str, Any]) -> dict[str, Any]:
    client = _own_client(client_id, registration_token)
    if not isinstance(metadata, dict) or metadata.get("client_id") != client_id:
        raise RegistrationError("invalid_client_metadata", "the replacement must name the same client_id")
    method = metadata.get("token_endpoint_auth_method", client.token_endpoint_auth_method)
    if method != client.token_endpoint_auth_method:
        raise RegistrationError("invalid_client_metadata", "token_endpoint_auth_method cannot change: register anew")
    if "registration_access_token" in metadata:  # RFC 7592 §2.2: must not be sent
        raise RegistrationError("invalid_client_metadata", "registration_access_token is not part of the replacement")
    return describe(clients.replace(client_id, _metadata_values(client_id, metadata, method)))


def delete(client_id: str, registration_token: str | None) -> None:
    _own_client(client_id, registration_token)
    clients.delete(client_id)
