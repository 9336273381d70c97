"""Hearing times as the court gave them (seed 001): a court time with its offset is stored as the
same instant, and shown, exported and texted in Europe/Paris clock time — in winter, in summer and
on both sides of a daylight-saving change — on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from portals.justice import alerts, services
from portals.justice.models import Attachment, Case, Event, Party
from shared.rp.testing import sign_in
from tests.portals.justice.conftest import csrf_of, outbox

# (what the court sends, the Paris clock time people must read)
COURT_TIMES = [
    ("2026-12-03T14:00:00+01:00", "03/12/2026 14:00"),   # winter (CET)
    ("2027-07-01T09:30:00+02:00", "01/07/2027 09:30"),   # summer (CEST)
    ("2027-03-27T14:00:00+01:00", "27/03/2027 14:00"),   # the Saturday before clocks go forward
    ("2027-03-29T12:00:00Z", "29/03/2027 14:00"),        # the Monday after, given in UTC
    ("2027-10-30T10:00:00+02:00", "30/10/2027 10:00"),   # the Saturday before clocks go back
    ("2027-11-01T09:00:00Z", "01/11/2027 10:00"),        # the Monday after, given in UTC
]


def attached_case(app, sub: str = "citizen-1") -> str:
    with app.app_context(), app.extensions["db"].session() as session:
        case = Case(reference="RG 26/00001", nature="Divorce", court_name="Tribunal judiciaire de Strasbourg")
        session.add(case)
        session.flush()
        party = Party(case_id=case.id, role="Demandeur", last_name="DUBOIS", first_name="Angela",
                      email="angela@example.org", mobile="+33612345678")
        session.add(party)
        session.flush()
        services.record_consent(session, party)
        attachment = Attachment(sub=sub, party_id=party.id)
        session.add(attachment)
        for at, _shown in COURT_TIMES:
            services.add_event(session, case, {"kind": "hearing", "label": "Audience", "at": datetime.fromisoformat(at),
                                               "location": "Salle 2"})
        session.flush()
        return attachment.id


def test_the_same_instant_comes_back_from_storage(any_app):
    attached_case(any_app)
    with any_app.extensions["db"].session() as session:
        stored = sorted(session.scalars(select(Event.at)))
    expected = sorted(datetime.fromisoformat(at).astimezone(UTC) for at, _ in COURT_TIMES)
    assert stored == expected
    assert all(moment.tzinfo is not None and moment.utcoffset() == timedelta(0) for moment in stored)


def test_a_moment_without_offset_is_never_stored(any_app):
    with any_app.app_context(), any_app.extensions["db"].session() as session:
        case = Case(reference="RG 26/00002", nature="Divorce", court_name="TJ")
        session.add(case)
        session.flush()
        with pytest.raises(Exception, match="offset"):
            session.add(Event(case_id=case.id, kind="hearing", label="x", at=datetime(2027, 1, 1, 14, 0)))
            session.flush()
        session.rollback()


def test_the_case_page_export_and_reminder_show_paris_time(any_app):
    attachment_id = attached_case(any_app)
    client = any_app.test_client()
    sign_in(client, sub="citizen-1", claims={"given_name": "Angela", "family_name": "DUBOIS"})
    page = client.get(f"/cases/{attachment_id}").get_data(as_text=True)
    for _at, shown in COURT_TIMES:
        assert shown in page, shown
    assert "15:00" not in page and "16:00" not in page
    token = csrf_of(client, "/export")
    ids = re.findall(r'name="hearing" value="([^"]+)"', client.get("/export").get_data(as_text=True))
    ics = Calendar.from_ical(client.post("/export", data={"csrf_token": token, "hearing": ids, "format": "ics"}).data)
    starts = sorted(event.decoded("dtstart") for event in ics.walk("VEVENT"))
    assert sorted(datetime.fromisoformat(at) for at, _ in COURT_TIMES) == starts  # the same instants
    assert {str(event["dtstart"].params.get("TZID")) for event in ics.walk("VEVENT")} == {"Europe/Paris"}
    rows = list(csv.DictReader(io.StringIO(client.post("/export", data={
        "csrf_token": token, "hearing": ids, "format": "csv"}).data.decode("utf-8-sig"))))
    shown_in_csv = sorted(datetime.strptime(f"{r['Start Date']} {r['Start Time']}", "%m/%d/%Y %I:%M %p") for r in rows)
    assert shown_in_csv == sorted(datetime.strptime(shown, "%d/%m/%Y %H:%M") for _, shown in COURT_TIMES)
    with any_app.app_context(), any_app.extensions["db"].session() as session:
        winter = datetime.fromisoformat(COURT_TIMES[0][0])
        assert alerts.send_reminders(session, now=winter - timedelta(days=2)) == 1
    assert "03/12/2026 14:00" in outbox(any_app, "sms")[-1].body_text
