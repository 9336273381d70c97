"""openid-client (npm, panva's FAPI 2.0-certified relying party, pinned in tests/idp/node_rp):
the scripts there, run with node. ``npm ci`` runs when node_modules is missing; without npm the
tests skip locally and FAIL under CI."""

from __future__ import annotations

from pathlib import Path

from tests.servers import npm_install

NODE_RP = Path(__file__).parent / "node_rp"


def ensure_openid_client() -> Path:
    if not (NODE_RP / "node_modules" / "openid-client").exists():
        npm_install(NODE_RP, "openid-client")
    return NODE_RP
