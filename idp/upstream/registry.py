"""The upstream providers this IdP offers, from ``config/upstream_providers.toml``.

One table per provider (see that file for every key). Secrets never sit in the file: each table
names the environment variable holding its client secret (``client_secret_env``). Sandbox
providers (``sandbox = true``) fall back to a well-known development secret shared with
:mod:`idp.upstream.sandbox` when the variable is unset — refused in production. The issuer of
any provider can be moved with ``UPSTREAM_<KEY>_ISSUER`` (e.g. ``UPSTREAM_IMPOTS_ISSUER``).

Tests (or an embedding app) may set ``app.config["UPSTREAM_PROVIDERS"]`` to a dict with the same
shape as the TOML file before the first request.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, current_app

from idp.upstream.base import EIDAS_LEVELS, Upstream
from idp.upstream.oidc import DEFAULT_ALGORITHMS, OIDCUpstream, UpstreamConfig
from shared.config import ConfigError, load_toml

log = logging.getLogger(__name__)
CONFIG_FILE = "upstream_providers.toml"


def sandbox_client_secret(key: str) -> str:
    """The development-only secret a sandbox provider and the IdP agree on when no env var is set."""
    return f"sandbox-{key}-dev-secret"


def parse_providers(raw: dict[str, Any], production: bool = False) -> dict[str, UpstreamConfig]:
    configs: dict[str, UpstreamConfig] = {}
    for key, table in raw.items():
        if not isinstance(table, dict) or table.get("enabled", True) is False:
            continue
        missing = [name for name in ("issuer", "client_id", "display_name") if not table.get(name)]
        if missing:
            raise ConfigError(f"upstream provider {key!r}: missing {', '.join(missing)}")
        sandbox = bool(table.get("sandbox", False))
        if sandbox and production:
            continue  # sandbox providers never run in production
        secret_env = table.get("client_secret_env")
        secret = os.environ.get(secret_env) if secret_env else None
        if not secret and sandbox:
            secret = sandbox_client_secret(key)
        if not secret and secret_env and production:
            raise ConfigError(f"upstream provider {key!r}: set the {secret_env} environment variable")
        issuer = os.environ.get(f"UPSTREAM_{key.upper()}_ISSUER") or table["issuer"]
        levels = tuple(table.get("acr_levels", ["eidas1"]))
        unknown = [level for level in levels if level not in EIDAS_LEVELS]
        if unknown:
            raise ConfigError(f"upstream provider {key!r}: unknown acr level(s) {unknown}")
        identity = table.get("identity", "standard")
        if identity not in ("pivot", "standard"):
            raise ConfigError(f"upstream provider {key!r}: identity must be \"pivot\" or \"standard\"")
        # the level of an ID token that states no acr: declared, else the lowest declared level
        default_acr = table.get("default_acr", min(levels, key=EIDAS_LEVELS.index) if levels else "")
        if default_acr and default_acr not in levels:
            raise ConfigError(f"upstream provider {key!r}: default_acr {default_acr!r} is not one of its acr_levels")
        configs[key] = UpstreamConfig(
            key=key,
            issuer=issuer,  # compared exactly with the discovery document and the ID token's iss
            client_id=table["client_id"],
            client_secret=secret,
            display_name=table["display_name"],
            scopes=tuple(table.get("scopes", ["openid", "profile", "email"])),
            claims=dict(table.get("claims", {})),
            logo=table.get("logo"),
            acr_levels=levels,
            algorithms=tuple(table.get("algorithms", DEFAULT_ALGORITHMS)),
            token_endpoint_auth_method=table.get("token_endpoint_auth_method", "client_secret_basic"),
            sandbox=sandbox,
            help_url=table.get("help_url"),
            send_acr_values=bool(table.get("send_acr_values", True)),
            identity=identity,
            default_acr=default_acr or None,
        )
    return configs


def load_upstreams(app: Flask) -> dict[str, Upstream]:
    raw = app.config.get("UPSTREAM_PROVIDERS")
    if raw is None:
        raw = load_toml(CONFIG_FILE)
    settings = app.config.get("SETTINGS")
    production = bool(settings and settings.production)
    return {key: OIDCUpstream(config) for key, config in parse_providers(raw, production).items()}


def get_upstreams() -> dict[str, Upstream]:
    """The providers of the current app, in configuration order (built once per app)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    upstreams = app.extensions.get("upstreams")
    if upstreams is None:
        upstreams = app.extensions["upstreams"] = load_upstreams(app)
    return upstreams


def get_upstream(key: str) -> Upstream | None:
    return get_upstreams().get(key)
