"""Signing keys: generated on first start, `idp keys rotate` makes a new key sign while the old
one still verifies until it is retired."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from joserfc import jwt
from joserfc.jwk import KeySet

from idp import create_app, upgrade_database


def test_rotation_then_retirement(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'idp.db'}"
    upgrade_database(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("KEYS_DIR", str(tmp_path / "keys"))
    app = create_app({"_quiet": True, "raw": {"outbox": {"manual": True}}})
    with app.app_context():
        from idp.oidc.tokens import sign

        old_token = sign({"sub": "x"}, "RS256")
        old_kid = json.loads(__import__("base64").urlsafe_b64decode(old_token.split(".")[0] + "==")).get("kid")
    assert (tmp_path / "keys" / "idp").exists(), "keys generated on first start into KEYS_DIR"

    from idp.cli import main

    rotated = CliRunner().invoke(main, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    new_kid = json.loads(rotated.output)["active"]["RS256"]
    assert new_kid != old_kid
    app.extensions["keyring"]._reload(force=True)  # what the server notices within a second
    with app.app_context():
        new_token = sign({"sub": "x"}, "RS256")
    published = app.test_client().get("/jwks").get_json()
    kids = {key["kid"] for key in published["keys"]}
    assert {old_kid, new_kid} <= kids
    keys = KeySet.import_key_set(published)
    assert jwt.decode(old_token, keys).claims["sub"] == "x", "the old key still verifies"
    assert json.loads(__import__("base64").urlsafe_b64decode(new_token.split(".")[0] + "=="))["kid"] == new_kid

    refused = CliRunner().invoke(main, ["keys", "retire", old_kid])  # the tokens it signed are still valid
    assert refused.exit_code != 0 and "still valid" in refused.output
    ring = app.extensions["keyring"]
    state = json.loads(ring.state_file.read_text())
    state["stopped"][old_kid] -= 901  # as if it had stopped signing longer ago than any token lives
    ring.state_file.write_text(json.dumps(state))
    retired = CliRunner().invoke(main, ["keys", "retire", old_kid])
    assert retired.exit_code == 0, retired.output
    app.extensions["keyring"]._reload(force=True)
    assert old_kid not in {key["kid"] for key in app.test_client().get("/jwks").get_json()["keys"]}


def test_a_key_waiting_to_sign_cannot_be_retired(tmp_path):
    """Outside review: retiring the published ES256 key before activation left the old one signing
    access tokens while the page said the new keys were active."""
    from idp.services.keys import KeyRing

    ring = KeyRing(tmp_path / "keys")
    waiting = ring.publish_next()
    for kid in waiting.values():
        with pytest.raises(ValueError, match="published to sign next"):
            ring.retire(kid)
