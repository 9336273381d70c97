"""Reading config/upstream_providers.toml: the provider's kind (pivot or standard) and its default level."""

from __future__ import annotations

import pytest

from idp.upstream.oidc import OIDCUpstream
from idp.upstream.registry import parse_providers
from shared.config import ConfigError, load_toml

BASE = {"issuer": "http://op.example", "client_id": "c", "display_name": "OP", "client_secret_env": "UNSET_SECRET"}


def test_a_provider_is_standard_unless_declared_pivot_and_its_default_level_is_its_lowest():
    configs = parse_providers({"plain": dict(BASE), "fc": dict(BASE, identity="pivot", acr_levels=["eidas2", "eidas1"])})
    assert configs["plain"].identity == "standard" and not configs["plain"].pivot
    assert configs["plain"].default_acr == "eidas1"
    assert configs["fc"].pivot and configs["fc"].default_acr == "eidas1"
    strict = parse_providers({"x": dict(BASE, default_acr="")})["x"]
    assert strict.default_acr is None
    assert OIDCUpstream(configs["fc"]).achieved_acr(None) == "eidas1"
    assert OIDCUpstream(strict).achieved_acr(None) is None


@pytest.mark.parametrize("table,message", [
    ({"identity": "franceconnect"}, "identity must be"),
    ({"default_acr": "eidas2"}, "is not one of its acr_levels"),
])
def test_a_wrong_declaration_is_refused_at_start(table, message):
    with pytest.raises(ConfigError, match=message):
        parse_providers({"x": {**BASE, **table}})


def test_the_shipped_sandboxes_are_pivot_providers():
    assert {c.identity for c in parse_providers(load_toml("upstream_providers.toml")).values()} == {"pivot"}


def test_only_the_justice_space_requires_the_pivot_identity():
    clients = load_toml("clients.toml")
    assert clients["justice"]["policy"].get("require_pivot") is True
    assert not clients["ecomms"]["policy"].get("require_pivot") and not clients["eservices"]["policy"].get("require_pivot")
