"""The court feed API: access tokens from the real IdP (client credentials, scope court_feed),
every refusal, and a case fed end to end (consent emails the identification number)."""

from __future__ import annotations

import base64
import re
from datetime import datetime

import pytest
import yaml
from icalendar import Calendar
from sqlalchemy import select

from portals.justice import alerts, create_app, upgrade_database
from portals.justice.models import Attachment, Case, Event, Party
from shared.rp.testing import sign_in
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


def feed(idp, portal):
    client = portal.test_client()
    return client, {"Authorization": f"Bearer {token_for(idp, 'court_feed')}"}


def attach_party(portal, reference: str, sub: str = "citizen-1") -> str:
    """The person who added the case (the SMS step is tested in test_space)."""
    with portal.extensions["db"].session() as session:
        party = session.scalars(select(Party).join(Case).where(Case.reference == reference)).first()
        attachment = Attachment(sub=sub, party_id=party.id)
        session.add(attachment)
        session.flush()
        return attachment.id


def test_case_numbers_with_a_slash_reach_their_case(idp, portal):
    client, auth = feed(idp, portal)
    for path in ("RG%2024%2F01234", "RG 24/01234"):  # percent-encoded, or as a client library may send it
        answer = client.put(f"/api/court/cases/{path}", headers=auth, json={
            "nature": "Divorce", "court": {"name": "Tribunal judiciaire de Strasbourg"}})
        assert answer.status_code in (200, 201) and answer.get_json()["reference"] == "RG 24/01234"
    party = client.post("/api/court/cases/RG%2024%2F01234/parties", headers=auth, json={
        "role": "Demandeur", "last_name": "DUBOIS", "first_name": "Angela", "email": "angela@example.org",
        "mobile": "06 12 34 56 78"})
    assert party.status_code == 201
    consent = client.post(f"/api/court/cases/RG%2024%2F01234/parties/{party.get_json()['id']}/consent", headers=auth)
    assert consent.status_code == 201
    attach_party(portal, "RG 24/01234")
    before = len(outbox(portal, "email"))
    event = client.post("/api/court/cases/RG%2024%2F01234/events", headers=auth, json={
        "kind": "hearing", "label": "Audience", "at": "2030-01-08T14:00:00+01:00"})
    assert event.status_code == 201
    assert len(outbox(portal, "email")) == before + 1, "the update reached the party"
    assert client.post("/api/court/cases/RG%2024%2F01234/close", headers=auth).status_code == 200
    with portal.extensions["db"].session() as session:
        assert session.scalar(select(Case.state).where(Case.reference == "RG 24/01234")) == "finished"
    assert client.put("/api/court/cases/" + "9" * 41, headers=auth, json={
        "nature": "x", "court": {"name": "y"}}).status_code == 400


def test_a_time_without_offset_is_refused_with_a_clear_400(idp, portal):
    client, auth = feed(idp, portal)
    client.put("/api/court/cases/RG%201", headers=auth, json={"nature": "Divorce", "court": {"name": "TJ"}})
    for at in ("2026-12-03T14:00:00", "2026-12-03", "03/12/2026 14:00", None):
        answer = client.post("/api/court/cases/RG%201/events", headers=auth,
                             json={"kind": "hearing", "label": "Audience", "at": at})
        assert answer.status_code == 400, at
        assert "offset" in answer.get_json()["error_description"]


def test_events_are_corrected_and_cancelled_and_a_renvoi_carries_its_new_date(idp, portal):
    client, auth = feed(idp, portal)
    client.put("/api/court/cases/RG%2024%2F7", headers=auth, json={"nature": "Divorce", "court": {"name": "TJ"}})
    party = client.post("/api/court/cases/RG%2024%2F7/parties", headers=auth, json={
        "role": "Demandeur", "last_name": "DUBOIS", "first_name": "Angela", "email": "angela@example.org",
        "mobile": "06 12 34 56 78"}).get_json()
    client.post(f"/api/court/cases/RG%2024%2F7/parties/{party['id']}/consent", headers=auth)
    attachment_id = attach_party(portal, "RG 24/7")
    hearing = client.post("/api/court/cases/RG%2024%2F7/events", headers=auth, json={
        "kind": "hearing", "label": "Audience", "at": "2030-01-08T14:00:00+01:00"}).get_json()["id"]
    person = portal.test_client()
    sign_in(person, sub="citizen-1")
    with portal.app_context(), portal.extensions["db"].session() as session:  # reminded for its first date
        assert alerts.send_reminders(session, now=datetime.fromisoformat("2030-01-06T14:00:00+01:00")) == 1
    moved = client.patch(f"/api/court/cases/RG%2024%2F7/events/{hearing}", headers=auth,
                         json={"at": "2030-02-12T09:30:00+01:00", "location": "Salle 4"})
    assert moved.status_code == 200 and moved.get_json()["sequence"] == 1
    page = person.get(f"/cases/{attachment_id}").get_data(as_text=True)
    assert "12/02/2030 09:30" in page and "08/01/2030" not in page and "Salle 4" in page
    with portal.app_context(), portal.extensions["db"].session() as session:  # and again for its new date
        assert alerts.send_reminders(session, now=datetime.fromisoformat("2030-02-10T09:00:00+01:00")) == 1
    assert client.patch(f"/api/court/cases/RG%2024%2F7/events/{hearing}", headers=auth,
                        json={"at": "2030-02-12T09:30:00"}).status_code == 400
    assert client.patch("/api/court/cases/RG%2024%2F7/events/nope", headers=auth,
                        json={"label": "x"}).status_code == 404
    renvoi = client.post("/api/court/cases/RG%2024%2F7/events", headers=auth, json={
        "kind": "renvoi", "label": "Renvoi", "at": "2030-02-12T11:00:00+01:00"})
    assert renvoi.status_code == 400, "a renvoi without its new date"
    renvoi = client.post("/api/court/cases/RG%2024%2F7/events", headers=auth, json={
        "kind": "renvoi", "label": "Renvoi", "at": "2030-02-12T11:00:00+01:00", "new_at": "2030-04-02T14:00:00+02:00"})
    assert renvoi.status_code == 201
    token = person.get("/settings").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', token).group(1)
    subscribed = person.post("/settings", data={"csrf_token": csrf, "action": "calendar_new"}).get_data(as_text=True)
    feed_url = re.search(r'id="calendar-url" readonly value="http://[^/]+([^"]+)"', subscribed).group(1)
    cancelled = client.delete(f"/api/court/cases/RG%2024%2F7/events/{hearing}", headers=auth)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    page = person.get(f"/cases/{attachment_id}").get_data(as_text=True)
    timeline = re.search(r'<ol class="timeline">.*?</ol>', page, re.S).group(0)
    assert "12/02/2030 09:30" not in timeline, "a cancelled hearing leaves the timeline"
    assert "Renvoi décidé le 12/02/2030" in page and "nouvelle audience le 02/04/2030 14:00" in page
    assert "Décision rendue le 12/02/2030" not in page, "a renvoi is not a final decision"
    assert hearing not in person.get("/export").get_data(as_text=True)
    assert "Audiences annulées par le tribunal" in page  # a file-imported calendar can drop it too
    withdrawal = Calendar.from_ical(person.get(f"/cases/{attachment_id}/cancellations/{hearing}.ics").data)
    assert str(withdrawal["method"]) == "CANCEL"
    [cancelled_entry] = withdrawal.walk("VEVENT")
    assert str(cancelled_entry["uid"]).startswith(hearing) and str(cancelled_entry["status"]) == "CANCELLED"
    assert person.get(f"/cases/{attachment_id}/cancellations/{renvoi.get_json()['id']}.ics").status_code == 404
    with portal.app_context(), portal.extensions["db"].session() as session:
        session.execute(Event.__table__.update().values(reminder_sent_at=None))
    with portal.app_context(), portal.extensions["db"].session() as session:
        assert alerts.send_reminders(session, now=datetime.fromisoformat("2030-02-10T09:00:00+01:00")) == 0
    anonymous = portal.test_client()  # calendar apps fetch the address without a session
    ics = Calendar.from_ical(anonymous.get(feed_url).data)
    [entry] = [e for e in ics.walk("VEVENT") if str(e["uid"]).startswith(hearing)]
    assert str(entry["status"]) == "CANCELLED" and int(entry["sequence"]) == 2
    assert ics.walk("VTIMEZONE"), "the feed carries its VTIMEZONE"
    revoke = person.post("/settings", data={"csrf_token": csrf, "action": "calendar_revoke"})
    assert revoke.status_code == 302 and anonymous.get(feed_url).status_code == 404
