"""Signing keys in the operators' console, in Chromium: the list (kid, alg, created, state), a
rotation in two steps (published in /jwks before anything is signed with it, and only after the
JWKS cache lifetime), retirement; each step audited."""

from __future__ import annotations

import json

import pytest
import requests

from tests.idp.helpers import start_idp
from tests.idp.operations.conftest import audit_events

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def idp(tmp_path_factory, devinbox):
    """An IdP with keys of its own: rotating them touches no other test's IdP."""
    folder = tmp_path_factory.mktemp("operations-keys")
    server = start_idp(f"sqlite:///{folder}/idp.db", keys_path=folder / "keys", **devinbox.settings())
    server.database_url = f"sqlite:///{folder}/idp.db"
    yield server
    server.stop()


def published_kids(idp) -> set[str]:
    return {key["kid"] for key in requests.get(f"{idp.url}/jwks", timeout=5).json()["keys"]}


def signing_kid(idp) -> str:
    with idp.app.app_context():
        from idp.oidc.tokens import sign

        header = sign({"sub": "x"}, "RS256").split(".")[0]
    import base64

    return json.loads(base64.urlsafe_b64decode(header + "=="))["kid"]


def backdate(idp, seconds: float, moment: str) -> None:
    """As if ``moment`` had happened ``seconds`` earlier (the clock, not the rule, moves): "next",
    the next keys' publication; "stopped", the time the retiring keys stopped signing."""
    ring = idp.app.extensions["keyring"]
    state = json.loads(ring.state_file.read_text())
    if moment == "next":
        for kid in state["next"].values():
            state["created"][kid] -= seconds
    else:
        for kid in state.get("stopped", {}):
            state["stopped"][kid] -= seconds
    ring.state_file.write_text(json.dumps(state))


def test_rotate_in_two_steps_then_retire(console, idp, operator):
    old = signing_kid(idp)
    console.get_by_role("link", name="Clés de signature").click()
    row = console.locator("tbody tr", has_text=old)
    assert "RS256" in row.inner_text() and "Signe les jetons" in row.inner_text()

    console.get_by_role("button", name="Publier de nouvelles clés").click()
    console.get_by_text("Les nouvelles clés sont publiées dans /jwks").wait_for()
    upcoming = [r.inner_text().split()[0] for r in console.locator("tbody tr", has_text="Publiée, pas encore").all()]
    assert len(upcoming) == 2
    new = next(kid for kid in upcoming if kid.startswith("rs256-"))
    assert new in published_kids(idp) and signing_kid(idp) == old  # published first, signing nothing

    console.get_by_role("button", name="Signer avec les nouvelles clés").click()  # too early: caches
    assert console.get_by_role("alert").is_visible() and "Réessayez dans" in console.content()
    assert signing_kid(idp) == old

    backdate(idp, 301, "next")
    console.goto(idp.url + "/operations/keys")
    console.get_by_role("button", name="Signer avec les nouvelles clés").click()
    console.get_by_text("Les nouvelles clés signent désormais les jetons").wait_for()
    assert signing_kid(idp) == new and old in published_kids(idp)

    # its tokens are still valid (outside review: retiring it at once broke ID tokens in their lifetime)
    console.get_by_role("button", name=f"Retirer la clé {old}").click()
    assert "Des jetons signés par cette clé sont encore valables" in console.content()
    assert old in published_kids(idp)
    backdate(idp, 901, "stopped")  # past the ID/access tokens' 600 s and the JWKS cache's 300 s
    console.goto(idp.url + "/operations/keys")
    console.get_by_role("button", name=f"Retirer la clé {old}").click()
    console.get_by_text("La clé est retirée de /jwks").wait_for()
    assert old not in published_kids(idp)
    assert "Retirée" in console.locator("tbody tr", has_text=old).inner_text()
    kinds = [e.kind for e in audit_events(idp, "operations_keys_published") + audit_events(idp, "operations_keys_activated")
             + audit_events(idp, "operations_key_retired") if e.detail["operator"] == operator.id]
    assert kinds == ["operations_keys_published", "operations_keys_activated", "operations_key_retired"]


def test_the_signing_key_cannot_be_retired(console, idp):
    active = signing_kid(idp)
    console.goto(idp.url + "/operations/keys")
    token = console.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = console.request.post(f"{idp.url}/operations/keys/{active}/retire", form={"csrf_token": token})
    assert answer.status == 409 and "ne peut pas être retirée" in answer.text()
    assert active in published_kids(idp)
