"""The operators' console on signing keys (idp.services.keys): list, publish new keys, make them
sign once every client's cached JWKS holds them, retire an old one; each step audited."""

from __future__ import annotations

from flask import current_app

from idp.services import audit
from idp.services.keys import KeyRing, StillVerifying, TooEarly  # noqa: F401  (what activate, retire may raise)
from shared.appkit import get_settings


def ring() -> KeyRing:
    return current_app.extensions["keyring"]


def publish_before_use() -> float:
    return float(get_settings().section("keys").get("publish_before_use_seconds", 300))


def listing() -> list[dict]:
    return ring().listing()


def waiting_seconds() -> int:
    return int(ring().seconds_until_usable(publish_before_use()) + 0.999)


def publish(operator_id: str) -> dict[str, str]:
    published = ring().publish_next()
    audit.record("operations_keys_published", operator_id, operator=operator_id, kids=sorted(published.values()))
    return published


def activate(operator_id: str) -> dict[str, str]:
    active = ring().activate_next(publish_before_use())
    audit.record("operations_keys_activated", operator_id, operator=operator_id, kids=sorted(active.values()))
    return active


def tokens_live_for() -> float:
    """The longest a token signed by a key stays valid (ID, access and logout tokens), plus the
    JWKS cache: how long a key that stopped signing stays published."""
    lifetimes = get_settings().section("lifetimes")
    return max(float(lifetimes.get("id_token", 600)), float(lifetimes.get("access_token", 600))) + publish_before_use()


def retire(operator_id: str, kid: str) -> None:
    ring().retire(kid, tokens_live_for())
    audit.record("operations_key_retired", operator_id, operator=operator_id, kid=kid)
