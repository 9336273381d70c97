"""The personal space (seed 001): empty first visit, adding a case by number and SMS code (single
use, expiry, attempts, resend), several numbers for one case, list/search/filters/sort, detach,
export, alerts and reminders, visibility and access cut, support, other people's cases."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select

from portals.justice import alerts, services
from portals.justice.models import Attachment, Case, Party
from shared.rp.testing import sign_in
from shared.timeutil import utcnow
from tests.portals.justice.conftest import csrf_of, make_case, outbox


def citizen(app, sub="citizen-1", email="angela@example.org"):
    client = app.test_client()
    sign_in(client, sub=sub, claims={"email": email, "given_name": "Angela", "family_name": "DUBOIS"})
    return client


def add(client, app, number: str) -> str:
    """Ask for the SMS code, read it from the outbox, type it; returns the page after."""
    token = csrf_of(client, "/cases/add")
    page = client.post("/cases/add", data={"csrf_token": token, "number": number}).get_data(as_text=True)
    challenge = re.search(r'name="challenge" value="([^"]+)"', page).group(1)
    code = re.search(r"est (\d{6})", outbox(app, "sms")[-1].body_text).group(1)
    answer = client.post("/cases/add", data={"csrf_token": token, "number": number, "challenge": challenge,
                                             "action": "confirm", "code": code}, follow_redirects=True)
    return answer.get_data(as_text=True)


def test_first_visit_is_an_empty_space_that_says_why_and_how(app):
    page = citizen(app).get("/").get_data(as_text=True)
    assert "Votre espace personnel est vide" in page and "Ajouter un dossier" in page
    assert "numéro d'identification" in page


def test_adding_a_case_with_the_sms_code(app):
    numbers = make_case(app, "RG 24/00001")
    [number] = numbers.values()
    assert "Votre numéro d'identification" in outbox(app, "email")[0].subject
    assert number in outbox(app, "email")[0].body_text
    client = citizen(app)
    token = csrf_of(client, "/cases/add")
    unknown = client.post("/cases/add", data={"csrf_token": token, "number": "AAAA-BBBB-CCCC"})
    assert unknown.status_code == 400 and "n&#39;est pas reconnu" in unknown.get_data(as_text=True)
    page = client.post("/cases/add", data={"csrf_token": token, "number": number}).get_data(as_text=True)
    assert "•• •• •• 00" in page or "00" in page  # the phone the court holds, masked
    assert "+3361234" not in page
    challenge = re.search(r'name="challenge" value="([^"]+)"', page).group(1)
    code = re.search(r"est (\d{6})", outbox(app, "sms")[-1].body_text).group(1)
    wrong = client.post("/cases/add", data={"csrf_token": token, "number": number, "challenge": challenge,
                                            "action": "confirm", "code": "000000" if code != "000000" else "111111"})
    assert "Il vous reste 4 essai(s)" in wrong.get_data(as_text=True)
    ok = client.post("/cases/add", data={"csrf_token": token, "number": number, "challenge": challenge,
                                         "action": "confirm", "code": code}, follow_redirects=True)
    text = ok.get_data(as_text=True)
    assert "Ce dossier vient d'être ajouté à votre compte." in text and "RG 24/00001" in text
    replay = client.post("/cases/add", data={"csrf_token": token, "number": number, "challenge": challenge,
                                             "action": "confirm", "code": code})
    assert "a expiré ou a déjà été utilisé" in replay.get_data(as_text=True)


def test_codes_resend_throttle_attempts_and_expiry(app):
    [number] = make_case(app, "RG 24/00002").values()
    client = citizen(app)
    token = csrf_of(client, "/cases/add")
    page = client.post("/cases/add", data={"csrf_token": token, "number": number}).get_data(as_text=True)
    again = client.post("/cases/add", data={"csrf_token": token, "number": number})
    assert "Un code vient d&#39;être envoyé" in again.get_data(as_text=True)
    assert len(outbox(app, "sms")) == 1
    challenge = re.search(r'name="challenge" value="([^"]+)"', page).group(1)
    for _ in range(4):
        client.post("/cases/add", data={"csrf_token": token, "challenge": challenge, "action": "confirm",
                                        "code": "abcdef"})
    last = client.post("/cases/add", data={"csrf_token": token, "challenge": challenge, "action": "confirm",
                                           "code": "abcdef"})
    assert "Trop de codes erronés" in last.get_data(as_text=True)
    code = re.search(r"est (\d{6})", outbox(app, "sms")[-1].body_text).group(1)
    after = client.post("/cases/add", data={"csrf_token": token, "challenge": challenge, "action": "confirm",
                                            "code": code})
    assert "a expiré" in after.get_data(as_text=True), "the right code no longer works after too many attempts"
    with app.app_context():
        app.extensions["redis"].delete(*app.extensions["redis"].keys("justice:sms-sent:*"))
    page = client.post("/cases/add", data={"csrf_token": token, "number": number}).get_data(as_text=True)
    challenge = re.search(r'name="challenge" value="([^"]+)"', page).group(1)
    with app.app_context():
        app.extensions["redis"].delete(f"justice:sms-code:{challenge}")  # as if 10 minutes passed
    code = re.search(r"est (\d{6})", outbox(app, "sms")[-1].body_text).group(1)
    expired = client.post("/cases/add", data={"csrf_token": token, "challenge": challenge, "action": "confirm",
                                              "code": code})
    assert "a expiré" in expired.get_data(as_text=True)
    with app.extensions["db"].session() as session:
        assert session.scalars(select(Attachment)).all() == []


def test_another_persons_case_and_documents_are_refused(app):
    [number] = make_case(app, "RG 24/00003", document_days_ago=1).values()
    owner = citizen(app)
    add(owner, app, number)
    with app.extensions["db"].session() as session:
        attachment = session.scalars(select(Attachment)).one()
        event_id = next(e.id for e in attachment.party.case.events if e.kind == "document")
    assert owner.get(f"/cases/{attachment.id}").status_code == 200
    assert owner.get(f"/cases/{attachment.id}/documents/{event_id}").mimetype == "application/pdf"
    intruder = citizen(app, "someone-else", "x@example.org")
    assert intruder.get(f"/cases/{attachment.id}").status_code == 404
    assert intruder.get(f"/cases/{attachment.id}/documents/{event_id}").status_code == 404
    token = csrf_of(intruder, "/")
    assert intruder.post(f"/cases/{attachment.id}/detach", data={"csrf_token": token}).status_code == 404


def test_search_filters_sort_and_reset(app):
    client = citizen(app)
    specs = [("RG 1", "Tribunal judiciaire de Strasbourg", "ongoing", None, 5, 2),
             ("RG 2", "Tribunal judiciaire de Colmar", "ongoing", None, None, None),
             ("RG 3", "Tribunal judiciaire de Mulhouse", "finished", 30, None, None),
             ("RG 4", "Conseil de prud'hommes de Strasbourg", "ongoing", None, 60, 60),
             ("RG 5", "Tribunal judiciaire de Colmar", "ongoing", None, None, None)]
    for reference, court, state, ended, hearing, document in specs:
        parties = (("Demandeur", "DUBOIS", "Angela"), ("Défendeur", f"ADVERSE{reference[-1]}", "Société"))
        numbers = make_case(app, reference, court=court, state=state, ended_days_ago=ended, parties=parties,
                            hearing_in_days=hearing, document_days_ago=document)
        with app.app_context():
            app.extensions["redis"].delete(*app.extensions["redis"].keys("justice:sms-sent:*") or ["none"])
        add(client, app, numbers["Angela DUBOIS Demandeur"])

    def listed(**query) -> list[str]:
        page = client.get("/", query_string=query).get_data(as_text=True)
        return re.findall(r"Divorce — (RG \d)", page)

    assert "Rechercher un dossier" in client.get("/").get_data(as_text=True)  # from five cases
    assert sorted(listed()) == ["RG 1", "RG 2", "RG 3", "RG 4", "RG 5"]
    assert sorted(listed(court="colmar")) == ["RG 2", "RG 5"]
    assert listed(name="adverse4") == ["RG 4"]
    assert listed(name="adverse4", court="colmar") == []
    assert listed(finished="1") == ["RG 3"]
    assert sorted(listed(ongoing="1")) == ["RG 1", "RG 2", "RG 4", "RG 5"]
    assert listed(upcoming="1") == ["RG 1"]
    assert listed(recent="1") == ["RG 1"]
    assert listed(sort="court")[0] == "RG 4"
    number = outbox(app, "email")[0].body_text.split("Votre numéro d'identification : ")[1].split()[0]
    assert listed(number=number) == ["RG 1"]


def test_detach_keeps_consent(app):
    [number] = make_case(app, "RG 24/00004").values()
    client = citizen(app)
    add(client, app, number)
    with app.extensions["db"].session() as session:
        attachment_id = session.scalars(select(Attachment.id)).one()
    answer = client.post(f"/cases/{attachment_id}/detach", data={"csrf_token": csrf_of(client, "/")},
                         follow_redirects=True)
    text = answer.get_data(as_text=True)
    assert "n&#39;annule ni votre consentement" in text and "Votre espace personnel est vide" in text
    with app.extensions["db"].session() as session:
        assert session.scalars(select(Party.consent_at).where(Party.last_name == "DUBOIS")).one() is not None


def test_export_one_or_several_hearings_as_ics_or_csv(app):
    numbers = make_case(app, "RG 24/00005", hearing_in_days=10)
    client = citizen(app)
    add(client, app, next(iter(numbers.values())))
    make_case(app, "RG 24/00006", hearing_in_days=20, parties=(("Demandeur", "DUBOIS", "Ange"),))
    with app.app_context():
        app.extensions["redis"].delete(*app.extensions["redis"].keys("justice:sms-sent:*") or ["none"])
    add(client, app, outbox(app, "email")[-1].body_text.split("identification : ")[1].split()[0])
    page = client.get("/export").get_data(as_text=True)
    ids = re.findall(r'name="hearing" value="([^"]+)"', page)
    assert len(ids) == 2
    token = csrf_of(client, "/export")
    ics = client.post("/export", data={"csrf_token": token, "hearing": ids, "format": "ics"})
    events = Calendar.from_ical(ics.data).walk("VEVENT")
    assert ics.mimetype == "text/calendar" and len(events) == 2
    csv_one = client.post("/export", data={"csrf_token": token, "hearing": ids[:1], "format": "csv"})
    assert csv_one.mimetype == "text/csv"
    assert len(list(csv.DictReader(io.StringIO(csv_one.data.decode("utf-8-sig"))))) == 1
    none = client.post("/export", data={"csrf_token": token, "format": "ics"})
    assert none.status_code == 400


def test_alerts_per_case_global_and_reminders_once(app):
    [number] = make_case(app, "RG 24/00007", hearing_in_days=2).values()
    client = citizen(app)
    add(client, app, number)
    before = len(outbox(app, "email"))
    with app.app_context(), app.extensions["db"].session() as session:
        case = session.scalars(select(Case)).one()
        services.upsert_case(session, case.reference, {"state_label": "Audience fixée"})
    assert len(outbox(app, "email")) == before + 1 and "mis à jour" in outbox(app, "email")[-1].subject
    with app.extensions["db"].session() as session:
        attachment_id = session.scalars(select(Attachment.id)).one()
    client.post("/settings", data={"csrf_token": csrf_of(client, "/settings"), "case_off": attachment_id})
    with app.app_context(), app.extensions["db"].session() as session:
        services.upsert_case(session, "RG 24/00007", {"state_label": "Renvoi"})
    assert len(outbox(app, "email")) == before + 1, "alerts off for this case"
    client.post("/settings", data={"csrf_token": csrf_of(client, "/settings"), "disable_all": "yes"})
    with app.app_context(), app.extensions["db"].session() as session:
        services.upsert_case(session, "RG 24/00007", {"state_label": "Renvoi 2"})
    assert len(outbox(app, "email")) == before + 1
    with app.extensions["db"].session() as session:
        assert session.scalars(select(Party.consent_at)).first() is not None, "switching alerts off keeps consent"
    sms_before = len(outbox(app, "sms"))
    with app.app_context(), app.extensions["db"].session() as session:
        assert alerts.send_reminders(session) == 1
    with app.app_context(), app.extensions["db"].session() as session:
        assert alerts.send_reminders(session) == 0
    assert len(outbox(app, "sms")) == sms_before + 1 and "Rappel" in outbox(app, "sms")[-1].body_text


def test_visibility_one_year_after_the_end_and_access_cut(app):
    old = make_case(app, "RG 22/00001", state="finished", ended_days_ago=400)
    recent = make_case(app, "RG 23/00001", state="finished", ended_days_ago=200,
                       parties=(("Demandeur", "DUBOIS", "Angie"),))
    client = citizen(app)
    token = csrf_of(client, "/cases/add")
    refused = client.post("/cases/add", data={"csrf_token": token, "number": next(iter(old.values()))})
    assert "n&#39;est pas reconnu" in refused.get_data(as_text=True)
    add(client, app, next(iter(recent.values())))
    assert "RG 23/00001" in client.get("/").get_data(as_text=True)
    with app.extensions["db"].session() as session:
        attachment = session.scalars(select(Attachment)).one()
        attachment.party.access_cut = True
        attachment_id = attachment.id
    cut = client.get(f"/cases/{attachment_id}")
    assert cut.status_code == 403 and "accès à ce dossier a été coupé" in cut.get_data(as_text=True)
    with app.app_context(), app.extensions["db"].session() as session:
        assert services.purge_invisible(session, utcnow() + timedelta(days=200)) == 2


def test_support_form_is_stored_and_acknowledged(app):
    client = citizen(app)
    first = client.get("/support").get_data(as_text=True)
    assert "0805 04 04 04" in first and "de 9h00 à 17h00" in first and 'href="/support/message">Poursuivre' in first
    token = csrf_of(client, "/support/message")
    bad = client.post("/support/message", data={"csrf_token": token, "email": "nope", "topic": "x", "message": ""})
    assert bad.status_code == 400
    ok = client.post("/support/message", data={"csrf_token": token, "email": "a@example.org", "topic": "technical",
                                               "message": "Le PDF ne s'ouvre pas"})
    assert ok.status_code == 200 and "JUS-" in ok.get_data(as_text=True)
    assert outbox(app, "email")[-1].subject.startswith("Votre demande d'assistance JUS-")


def test_support_form_refuses_what_it_cannot_answer_and_says_why(app):
    client = citizen(app)
    token = csrf_of(client, "/support/message")
    sent = len(outbox(app, "email"))
    no_domain = client.post("/support/message", data={"csrf_token": token, "email": "a@b", "topic": "technical",
                                                      "message": "Bonjour"})
    assert no_domain.status_code == 400 and "adresse électronique complète" in no_domain.get_data(as_text=True)
    long = "x" * 6000
    too_long = client.post("/support/message", data={"csrf_token": token, "email": "a@example.org",
                                                     "topic": "technical", "message": long})
    text = too_long.get_data(as_text=True)
    assert too_long.status_code == 400 and "6000 caractères" in text and "5000" in text
    assert long in text, "the message is given back whole, to be shortened by its author"
    assert len(outbox(app, "email")) == sent
