"""The court feed API: access tokens from the real IdP (client credentials, scope court_feed),
every refusal, and a case fed end to end (consent emails the identification number)."""

from __future__ import annotations

import base64

import pytest
import yaml
from sqlalchemy import select

from portals.justice import create_app, upgrade_database
from portals.justice.models import Case
from tests.idp.helpers import api_token, start_idp
from tests.portals.justice.conftest import outbox


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('court-idp')}/idp.db")
    yield server
    server.stop()


@pytest.fixture
def portal(idp, tmp_path):
    url = f"sqlite:///{tmp_path / 'justice.db'}"
    upgrade_database(url)
    (tmp_path / "instance").mkdir()
    return create_app({"database_url": url, "instance_path": tmp_path / "instance", "issuer": idp.url,
                       "_quiet": True, "raw": {"outbox": {"manual": True}}})


def token_for(idp, scope: str) -> str:
    return api_token(idp, scope)


def test_the_feed_refuses_without_a_court_token(idp, portal):
    client = portal.test_client()
    body = {"nature": "Divorce", "court": {"name": "TJ Strasbourg"}}
    assert client.put("/api/court/cases/RG1", json=body).status_code == 401
    assert client.put("/api/court/cases/RG1", json=body, headers={"Authorization": "Bearer x.y.z"}).status_code == 401
    other = token_for(idp, "provisioning")
    assert client.put("/api/court/cases/RG1", json=body,
                      headers={"Authorization": f"Bearer {other}"}).status_code == 401


def test_a_case_fed_end_to_end(idp, portal):
    client = portal.test_client()
    auth = {"Authorization": f"Bearer {token_for(idp, 'court_feed')}"}
    assert client.put("/api/court/cases/RG%2024-1", json={"nature": "Divorce"}, headers=auth).status_code == 400
    created = client.put("/api/court/cases/RG%2024-1", headers=auth, json={
        "nature": "Divorce", "court": {"name": "Tribunal judiciaire de Strasbourg", "phone": "03 88 75 27 27"}})
    assert created.status_code == 201
    bad_phone = client.post("/api/court/cases/RG%2024-1/parties", headers=auth,
                            json={"role": "Demandeur", "last_name": "DUBOIS", "mobile": "12"})
    assert bad_phone.status_code == 400
    party = client.post("/api/court/cases/RG%2024-1/parties", headers=auth, json={
        "role": "Demandeur", "last_name": "DUBOIS", "first_name": "Angela", "email": "angela@example.org",
        "mobile": "06 12 34 56 78"}).get_json()
    assert client.post(f"/api/court/cases/RG%2024-1/parties/{party['id']}/consent", headers=auth).status_code == 201
    [mail] = outbox(portal, "email")
    assert mail.recipient == "angela@example.org" and "Votre numéro d'identification" in mail.body_text
    for bad in ({"kind": "party", "label": "x", "at": "2030-01-01T10:00:00+01:00"},
                {"kind": "hearing", "label": "x", "at": "2030-01-01T10:00:00"},
                {"kind": "document", "label": "x", "at": "2030-01-01T10:00:00+01:00", "document_kind": "summons",
                 "pdf_base64": base64.b64encode(b"not a pdf").decode()}):
        assert client.post("/api/court/cases/RG%2024-1/events", headers=auth, json=bad).status_code == 400, bad
    hearing = client.post("/api/court/cases/RG%2024-1/events", headers=auth, json={
        "kind": "hearing", "label": "Audience", "at": "2030-01-01T10:00:00+01:00", "location": "Salle 3"})
    document = client.post("/api/court/cases/RG%2024-1/events", headers=auth, json={
        "kind": "document", "label": "Convocation", "at": "2026-11-20T10:00:00+01:00", "document_kind": "summons",
        "pdf_base64": base64.b64encode(b"%PDF-1.4 convocation").decode()})
    assert hearing.status_code == document.status_code == 201
    assert client.post("/api/court/cases/RG%2024-1/close", headers=auth).status_code == 200
    with portal.extensions["db"].session() as session:
        case = session.scalar(select(Case).where(Case.reference == "RG 24-1"))
        assert case.state == "finished" and case.ended_at is not None and len(case.events) == 2
    assert client.post("/api/court/cases/NOPE/close", headers=auth).status_code == 404


def test_the_feed_is_described_in_openapi(portal):
    spec = yaml.safe_load(portal.test_client().get("/api/court/openapi.yaml").data)
    assert spec["openapi"].startswith("3.1") and "/api/court/cases/{reference}/events" in spec["paths"]
