"""The support desk: e-services and the justice space keep their contact requests and hand them
to the IdP (the support API, their own client-credentials token); the operators' console reads
them, answers by email in the requester's language and closes them (Chromium); each step audited."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from tests.idp.helpers import make_client, start_idp
from tests.idp.operations.conftest import audit_events

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def idp(tmp_path_factory, devinbox):
    folder = tmp_path_factory.mktemp("operations-support")
    server = start_idp(f"sqlite:///{folder}/idp.db", **devinbox.settings())
    server.database_url = f"sqlite:///{folder}/idp.db"
    yield server
    server.stop()


@pytest.fixture(scope="module")
def portal_secrets(idp):
    """The two portals as the IdP knows them (config/clients.toml's scopes and grants)."""
    grants = ["authorization_code", "refresh_token", "client_credentials"]
    return {key: make_client(idp.app, redirect_uris=[f"https://{key}.example/callback"], client_id=key,
                             grant_types=grants, scope="openid profile support", first_party=True,
                             name={"eservices": "Portail e-services", "justice": "Justice"}[key])[1]
            for key in ("eservices", "justice")}


def portal(kind: str, idp, tmp_path, monkeypatch, portal_secrets):
    from importlib import import_module

    package = import_module(f"portals.{kind}")
    url = f"sqlite:///{tmp_path / (kind + '.db')}"
    package.upgrade_database(url)
    monkeypatch.setenv(f"{kind.upper()}_CLIENT_SECRET", portal_secrets[kind])
    app = package.create_app({"database_url": url, "issuer": idp.url, "_quiet": True,
                              "raw": {"outbox": {"manual": True}}})
    app.config.update(TESTING=True)
    return app


def form_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def hand_over(app, model_module: str) -> int:
    from importlib import import_module

    from shared.support_handover import hand_over_pending

    package = import_module(model_module)
    with app.app_context():
        return hand_over_pending(package.models.SupportRequest, package.services.support_payload)


def test_requests_of_two_portals_are_read_answered_and_closed_at_the_idp(console, idp, operator, devinbox, tmp_path,
                                                                           monkeypatch, portal_secrets):
    eservices = portal("eservices", idp, tmp_path, monkeypatch, portal_secrets)
    web = eservices.test_client()
    web.get("/lang/en?next=/aide")  # Anne reads the portal in English
    sent = web.post("/assistance", data={
        "csrf_token": form_token(web, "/aide"), "support_name": "Anne Faure", "support_email": "anne.support@example.org",
        "support_topic": "courrier", "support_message": "The letter never came.\nWhat now?", "page": "/aide"})
    assert sent.status_code == 200
    e_reference = re.search(r"AS-[0-9A-F]{8}", sent.get_data(as_text=True)).group(0)
    justice = portal("justice", idp, tmp_path, monkeypatch, portal_secrets)
    web = justice.test_client()
    sent = web.post("/support/message", data={"csrf_token": form_token(web, "/support/message"),
                                              "email": "jean.support@example.org", "topic": "number",
                                              "message": "Mon numéro ne marche pas."})
    assert sent.status_code == 200
    j_reference = re.search(r"JUS-[0-9A-F]{8}", sent.get_data(as_text=True)).group(0)
    # each portal keeps its record and hands it over; a second round sends nothing again
    assert hand_over(eservices, "portals.eservices") == 1 and hand_over(justice, "portals.justice") == 1
    assert hand_over(eservices, "portals.eservices") == 0

    console.get_by_role("link", name="Demandes d'assistance").click()
    assert console.locator("tbody tr", has_text=j_reference).count() == 1
    console.get_by_role("link", name=e_reference).click()
    console.get_by_role("heading", name=f"Demande {e_reference}").wait_for()
    assert "The letter never came." in console.content() and "anglais" in console.content()
    console.get_by_role("button", name="Envoyer la réponse").click()
    assert console.get_by_role("alert").is_visible() and "Écrivez la réponse." in console.content()
    console.get_by_label("Réponse").fill("Hello Anne,\n\nA new letter is on its way.")
    console.get_by_role("button", name="Envoyer la réponse").click()
    console.get_by_text("La réponse est envoyée par courriel").wait_for()
    mail = next(m for m in devinbox.wait_for("anne.support@example.org") if e_reference in m["subject"])
    assert mail["subject"] == f"Reply to your support request {e_reference}"  # her language, not the operator's
    assert "A new letter is on its way." in mail["text"]
    console.get_by_role("button", name="Clore la demande").click()
    console.get_by_text("La demande est close.").wait_for()
    console.goto(idp.url + "/operations/support")
    assert console.locator("tbody tr", has_text=e_reference).count() == 0  # no longer open
    assert console.locator("tbody tr", has_text=j_reference).count() == 1
    answered = audit_events(idp, "operations_support_answered")[-1]
    closed = audit_events(idp, "operations_support_closed")[-1]
    assert (answered.client_id, answered.detail["reference"], answered.detail["operator"]) == \
        ("eservices", e_reference, operator.id)
    assert (closed.client_id, closed.detail["reference"]) == ("eservices", e_reference)

    # e-services keeps a status: its next round reads the desk's and closes its own record
    from portals.eservices.models import SupportRequest
    from shared.appkit import get_db
    from shared.support_handover import follow_closures

    with eservices.app_context():
        assert follow_closures(SupportRequest) == 1
        assert follow_closures(SupportRequest) == 0
        with get_db().session() as session:
            assert session.scalar(select(SupportRequest.status).where(SupportRequest.reference == e_reference)) == "closed"
    listed = eservices.test_cli_runner().invoke(args=["support", "list"]).output
    assert e_reference not in listed


def test_only_the_named_portals_hand_over_and_only_as_themselves(idp, portal_secrets):
    other, secret = make_client(idp.app, redirect_uris=["https://other.example/cb"],
                                grant_types=["client_credentials"], scope="", client_id="ecomms-like")
    refused = requests.post(f"{idp.url}/token", data={"grant_type": "client_credentials", "scope": "support"},
                            auth=(other, secret), timeout=10)
    assert refused.status_code == 400 or "support" not in refused.json().get("scope", "")
    assert requests.post(f"{idp.url}/api/support/requests", json={"reference": "X-1"}, timeout=10).status_code == 401
    token = requests.post(f"{idp.url}/token", data={"grant_type": "client_credentials", "scope": "support"},
                          auth=("justice", portal_secrets["justice"]), timeout=10).json()["access_token"]
    bad = requests.post(f"{idp.url}/api/support/requests", json={"reference": "JUS-1", "email": "not-an-address",
                                                                 "topic": "x", "message": "m"},
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert bad.status_code == 400 and "email" in bad.json()["error_description"]


def test_a_portal_reads_the_status_of_its_own_requests_only(idp, portal_secrets):
    def token(portal: str) -> str:
        return requests.post(f"{idp.url}/token", data={"grant_type": "client_credentials", "scope": "support"},
                             auth=(portal, portal_secrets[portal]), timeout=10).json()["access_token"]

    def statuses(portal: str, *references: str) -> requests.Response:
        return requests.get(f"{idp.url}/api/support/requests", params={"reference": list(references)},
                            headers={"Authorization": f"Bearer {token(portal)}"}, timeout=10)

    sent = requests.post(f"{idp.url}/api/support/requests", headers={"Authorization": f"Bearer {token('justice')}"},
                         json={"reference": "JUS-STATUS1", "email": "a@example.org", "topic": "number",
                               "message": "?"}, timeout=10)
    assert sent.status_code in (200, 201)
    assert statuses("justice", "JUS-STATUS1", "JUS-UNKNOWN").json() == \
        {"requests": [{"reference": "JUS-STATUS1", "status": "open"}]}
    assert statuses("eservices", "JUS-STATUS1").json() == {"requests": []}  # not e-services' request
    assert statuses("eservices").status_code == 400
    assert statuses("eservices", *[f"R{i}" for i in range(51)]).status_code == 400
    assert requests.get(f"{idp.url}/api/support/requests", params={"reference": "JUS-STATUS1"},
                        timeout=10).status_code == 401
