"""Scopes → claims, and the pairwise subject identifier (OIDC Core §5.4, §8.1).

Areas add claims for their scopes with ``register_claims(scope, provider)``; a provider gets the
account, the client and a context dict (the IdP session's context, e.g. the current
organisation) and returns the claims it vouches for.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from functools import cache
from typing import Any

from idp.storage.sql.models import Account
from shared.appkit import get_settings

ClaimsProvider = Callable[[Account, Any, dict[str, Any]], dict[str, Any]]
CLAIM_PROVIDERS: dict[str, list[ClaimsProvider]] = {}
SCOPE_CLAIMS: dict[str, list[str]] = {
    "openid": ["sub"],
    "profile": ["given_name", "family_name", "preferred_username", "locale"],
    "email": ["email", "email_verified"],
    "roles": ["roles"],
}


def register_claims(scope: str, provider: ClaimsProvider, claim_names: list[str] | None = None) -> None:
    CLAIM_PROVIDERS.setdefault(scope, []).append(provider)
    if claim_names:
        SCOPE_CLAIMS.setdefault(scope, [])
        SCOPE_CLAIMS[scope].extend(n for n in claim_names if n not in SCOPE_CLAIMS[scope])


@cache
def _pairwise_secret(instance_path: str) -> bytes:
    """Per-deployment secret: from PAIRWISE_SECRET, else generated once into the instance folder."""
    import os
    from pathlib import Path

    if os.environ.get("PAIRWISE_SECRET"):
        return os.environ["PAIRWISE_SECRET"].encode()
    path = Path(instance_path) / "pairwise.secret"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def pairwise_sub(account_id: str, client) -> str:
    """The subject this client sees for this account: stable per client, unlinkable across clients."""
    sector = getattr(client, "sector_identifier", None) or client.client_id
    secret = _pairwise_secret(str(get_settings().instance_path))
    return hmac.new(secret, f"{sector}|{account_id}".encode(), hashlib.sha256).hexdigest()


def _profile(account: Account, _client, _context) -> dict[str, Any]:
    claims = {"given_name": account.given_name, "family_name": account.family_name,
              "preferred_username": account.username or account.email, "locale": account.locale}
    return {k: v for k, v in claims.items() if v}


def _email(account: Account, _client, _context) -> dict[str, Any]:
    return {"email": account.email, "email_verified": bool(account.email_verified)}


def _roles(account: Account, _client, _context) -> dict[str, Any]:
    return {"roles": list(account.roles or [])}


register_claims("profile", _profile)
register_claims("email", _email)
register_claims("roles", _roles)


def claims_for(account: Account, client, scope: str, context: dict[str, Any] | None = None) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": pairwise_sub(account.id, client)}
    for name in scope.split():
        for provider in CLAIM_PROVIDERS.get(name, []):
            claims.update(provider(account, client, context or {}))
    claims["sub"] = pairwise_sub(account.id, client)  # no provider may override the subject
    # OIDC Core §5.3.2: a claim with no value is omitted, not sent as null
    return {name: value for name, value in claims.items() if value is not None}


def all_claim_names() -> list[str]:
    names: list[str] = []
    for claim_names in SCOPE_CLAIMS.values():
        names.extend(n for n in claim_names if n not in names)
    return [*names, "auth_time", "acr", "amr", "sid", "nonce"]
