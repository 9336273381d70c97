"""Clients in the operators' console, in Chromium: register (the CLI's rules, the authorization
model deciding the scopes), rotate the secret (shown once, the old one dead), redirect URIs,
policies, disable and enable; each change audited under the operator's name."""

from __future__ import annotations

import html

import pytest
import requests

from tests.idp.helpers import make_client
from tests.idp.operations.conftest import audit_events

pytestmark = pytest.mark.browser


def token_with(idp, client_id: str, secret: str) -> int:
    """The token endpoint's answer to the client's credentials (a wrong secret: 401)."""
    return requests.post(f"{idp.url}/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret),
                         timeout=10).status_code


def open_client(console, idp, client_id: str) -> None:
    console.goto(idp.url + "/operations/clients")
    console.locator(f"a[href='/operations/clients/{client_id}']").click()
    console.get_by_role("heading", level=1).wait_for()


def test_register_a_client_within_the_authorization_model(console, idp):
    console.get_by_role("link", name="Clients").click()
    console.get_by_role("link", name="Enregistrer un client").click()
    console.get_by_label("Nom du service").fill("Portail des archives")
    console.get_by_label("URI de redirection", exact=True).fill("https://archives.example/callback")
    # the model gives the provisioning API to eComms only: refused here, said in French
    console.get_by_label("Portées").fill("openid profile provisioning")
    console.get_by_role("button", name="Enregistrer le client").click()
    assert console.get_by_role("alert").is_visible()
    assert "ne permet pas de délivrer provisioning" in console.content()
    console.get_by_label("Portées").fill("openid profile email")
    console.get_by_role("button", name="Enregistrer le client").click()
    console.get_by_role("heading", name="Le client est enregistré").wait_for()
    client_id = console.locator("dd code").first.inner_text()
    secret = console.locator("code.secret").inner_text()
    assert client_id.startswith("portail-des-archives-") and len(secret) >= 40
    with idp.app.app_context():
        from idp.services import clients

        client = clients.get(client_id, fresh=True)
        assert client.redirect_uris == ("https://archives.example/callback",) and client.check_client_secret(secret)
    assert [e.client_id for e in audit_events(idp, "operations_client_registered")][-1] == client_id


def test_a_redirect_uri_breaking_the_cli_rules_is_refused(console, idp):
    client_id, _secret = make_client(idp.app, redirect_uris=["https://rp.example/cb"])
    open_client(console, idp, client_id)
    console.get_by_label("URI de redirection", exact=True).fill("https://rp.example/cb\nhttps://rp.example/x#frag")
    console.get_by_role("button", name="Enregistrer les URI").click()
    assert "contient un fragment (#)" in console.content()
    console.get_by_label("URI de redirection", exact=True).fill("https://rp.example/cb\nhttps://*.rp.example/cb")
    console.get_by_role("button", name="Enregistrer les URI").click()
    assert console.get_by_role("alert").is_visible() and "sans joker" in console.content()
    # the refused text stays in the field to be corrected; the stored URIs are unchanged (below)
    assert console.get_by_label("URI de redirection", exact=True).input_value() == \
        "https://rp.example/cb\nhttps://*.rp.example/cb"
    # the same refusal in English, on the form the operator sees
    console.goto(f"{idp.url}/lang/en?next=/operations/clients/{client_id}")
    console.get_by_label("Redirect URIs", exact=True).fill("https://rp.example/cb\nhttps://rp.example@evil.example/cb")
    console.get_by_role("button", name="Save the URIs").click()
    assert "has a user name or password before the host (@)" in console.content()
    console.goto(f"{idp.url}/lang/fr?next=/operations/clients/{client_id}")
    with idp.app.app_context():
        from idp.services import clients

        assert clients.get(client_id, fresh=True).redirect_uris == ("https://rp.example/cb",)  # nothing half-saved
    console.get_by_label("URI de redirection", exact=True).fill("https://rp.example/cb\nhttps://rp.example/new")
    console.get_by_role("button", name="Enregistrer les URI").click()
    console.get_by_text("Les URI de redirection sont enregistrées.").wait_for()
    with idp.app.app_context():
        from idp.services import clients

        assert clients.get(client_id, fresh=True).redirect_uris == ("https://rp.example/cb", "https://rp.example/new")
    event = audit_events(idp, "operations_client_redirect_uris")[-1]
    assert event.client_id == client_id and event.detail["after"][-1] == "https://rp.example/new"


def test_rotate_the_secret_shown_once(console, idp):
    client_id, old = make_client(idp.app, redirect_uris=["https://rp.example/cb"], client_id="eservices",
                                 grant_types=["authorization_code", "refresh_token", "client_credentials"],
                                 scope="openid management")
    assert token_with(idp, client_id, old) == 200
    open_client(console, idp, client_id)
    console.get_by_role("button", name="Renouveler le secret").click()
    console.get_by_role("heading", name="Le secret est renouvelé").wait_for()
    new = console.locator("code.secret").inner_text()
    assert new != old
    assert token_with(idp, client_id, old) == 401
    assert token_with(idp, client_id, new) == 200
    # shown once: the client's page never shows it again
    open_client(console, idp, client_id)
    assert new not in console.content()
    assert [e.client_id for e in audit_events(idp, "operations_client_secret_rotated")][-1] == client_id


def test_policies_are_switched(console, idp):
    client_id, _secret = make_client(idp.app, redirect_uris=["https://rp.example/cb"],
                                     policy={"initiate_login_uri": "https://rp.example/login"})
    open_client(console, idp, client_id)
    console.get_by_label("Second facteur exigé").check()
    console.get_by_role("button", name="Enregistrer les politiques").click()
    console.get_by_text("Les politiques sont enregistrées.").wait_for()
    assert console.get_by_label("Second facteur exigé").is_checked()
    with idp.app.app_context():
        from idp.services import clients

        policy = clients.get(client_id, fresh=True).policy
    assert policy == {"initiate_login_uri": "https://rp.example/login", "require_mfa": True}  # the rest is kept
    assert audit_events(idp, "operations_client_policies")[-1].detail["on"] == ["require_mfa"]

    # a forged or stale form naming a policy the console does not know: refused, nothing switched
    token = console.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = console.request.post(f"{idp.url}/operations/clients/{client_id}/policies", max_redirects=0,
                                   form={"csrf_token": token, "policies": "require_pkce_off"})
    assert refused.status == 400 and "Politique inconnue : require_pkce_off. Rien n'a été modifié." in html.unescape(refused.text())
    with idp.app.app_context():
        assert clients.get(client_id, fresh=True).policy["require_mfa"] is True


def test_a_disabled_client_gets_nothing_until_enabled(console, idp):
    client_id, secret = make_client(idp.app, redirect_uris=["https://rp.example/cb"], client_id="ecomms",
                                    grant_types=["authorization_code", "refresh_token", "client_credentials"],
                                    scope="openid provisioning")
    assert token_with(idp, client_id, secret) == 200
    open_client(console, idp, client_id)
    console.get_by_role("button", name="Désactiver le client").click()
    console.get_by_text("Le client est désactivé").wait_for()
    assert token_with(idp, client_id, secret) == 401
    authorize = requests.get(f"{idp.url}/authorize", params={"client_id": client_id, "response_type": "code",
                                                            "redirect_uri": "https://rp.example/cb"},
                             allow_redirects=False, timeout=10)
    assert authorize.status_code == 400  # an unknown client: no redirect to it
    console.get_by_role("button", name="Réactiver le client").click()
    console.get_by_text("Le client est réactivé.").wait_for()
    assert token_with(idp, client_id, secret) == 200
    kinds = [e.kind for e in audit_events(idp, "operations_client_disabled") + audit_events(idp, "operations_client_enabled")
             if e.client_id == client_id]
    assert kinds == ["operations_client_disabled", "operations_client_enabled"]
