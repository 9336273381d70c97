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

from sqlalchemy import select

from idp.storage.sql.models import Client
from shared.appkit import get_db, get_settings
from shared.config import Settings, load_settings, load_toml
from shared.files import private_dir, write_private

CACHE_SECONDS = 5.0  # short: a changed redirect URI or a deleted client takes effect quickly


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

    @classmethod
    def from_row(cls, row: Client) -> RegisteredClient:
        return cls(row.client_id, row.client_secret_hash, row.name, tuple(row.redirect_uris or ()),
                   tuple(row.post_logout_redirect_uris or ()), row.backchannel_logout_uri,
                   tuple(row.grant_types or ()), tuple(row.response_types or ()), row.scope,
                   row.token_endpoint_auth_method, row.require_pkce, row.id_token_signed_response_alg,
                   row.sector_identifier, row.first_party, dict(row.policy or {}))

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
        return redirect_uri in self.redirect_uris  # exact string match, RFC 9700 §2.1

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.client_secret_hash) and hmac.compare_digest(self.client_secret_hash, hash_secret(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint == "token":
            return method in ("client_secret_basic", "client_secret_post")
        return True

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.response_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


_cache: dict[str, tuple[float, RegisteredClient | None]] = {}


def get(client_id: str | None) -> RegisteredClient | None:
    if not client_id:
        return None
    hit = _cache.get(client_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    with get_db().session() as session:
        row = session.get(Client, client_id)
        client = RegisteredClient.from_row(row) if row else None
    _cache[client_id] = (time.monotonic() + CACHE_SECONDS, client)
    return client


def all_clients() -> list[RegisteredClient]:
    with get_db().session() as session:
        return [RegisteredClient.from_row(row) for row in session.scalars(select(Client))]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:24] or "client"


USER_GRANTS = ["authorization_code", "refresh_token"]
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


def check_registration(client_id: str, scope: str, grant_types: list[str], redirect_uris: list[str]) -> None:
    """Refuse a registration the authorization model would not honour: a client is registered only
    for what it may really obtain (config/authorization.toml)."""
    from shared.authorization import model

    unknown = [g for g in grant_types if g not in GRANT_TYPES]
    if unknown:
        raise ValueError(f"unknown grant type(s): {', '.join(unknown)}")
    if "authorization_code" in grant_types and not redirect_uris:
        raise ValueError("the authorization_code grant needs at least one redirect URI")
    refused = model().refused_registration(client_id, scope, grant_types)
    if refused:
        raise ValueError(f"scope(s) {' '.join(refused)} cannot be issued to {client_id} through "
                         f"{', '.join(grant_types)}: see config/authorization.toml")


def create(name: str, redirect_uris: list[str], post_logout_redirect_uris: list[str] | None = None,
           backchannel_logout_uri: str | None = None, require_pkce: bool = True,
           id_token_alg: str = "RS256", scope: str | None = None, client_id: str | None = None,  # noqa: S107
           secret: str | None = None, first_party: bool = False, policy: dict | None = None,
           grant_types: list[str] | None = None) -> tuple[RegisteredClient, str]:
    for uri in [*redirect_uris, *(post_logout_redirect_uris or []), *([backchannel_logout_uri] if backchannel_logout_uri else [])]:
        if not re.match(r"^https?://[^\s#]+$", uri):
            raise ValueError(f"not an absolute http(s) URI without fragment: {uri}")
    if id_token_alg not in ("RS256", "ES256"):
        raise ValueError("id token algorithm must be RS256 or ES256")
    secret = secret or secrets.token_urlsafe(32)
    client_id = client_id or f"{_slug(name)}-{secrets.token_hex(4)}"
    grant_types = list(grant_types or USER_GRANTS)  # client credentials only when asked for
    scope = scope or "openid profile email offline_access"
    check_registration(client_id, scope, grant_types, redirect_uris)
    row = Client(
        client_id=client_id, client_secret_hash=hash_secret(secret), name=name,
        redirect_uris=list(redirect_uris), post_logout_redirect_uris=list(post_logout_redirect_uris or []),
        backchannel_logout_uri=backchannel_logout_uri, require_pkce=require_pkce,
        id_token_signed_response_alg=id_token_alg, first_party=first_party, policy=dict(policy or {}),
        grant_types=grant_types, scope=scope,
    )
    with get_db().session() as session:
        if session.get(Client, client_id):
            raise ValueError(f"client {client_id} exists")
        session.add(row)
    _cache.pop(client_id, None)
    return RegisteredClient.from_row(row), secret


def _expand(value: str, urls: dict[str, str]) -> str:
    for key, url in urls.items():
        value = value.replace("{" + key + "}", url)
    return value


def sync_from_config(settings: Settings) -> list[dict[str, str]]:
    """Register or update every client of ``config/clients.toml``; keeps existing secrets."""
    urls = {name: load_settings(name, {"_quiet": True}).public_url for name in ("ecomms", "justice", "eservices")}
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
        _cache.pop(client_id, None)
        done.append({"client_id": client_id, "secret_source": "env" if from_env else str(secret_file)})
    return done


def login_url(client) -> str:
    """Where a person starts signing in to this client (OIDC 'initiate_login_uri', else its home + /login)."""
    configured = (client.policy or {}).get("initiate_login_uri")
    if configured:
        return configured
    homes = list(getattr(client, "post_logout_redirect_uris", None) or [])
    return homes[0].rstrip("/") + "/login" if homes else get_settings().issuer + "/"
