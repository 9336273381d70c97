"""A parent representing two children in one case (seed 001: "ajouter l'affaire autant de fois que
vous avez de parties à représenter"): one card with a switch between the represented persons, one
reminder per hearing and phone, each hearing once in the export with its own UID, one settings line
per represented person, and number emails that say whom they are for."""

from __future__ import annotations

import re

from icalendar import Calendar
from sqlalchemy import select

from portals.justice import alerts
from portals.justice.models import Attachment, Case
from tests.portals.justice.conftest import csrf_of, make_case, outbox
from tests.portals.justice.test_space import add, citizen

PARTIES = (("Représentant légal de Léo", "PETIT", "Jean"), ("Représentant légal d'Emma", "PETIT", "Jean"))


def parent_with_two_children(app):
    numbers = make_case(app, "RG 24/09999", parties=PARTIES, hearing_in_days=2)
    with app.extensions["db"].session() as session:  # the court holds one phone for the parent
        for party in session.scalars(select(Case)).one().parties:
            party.mobile = "+33612345603"
    client = citizen(app, "jean", "jean@example.org")
    for number in numbers.values():
        with app.app_context():
            app.extensions["redis"].delete(*app.extensions["redis"].keys("justice:sms-sent:*") or ["none"])
        add(client, app, number)
    return client


def test_number_emails_say_which_represented_person_they_are_for(app):
    make_case(app, "RG 24/09999", parties=PARTIES)
    bodies = [m.body_text for m in outbox(app, "email")]
    assert any("Représentant légal de Léo" in b for b in bodies) and any("Représentant légal d'Emma" in b for b in bodies)


def test_one_card_per_case_with_a_switch_between_the_represented_persons(app):
    client = parent_with_two_children(app)
    page = client.get("/").get_data(as_text=True)
    assert page.count('class="case-card"') == 1
    assert "Mes dossiers (1)" in page
    details = re.findall(r'href="/cases/([^"]+)">Détail', page)
    assert len(details) == 2
    case_page = client.get(f"/cases/{details[0]}").get_data(as_text=True)
    assert "Dossier vu pour" in case_page and f'href="/cases/{details[1]}"' in case_page


def test_one_reminder_per_hearing_and_phone(app):
    parent_with_two_children(app)
    before = len(outbox(app, "sms"))
    with app.app_context(), app.extensions["db"].session() as session:
        assert alerts.send_reminders(session) == 1
    assert len(outbox(app, "sms")) == before + 1


def test_each_hearing_once_in_the_export_with_a_unique_uid(app):
    client = parent_with_two_children(app)
    page = client.get("/export").get_data(as_text=True)
    ids = re.findall(r'name="hearing" value="([^"]+)"', page)
    assert len(ids) == 1
    ics = client.post("/export", data={"csrf_token": csrf_of(client, "/export"), "hearing": ids, "format": "ics"})
    uids = [str(e["uid"]) for e in Calendar.from_ical(ics.data).walk("VEVENT")]
    assert len(uids) == 1 == len(set(uids))
    home = client.get("/").get_data(as_text=True)
    assert "1 audience(s) à venir" in home


def test_settings_name_each_represented_person_once(app):
    client = parent_with_two_children(app)
    page = client.get("/settings").get_data(as_text=True)
    assert page.count('name="case_off"') == 2
    assert "(Représentant légal de Léo)" in page and "(Représentant légal d&#39;Emma)" in page


def test_one_alert_per_address_for_an_update(app):
    parent_with_two_children(app)
    before = len(outbox(app, "email"))
    with app.app_context(), app.extensions["db"].session() as session:
        case = session.scalars(select(Case)).one()
        alerts.alert(session, case)
    assert len(outbox(app, "email")) == before + 1
    with app.extensions["db"].session() as session:
        assert len(session.scalars(select(Attachment)).all()) == 2
