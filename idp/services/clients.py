"""Registered relying parties: creation, lookup (cached briefly), secret check, sync from config."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from idp.services import fapi, sealing
from idp.storage.sql.models import Client
from shared.appkit import get_db, get_settings
from shared.config import Settings, load_toml, public_url_of
from shared.files import private_dir, write_private
from shared.timeutil import utcnow

CACHE_SECONDS = 5.0  # short: a changed redirect URI or a deleted client takes effect quickly
SECRET_METHODS = ("client_secret_basic", "client_secret_post")  # interchangeable: the same shared secret
# How a client authenticates at the token, revocation, introspection and PAR endpoints: "none" is
# a public client (a SPA, a native app: PKCE instead of a secret), the JWT methods are RFC 7523.
AUTH_METHODS = (*SECRET_METHODS, "client_secret_jwt", "private_key_jwt", "none")
SEALED_PURPOSE = "client_secret_jwt"  # noqa: S105 (the sealing purpose of a client_secret_jwt secret)
ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


class RegistrationRefused(ValueError):
    """A rule refused a registration or a change: ``code`` names the rule, ``params`` its details
    (so a page can say it in the reader's language); the message stays the CLI's English sentence."""

    def __init__(self, message: str, code: str = "other", **params: str):
        super().__init__(message)
        self.code = code
        self.params = params


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class RegisteredClient:
    """An immutable snapshot of a client row, safe to cache across requests."""

    client_id: str
    client_secret_hash: str | None
    name: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    backchannel_logout_uri: str | None
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...]
    scope: str
    token_endpoint_auth_method: str
    require_pkce: bool
    id_token_signed_response_alg: str
    sector_identifier: str | None
    first_party: bool
    policy: dict[str, Any] = field(default_factory=dict)
    allowed_origins: tuple[str, ...] = ()
    jwks: dict | None = None
    jwks_uri: str | None = None
    secret_sealed: str | None = None
    registration_token_hash: str | None = None
    disabled: bool = False  # an operator disabled it: every endpoint treats it as unknown

    @classmethod
    def from_row(cls, row: Client) -> RegisteredClient:
        return cls(row.client_id, row.client_secret_hash, row.name, tuple(row.redirect_uris or ()),
                   tuple(row.post_logout_redirect_uris or ()), row.backchannel_logout_uri,
                   tuple(row.grant_types or ()), tuple(row.response_types or ()), row.scope,
                   row.token_endpoint_auth_method or "client_secret_basic", row.require_pkce,
                   row.id_token_signed_response_alg, row.sector_identifier, row.first_party, dict(row.policy or {}),
                   tuple(row.allowed_origins or ()), row.jwks, row.jwks_uri, row.secret_sealed,
                   row.registration_token_hash, row.disabled_at is not None)

    @property
    def is_public(self) -> bool:
        """A client that cannot keep a secret (a browser or native app): PKCE is its proof."""
        return self.token_endpoint_auth_method == "none"  # noqa: S105 (a method's name)

    @property
    def require_par(self) -> bool:
        """Authorization requests only through pushed authorization requests (RFC 9126 §6)."""
        return bool(self.policy.get("require_par"))

    def shared_secret(self) -> str | None:
        """The HMAC key of a client_secret_jwt client, unsealed."""
        return sealing.unseal(self.secret_sealed, SEALED_PURPOSE) if self.secret_sealed else None

    # --- authlib ClientMixin hooks -------------------------------------------------------
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact string match (RFC 9700 §2.1), except the port of a native app's loopback redirect
        (RFC 8252 §7.3: the app listens on whichever port the system gives it)."""
        if redirect_uri in self.redirect_uris:
            return True
        return self.is_public and any(loopback_match(redirect_uri, uri) for uri in self.redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.client_secret_hash) and hmac.compare_digest(self.client_secret_hash, hash_secret(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """The one method the client registered, at every endpoint that authenticates clients
        (token, revocation, introspection, PAR); the two shared-secret transports are one method."""
        if self.token_endpoint_auth_method in SECRET_METHODS:
            return method in SECRET_METHODS
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.response_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


LOOPBACK_HOSTS = ("127.0.0.1", "[::1]")


def loopback_match(presented: str, registered: str) -> bool:
    """``http://127.0.0.1:<any port>/path`` for a registered ``http://127.0.0.1/path`` (IP literals
    only: ``localhost`` may resolve elsewhere, RFC 8252 §8.3)."""
    try:
        asked, known = urlsplit(presented), urlsplit(registered)
        port = asked.port
    except ValueError:
        return False
    host = asked.netloc.rsplit(":", 1)[0] if port else asked.netloc
    return (asked.scheme == known.scheme == "http" and known.netloc in LOOPBACK_HOSTS and host == known.netloc
            and port is not None and (asked.path, asked.query, asked.fragment) == (known.path, known.query, ""))


_cache: dict[str, tuple[float, RegisteredClient | None]] = {}


def get(client_id: str | None, fresh: bool = False, include_disabled: bool = False) -> RegisteredClient | None:
    """The client, from a cache of a few seconds unless ``fresh`` (a check that must see the row now).
    A disabled client is None (unknown to every endpoint) unless ``include_disabled`` (the console)."""
    if not client_id:
        return None
    hit = _cache.get(client_id)
    if hit and hit[0] > time.monotonic() and not fresh:
        client = hit[1]
    else:
        with get_db().session() as session:
            row = session.get(Client, client_id)
            client = RegisteredClient.from_row(row) if row else None
        _cache[client_id] = (time.monotonic() + CACHE_SECONDS, client)
    if client is not None and client.disabled and not include_disabled:
        return None
    return client


def all_clients() -> list[RegisteredClient]:
    with get_db().session() as session:
        return [RegisteredClient.from_row(row) for row in session.scalars(select(Client))]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:24] or "client"


USER_GRANTS = ["authorization_code", "refresh_token"]
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


def check_registration(client_id: str, scope: str, grant_types: list[str], redirect_uris: list[str],
                       auth_method: str = "client_secret_basic") -> None:  # noqa: S107 (a method's name)
    """Refuse a registration the authorization model would not honour: a client is registered only
    for what it may really obtain (config/authorization.toml)."""
    from shared.authorization import model

    unknown = [g for g in grant_types if g not in GRANT_TYPES]
    if unknown:
        raise ValueError(f"unknown grant type(s): {', '.join(unknown)}")
    if auth_method not in AUTH_METHODS:
        raise ValueError(f"unknown token endpoint auth method: {auth_method} (one of {', '.join(AUTH_METHODS)})")
    if auth_method == "none" and "client_credentials" in grant_types:
        raise ValueError("a public client (auth method none) cannot use client credentials: it has none")
    if "authorization_code" in grant_types and not redirect_uris:
        raise RegistrationRefused("the authorization_code grant needs at least one redirect URI", "redirect_uri_needed")
    refused = model().refused_registration(client_id, scope, grant_types)
    if refused:
        raise RegistrationRefused(f"scope(s) {' '.join(refused)} cannot be issued to {client_id} through "
                                  f"{', '.join(grant_types)}: see config/authorization.toml", "scope_refused",
                                  scopes=" ".join(refused), grants=", ".join(grant_types))


def create(name: str, redirect_uris: list[str], post_logout_redirect_uris: list[str] | None = None,
           backchannel_logout_uri: str | None = None, require_pkce: bool = True,
           id_token_alg: str = "RS256", scope: str | None = None, client_id: str | None = None,  # noqa: S107
           secret: str | None = None, first_party: bool = False, policy: dict | None = None,
           grant_types: list[str] | None = None, token_endpoint_auth_method: str = "client_secret_basic",  # noqa: S107
           allowed_origins: list[str] | None = None, jwks: dict | None = None,
           jwks_uri: str | None = None) -> tuple[RegisteredClient, str | None]:
    """Register a client; returns it and its secret (None for a public or private_key_jwt client)."""
    method = token_endpoint_auth_method
    client_id = client_id or f"{_slug(name)}-{secrets.token_hex(4)}"
    values = checked_values(client_id, name, redirect_uris, post_logout_redirect_uris, backchannel_logout_uri,
                            require_pkce, id_token_alg, scope, policy, grant_types, method, allowed_origins, jwks,
                            jwks_uri)
    secret = None if method in ("none", "private_key_jwt") else (secret or secrets.token_urlsafe(32))
    row = Client(
        client_id=client_id, client_secret_hash=hash_secret(secret) if method in SECRET_METHODS else None,
        first_party=first_party, token_endpoint_auth_method=method,
        secret_sealed=sealing.seal(secret, SEALED_PURPOSE) if method == "client_secret_jwt" else None, **values,
    )
    with get_db().session() as session:
        if session.get(Client, client_id):
            raise RegistrationRefused(f"client {client_id} exists", "client_exists", client_id=client_id)
        session.add(row)
    forget(client_id)
    return RegisteredClient.from_row(row), secret


def checked_values(client_id: str, name: str, redirect_uris: list[str], post_logout_redirect_uris: list[str] | None,
                   backchannel_logout_uri: str | None, require_pkce: bool, id_token_alg: str, scope: str | None,
                   policy: dict | None, grant_types: list[str] | None, method: str, allowed_origins: list[str] | None,
                   jwks: dict | None, jwks_uri: str | None) -> dict[str, Any]:
    """A registration's columns (its secret and identity apart), each rule checked."""
    for uri in [*redirect_uris, *(post_logout_redirect_uris or []), *([backchannel_logout_uri] if backchannel_logout_uri else [])]:
        if not re.match(r"^https?://[^\s#]+$", uri):
            raise RegistrationRefused(f"not an absolute http(s) URI without fragment: {uri}", "bad_uri", uri=uri)
    if id_token_alg not in ("RS256", "ES256"):
        raise ValueError("id token algorithm must be RS256 or ES256")
    # client credentials only when asked for; [] is a resource server's (it only introspects)
    grant_types = list(USER_GRANTS if grant_types is None else grant_types)
    scope = "openid profile email offline_access" if scope is None else scope
    check_registration(client_id, scope, grant_types, redirect_uris, method)
    check_key_material(method, jwks, jwks_uri)
    policy = fapi.check_registration(dict(policy or {}), method, id_token_alg, redirect_uris)
    return dict(
        name=name, redirect_uris=list(redirect_uris), post_logout_redirect_uris=list(post_logout_redirect_uris or []),
        backchannel_logout_uri=backchannel_logout_uri,
        # a public client's only proof of the code; FAPI 2.0 asks for it too
        require_pkce=require_pkce or method == "none" or fapi.applies_to_policy(policy),
        id_token_signed_response_alg=id_token_alg, policy=policy, grant_types=grant_types, scope=scope,
        allowed_origins=check_origins(allowed_origins or []), jwks=jwks, jwks_uri=jwks_uri,
    )


def replace(client_id: str, values: dict[str, Any]) -> RegisteredClient:
    """Replace a client's registered metadata (RFC 7592 §2.2); its secret and method stay."""
    with get_db().session() as session:
        row = session.get(Client, client_id)
        if row is None:
            raise ValueError(f"no client {client_id}")
        for name, value in values.items():
            setattr(row, name, value)
        session.flush()
        client = RegisteredClient.from_row(row)
    forget(client_id)
    return client


def change(client_id: str, **changes: Any) -> RegisteredClient:
    """Change some of a client's registered values, every registration rule checked again on the
    result (the same rules as ``create``): e.g. ``redirect_uris=[...]`` or ``policy={...}``."""
    current = get(client_id, fresh=True, include_disabled=True)
    if current is None:
        raise ValueError(f"no client {client_id}")
    values = dict(redirect_uris=list(current.redirect_uris), post_logout_redirect_uris=list(current.post_logout_redirect_uris),
                  backchannel_logout_uri=current.backchannel_logout_uri, require_pkce=current.require_pkce,
                  id_token_alg=current.id_token_signed_response_alg, scope=current.scope, policy=dict(current.policy),
                  grant_types=list(current.grant_types), allowed_origins=list(current.allowed_origins),
                  jwks=current.jwks, jwks_uri=current.jwks_uri)
    values.update(changes)
    checked = checked_values(client_id, current.name, values["redirect_uris"], values["post_logout_redirect_uris"],
                             values["backchannel_logout_uri"], values["require_pkce"], values["id_token_alg"],
                             values["scope"], values["policy"], values["grant_types"], current.token_endpoint_auth_method,
                             values["allowed_origins"], values["jwks"], values["jwks_uri"])
    return replace(client_id, {name: checked[name] for name in checked if name in changes or name == "require_pkce"})


class NoSecret(ValueError):
    """A public or private_key_jwt client holds no secret of ours to rotate."""


def rotate_secret(client_id: str) -> str:
    """A new secret replaces the old one at once (the old one stops working); returned once."""
    secret = secrets.token_urlsafe(32)
    with get_db().session() as session:
        row = session.get(Client, client_id)
        if row is None:
            raise ValueError(f"no client {client_id}")
        if row.token_endpoint_auth_method in SECRET_METHODS:
            row.client_secret_hash = hash_secret(secret)
        elif row.token_endpoint_auth_method == "client_secret_jwt":  # noqa: S105 (a method's name)
            row.secret_sealed = sealing.seal(secret, SEALED_PURPOSE)
        else:
            raise NoSecret(f"client {client_id} authenticates with {row.token_endpoint_auth_method}: no secret")
    forget(client_id)
    return secret


def set_disabled(client_id: str, disabled: bool) -> RegisteredClient:
    """Disable a client (every endpoint then treats it as unknown) or enable it again."""
    with get_db().session() as session:
        row = session.get(Client, client_id)
        if row is None:
            raise ValueError(f"no client {client_id}")
        row.disabled_at = (row.disabled_at or utcnow()) if disabled else None
        session.flush()
        client = RegisteredClient.from_row(row)
    forget(client_id)
    return client


def delete(client_id: str) -> None:
    with get_db().session() as session:
        row = session.get(Client, client_id)
        if row is not None:
            session.delete(row)
    forget(client_id)


def check_origins(origins: list[str]) -> list[str]:
    """Browser origins as the Origin header sends them: scheme, host, port; no path, no '*'."""
    for origin in origins:
        if not ORIGIN_RE.match(origin):
            raise ValueError(f"not an origin (scheme://host[:port], nothing after): {origin}")
    return list(dict.fromkeys(origins))


_HTTPS_URI = re.compile(r"^https://[^\s#]+$")
_LOOPBACK_HTTP_URI = re.compile(r"^http://(127\.0\.0\.1|\[::1\]|localhost)(:[0-9]+)?/[^\s#]*$")
MAX_URI_LENGTH = 2000


def uri_refusal(uri: object, loopback_allowed: bool = True) -> str | None:
    """Why an address the IdP would send people or calls to is refused (a ``RegistrationRefused``
    code), or None: https, or plain http on this machine's loopback interface only (RFC 8252 §7.3,
    native apps) when ``loopback_allowed``; never a fragment (RFC 6749 §3.1.2), a user name or
    password before the host (``https://portal.example@evil.example/`` reads as the portal and goes
    to evil), a '*' that looks like a wildcard (redirect URIs match exactly, RFC 9700 §2.1), nor a
    URI longer than 2000 characters."""
    if not isinstance(uri, str) or not uri:
        return "bad_uri"
    if len(uri) > MAX_URI_LENGTH:
        return "uri_too_long"
    if "#" in uri:
        return "uri_fragment"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "bad_uri"
    if "@" in parts.netloc:
        return "uri_userinfo"
    if "*" in parts.netloc:
        return "uri_wildcard"
    if _HTTPS_URI.match(uri) and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname:
        return None if loopback_allowed and _LOOPBACK_HTTP_URI.match(uri) else "uri_plain_http"
    return "bad_uri"


def https_or_loopback(uri: object, loopback_allowed: bool = True) -> bool:
    """An address the IdP may send people or calls to (``uri_refusal`` has no objection)."""
    return uri_refusal(uri, loopback_allowed) is None


def check_operator_uris(redirect_uris: list[str], post_logout_redirect_uris: list[str]) -> None:
    """The rules an operator's registration meets, from the console or ``idp clients add`` (an
    anonymous registrant meets these and more: idp.services.registration). Checked before anything
    is stored."""
    for uri in [*redirect_uris, *post_logout_redirect_uris]:
        code = uri_refusal(uri)
        if code:
            raise RegistrationRefused(f"{uri[:200]}: {code.replace('_', ' ')} (https, or http on loopback only; "
                                      "no fragment, user name, '*', nor more than 2000 characters)", code,
                                      uri=uri[:200] + ("…" if len(uri) > 200 else ""))


def check_key_material(method: str, jwks: dict | None, jwks_uri: str | None) -> None:
    """A private_key_jwt client registers public keys (inline or at an URL), and only public ones."""
    if method != "private_key_jwt":
        if jwks or jwks_uri:
            raise ValueError("jwks and jwks_uri are for private_key_jwt clients")
        return
    if bool(jwks) == bool(jwks_uri):
        raise ValueError("a private_key_jwt client registers exactly one of jwks or jwks_uri")
    if jwks_uri and not https_or_loopback(jwks_uri, loopback_allowed=not get_settings().production):
        raise ValueError("jwks_uri must be https (http only on loopback, in development)")
    if jwks:
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(keys, list) or not keys:
            raise ValueError("jwks must be a JWK set: {\"keys\": [...]}")
        if any(not isinstance(key, dict) or "d" in key or key.get("kty") == "oct" for key in keys):
            raise ValueError("jwks must hold public keys only (no private or symmetric key)")
        from idp.oidc.client_auth import readable_key_set

        if readable_key_set(jwks) is None:  # outside review: an EC point off the curve was stored, then 500s
            raise ValueError("jwks holds a key that cannot be read (check n/e, or x/y on the curve)")


def _expand(value: str, urls: dict[str, str]) -> str:
    for key, url in urls.items():
        value = value.replace("{" + key + "}", url)
    return value


def sync_from_config(settings: Settings) -> list[dict[str, str]]:
    """Register or update every client of ``config/clients.toml``; keeps existing secrets."""
    urls = {name: public_url_of(name) for name in ("ecomms", "justice", "eservices")}
    secrets_dir = settings.instance_path / "client-secrets"
    private_dir(secrets_dir)
    done = []
    for key, entry in load_toml("clients.toml").items():
        client_id = entry.get("client_id", key)
        from_env = os.environ.get(f"{key.upper()}_CLIENT_SECRET")
        secret_file = secrets_dir / client_id
        secret = from_env or (secret_file.read_text().strip() if secret_file.exists() else secrets.token_urlsafe(32))
        if not from_env:
            if settings.production:
                raise ValueError(f"set {key.upper()}_CLIENT_SECRET in production")
            write_private(secret_file, secret)  # 0600 from the start, never readable by others
        grant_types = list(entry.get("grant_types", USER_GRANTS))
        scope = entry.get("scope", "openid profile email")
        redirect_uris = [_expand(u, urls) for u in entry.get("redirect_uris", [])]
        check_registration(client_id, scope, grant_types, redirect_uris)
        values = dict(
            name=entry.get("name", key),
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=[_expand(u, urls) for u in entry.get("post_logout_redirect_uris", [])],
            backchannel_logout_uri=_expand(entry["backchannel_logout_uri"], urls) if entry.get("backchannel_logout_uri") else None,
            scope=scope,
            first_party=bool(entry.get("first_party", False)),
            policy={k: _expand(v, urls) if isinstance(v, str) else v for k, v in entry.get("policy", {}).items()},
            require_pkce=bool(entry.get("require_pkce", True)),
            grant_types=grant_types,
            client_secret_hash=hash_secret(secret),
        )
        with get_db().session() as session:
            row = session.get(Client, client_id)
            if row is None:
                session.add(Client(client_id=client_id, **values))
            else:
                for name, value in values.items():
                    setattr(row, name, value)
        forget(client_id)
        done.append({"client_id": client_id, "secret_source": "env" if from_env else str(secret_file)})
    return done


def login_url(client) -> str:
    """Where a person starts signing in to this client (OIDC 'initiate_login_uri', else its home + /login)."""
    configured = (client.policy or {}).get("initiate_login_uri")
    if configured:
        return configured
    homes = list(getattr(client, "post_logout_redirect_uris", None) or [])
    return homes[0].rstrip("/") + "/login" if homes else get_settings().issuer + "/"


_origins: tuple[float, frozenset[str]] = (0.0, frozenset())


def forget(client_id: str) -> None:
    """This process's cached copies of a client that changed (other processes: within CACHE_SECONDS)."""
    global _origins
    _cache.pop(client_id, None)
    _origins = (0.0, frozenset())


def registered_origins() -> frozenset[str]:
    """Every browser origin some enabled client registered (a CORS preflight names no client), cached
    as briefly as the clients themselves; a disabled client's origins are none (disabling drops this
    process's cache at once: ``forget``; other processes within CACHE_SECONDS)."""
    global _origins
    if _origins[0] > time.monotonic():
        return _origins[1]
    with get_db().session() as session:
        enabled = select(Client.allowed_origins).where(Client.disabled_at.is_(None))
        found = frozenset(origin for origins in session.scalars(enabled) for origin in origins or ())
    _origins = (time.monotonic() + CACHE_SECONDS, found)
    return found
