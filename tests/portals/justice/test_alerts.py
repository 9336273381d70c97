"""The alert rule (seed 001), written once in ``alerts``: alerts go to the address the court holds
(shown in the settings), not to the one an identity provider passed on; detaching changes neither
consent nor alerts; the per-case and global switches hold across a detach; messages are in the
person's language; a party whose access was cut is told nothing and no longer sees the case."""

from __future__ import annotations

from sqlalchemy import select

from portals.justice import alerts, services
from portals.justice.models import Attachment, Case, Party
from tests.portals.justice.conftest import csrf_of, make_case, outbox
from tests.portals.justice.test_space import add, citizen


def update(app, reference: str) -> None:
    with app.app_context(), app.extensions["db"].session() as session:
        services.upsert_case(session, reference, {"state_label": "Audience fixée"})


def alerts_to(app, address: str) -> int:
    return sum(1 for m in outbox(app, "email") if m.recipient == address and "mis à jour" in m.subject)


def test_alerts_go_to_the_court_held_address_shown_in_settings(app):
    [number] = make_case(app, "RG 24/00010").values()  # the court holds angela@example.org
    client = citizen(app, email="someone.else@provider.example")  # what the identity provider passed on
    add(client, app, number)
    update(app, "RG 24/00010")
    assert alerts_to(app, "angela@example.org") == 1
    assert all(m.recipient != "someone.else@provider.example" for m in outbox(app, "email"))
    settings = client.get("/settings").get_data(as_text=True)
    assert "Alertes envoyées à angela@example.org" in settings


def test_detaching_keeps_alerts_and_the_switches_survive_it(app):
    [number] = make_case(app, "RG 24/00011").values()
    client = citizen(app)
    add(client, app, number)
    with app.extensions["db"].session() as session:
        attachment_id = session.scalars(select(Attachment.id)).one()
    client.post(f"/cases/{attachment_id}/detach", data={"csrf_token": csrf_of(client, "/")})
    update(app, "RG 24/00011")
    assert alerts_to(app, "angela@example.org") == 1, "detaching does not stop alerts (seed 001)"
    with app.extensions["db"].session() as session:  # re-attached later, alerts switched off for the case
        session.scalars(select(Attachment)).one().detached_at = None
    client.post("/settings", data={"csrf_token": csrf_of(client, "/settings"), "case_off": attachment_id})
    client.post(f"/cases/{attachment_id}/detach", data={"csrf_token": csrf_of(client, "/")})
    update(app, "RG 24/00011")
    assert alerts_to(app, "angela@example.org") == 1, "the case's switch holds after detaching"
    with app.extensions["db"].session() as session:
        assert session.scalars(select(Party.consent_at)).first() is not None


def test_the_global_switch_holds_for_detached_cases_too(app):
    [number] = make_case(app, "RG 24/00012").values()
    client = citizen(app)
    add(client, app, number)
    client.post("/settings", data={"csrf_token": csrf_of(client, "/settings"), "disable_all": "yes"})
    with app.extensions["db"].session() as session:
        attachment_id = session.scalars(select(Attachment.id)).one()
    client.post(f"/cases/{attachment_id}/detach", data={"csrf_token": csrf_of(client, "/")})
    update(app, "RG 24/00012")
    assert alerts_to(app, "angela@example.org") == 0


def test_alerts_and_reminders_are_written_in_the_persons_language(app):
    [number] = make_case(app, "RG 24/00013", hearing_in_days=2).values()
    client = citizen(app)
    add(client, app, number)
    client.get("/?lang=en")
    update(app, "RG 24/00013")
    mail = [m for m in outbox(app, "email") if m.recipient == "angela@example.org"][-1]
    assert mail.subject == "Your case RG 24/00013 was updated" and mail.locale == "en"
    with app.app_context(), app.extensions["db"].session() as session:
        assert alerts.send_reminders(session) == 1
    sms = outbox(app, "sms")[-1]
    assert sms.body_text.startswith("justice.fr reminder: hearing on") and "Paris time" in sms.body_text


def test_a_cut_access_leaves_the_list_settings_and_contact_details(app):
    numbers = make_case(app, "RG 24/00014", parties=(("Demandeur", "DUBOIS", "Angela"),))
    other = make_case(app, "RG 24/00015", parties=(("Demandeur", "DUBOIS", "Angie"),))
    client = citizen(app)
    add(client, app, next(iter(numbers.values())))
    with app.app_context():
        app.extensions["redis"].delete(*app.extensions["redis"].keys("justice:sms-sent:*"))
    add(client, app, next(iter(other.values())))
    with app.extensions["db"].session() as session:
        party = session.scalars(select(Party).join(Case).where(Case.reference == "RG 24/00014")).one()
        services.cut_access(session, party)
    for page in ("/", "/settings", "/contact-details", "/export"):
        text = client.get(page).get_data(as_text=True)
        assert "RG 24/00014" not in text, page
        assert "RG 24/00015" in text, page
    before = len(outbox(app, "email"))
    update(app, "RG 24/00014")
    assert len(outbox(app, "email")) == before, "a cut party is not alerted"


def test_a_daily_digest_instead_of_one_email_per_update(app):
    numbers = make_case(app, "RG 24/00016")
    other = make_case(app, "RG 24/00017", parties=(("Demandeur", "DUBOIS", "Angela"),))
    client = citizen(app)
    add(client, app, next(iter(numbers.values())))
    with app.app_context():
        app.extensions["redis"].delete(*app.extensions["redis"].keys("justice:sms-sent:*"))
    add(client, app, next(iter(other.values())))
    client.post("/settings", data={"csrf_token": csrf_of(client, "/settings"), "digest": "daily"})
    before = len(outbox(app, "email"))
    for reference in ("RG 24/00016", "RG 24/00016", "RG 24/00017"):
        update(app, reference)
    assert len(outbox(app, "email")) == before, "no email per update for a daily digest"
    with app.app_context(), app.extensions["db"].session() as session:
        assert alerts.send_digests(session) == 1
    digest = outbox(app, "email")[-1]
    assert digest.recipient == "angela@example.org" and "(2)" in digest.subject
    assert "RG 24/00016" in digest.body_text and "RG 24/00017" in digest.body_text
    with app.app_context(), app.extensions["db"].session() as session:
        assert alerts.send_digests(session) == 0, "each update is in one digest only"
    assert 'value="daily" checked' in client.get("/settings").get_data(as_text=True)
