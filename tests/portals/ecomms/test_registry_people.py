"""Finding 11: several people per application (its applicant and representatives), each seeing that
application and no other, each told of it in their own language; the registry sees who, with what
role and where their invitation stands, and attaches, re-attaches, changes a role, removes, and
detaches by hand an account whose address-change event the IdP abandoned."""

from __future__ import annotations

import io
import re
import secrets
from html import unescape

import pytest
from sqlalchemy import select

from portals.ecomms.models import Application, Document, OutboxMessage, Party
from shared.rp.testing import sign_in
from shared.timeutil import utcnow
from tests.portals.ecomms.conftest import csrf_of, make_pdf
from tests.portals.ecomms.live import live_stack

LAWYER = "avocat@cabinet.example"


def attach_lawyer(app, application_id: str = "app-1", sub: str = "lawyer-1", locale: str = "en") -> str:
    with app.extensions["db"].session() as session:
        party = Party(application_id=application_id, role="representative", email=LAWYER, sub=sub, locale=locale,
                      invitation="active")
        session.add(party)
        session.flush()
        return party.id


def person(app, sub: str, **claims):
    client = app.test_client()
    sign_in(client, sub=sub, claims=claims)
    return client


def registry_of(app):
    return person(app, "registry-1", roles=["registry"])


def court_sends(app, registry, application_id: str, name: str) -> None:
    token = csrf_of(registry, f"/applications/{application_id}")
    answer = registry.post(f"/registry/applications/{application_id}/documents", content_type="multipart/form-data",
                           data={"csrf_token": token, "file_1": (io.BytesIO(make_pdf(name)), name), "type_1": "letter"})
    assert answer.status_code == 302


def text(answer) -> str:
    return unescape(answer.get_data(as_text=True))


def parties_of(app, application_id: str) -> list[tuple[str, str | None, str]]:
    with app.extensions["db"].session() as session:
        return sorted((p.email, p.sub, p.role) for p in session.get(Application, application_id).parties)


def test_a_lawyer_sees_the_application_they_are_attached_to_and_nothing_else(app):
    attach_lawyer(app)
    registry = registry_of(app)
    court_sends(app, registry, "app-1", "Lettre.pdf")
    court_sends(app, registry, "app-2", "Autre.pdf")
    with app.extensions["db"].session() as session:
        mine = session.scalars(select(Document.id).where(Document.application_id == "app-1")).one()
        other = session.scalars(select(Document.id).where(Document.application_id == "app-2")).one()
    lawyer = person(app, "lawyer-1", email=LAWYER)
    listing = lawyer.get("/").get_data(as_text=True)
    assert "123/16" in listing and "77/21" not in listing
    assert "123-16_Lettre.pdf" in lawyer.get("/applications/app-1").get_data(as_text=True)
    assert lawyer.get(f"/documents/{mine}").status_code == 200
    # the other application's ids typed into the address bar
    for path in ("/applications/app-2", "/applications/app-2?tab=sent", "/applications/app-2/send",
                 f"/documents/{other}", f"/documents/{other}/receipt"):
        assert lawyer.get(path).status_code == 404, path
    token = csrf_of(lawyer, "/applications/app-1/send")
    answer = lawyer.post("/applications/app-2/send", content_type="multipart/form-data", data={
        "csrf_token": token, "confirm": "yes", "file_1": (io.BytesIO(make_pdf("x")), "X.pdf"), "type_1": "letter"})
    assert answer.status_code == 404
    # the lawyer files for the application they represent: the registry reads who filed
    answer = lawyer.post("/applications/app-1/send", content_type="multipart/form-data", data={
        "csrf_token": token, "confirm": "yes", "file_1": (io.BytesIO(make_pdf("m")), "Memoire.pdf"),
        "type_1": "observations"})
    assert answer.status_code == 302
    queue = registry.get("/registry/queue").get_data(as_text=True)
    assert "123-16_Memoire.pdf" in queue and f"{LAWYER} (Représentant (avocat))" in queue


def test_no_one_but_the_registry_reaches_the_people_of_an_application(app):
    attach_lawyer(app)
    for client in (person(app, "lawyer-1", email=LAWYER), person(app, "applicant-1", email="a@example.org")):
        token = csrf_of(client, "/applications/app-1")
        assert client.get("/registry/applications/app-1/people").status_code == 403
        answer = client.post("/registry/applications/app-1/people", data={
            "csrf_token": token, "email": "intrus@example.org", "role": "representative", "locale": "fr"})
        assert answer.status_code == 403
    assert parties_of(app, "app-1") == [("a@example.org", "applicant-1", "applicant"),
                                        (LAWYER, "lawyer-1", "representative")]


def test_a_removed_person_loses_access_at_their_next_request(app):
    party_id = attach_lawyer(app)
    lawyer = person(app, "lawyer-1", email=LAWYER)
    assert lawyer.get("/applications/app-1").status_code == 200
    registry = registry_of(app)
    token = csrf_of(registry, "/registry/applications/app-1/people")
    answer = registry.post(f"/registry/applications/app-1/people/{party_id}/remove", data={"csrf_token": token})
    assert answer.status_code == 302
    assert lawyer.get("/applications/app-1").status_code == 404
    assert "123/16" not in lawyer.get("/").get_data(as_text=True)
    court_sends(app, registry, "app-1", "Apres.pdf")
    with app.extensions["db"].session() as session:
        assert not session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == LAWYER)).all()


def test_the_people_changes_need_the_registrys_csrf_token(app):
    party_id = attach_lawyer(app)
    registry = registry_of(app)
    registry.get("/registry/applications/app-1/people")  # a session with a token the forged form lacks
    forged = [("/registry/applications/app-1/people", {"email": "intrus@example.org", "role": "representative",
                                                       "locale": "fr"}),
              (f"/registry/applications/app-1/people/{party_id}/remove", {}),
              (f"/registry/applications/app-1/people/{party_id}/detach", {}),
              (f"/registry/applications/app-1/people/{party_id}/role", {"role": "applicant"})]
    before = parties_of(app, "app-1")
    for path, data in forged:
        assert registry.post(path, data=data).status_code == 400, path
    assert parties_of(app, "app-1") == before


def test_every_attached_person_is_told_in_their_own_language(app):
    attach_lawyer(app, locale="en")
    registry = registry_of(app)
    court_sends(app, registry, "app-1", "Lettre.pdf")
    with app.extensions["db"].session() as session:
        mails = {m.recipient: m for m in session.scalars(select(OutboxMessage))}
    assert set(mails) == {"a@example.org", LAWYER}
    assert mails["a@example.org"].subject == "Un nouveau document est disponible dans eComms (requête n° 123/16)"
    assert mails[LAWYER].locale == "en"
    assert mails[LAWYER].subject == "A new document is available in eComms (application no. 77/21)".replace(
        "77/21", "123/16")
    assert "123-16_Lettre.pdf" in mails[LAWYER].body_text and "/applications/app-1?tab=inbox" in mails[LAWYER].body_text


def test_the_registry_sees_each_persons_role_and_invitation_and_changes_a_role(app):
    party_id = attach_lawyer(app)
    with app.extensions["db"].session() as session:
        session.get(Party, party_id).invitation = "pending"
    registry = registry_of(app)
    page = registry.get("/registry/applications/app-1/people").get_data(as_text=True)
    assert LAWYER in page and "Invitation envoyée : compte pas encore activé" in page
    person(app, "lawyer-1", email=LAWYER).get("/")  # the lawyer signs in to eComms for the first time
    assert "Connecté à eComms" in text(registry.get("/registry/applications/app-1/people"))
    registry.set_cookie("lang", "en")
    assert "Signed in to eComms" in text(registry.get("/registry/applications/app-1/people"))
    registry.set_cookie("lang", "fr")
    token = csrf_of(registry, "/registry/applications/app-1/people")
    registry.post(f"/registry/applications/app-1/people/{party_id}/role", data={"csrf_token": token,
                                                                                "role": "applicant"})
    assert (LAWYER, "lawyer-1", "applicant") in parties_of(app, "app-1")
    refused = registry.post(f"/registry/applications/app-1/people/{party_id}/role",
                            data={"csrf_token": token, "role": "judge"}, follow_redirects=True)
    assert refused.status_code == 200 and "Choisissez le rôle de la personne." in refused.get_data(as_text=True)
    refused = registry.post("/registry/applications/app-1/people", follow_redirects=True,
                            data={"csrf_token": token, "email": "a@example.org", "role": "representative",
                                  "locale": "fr"})
    assert "Cette adresse est déjà rattachée à la requête." in text(refused)
    refused = registry.post("/registry/applications/app-1/people", follow_redirects=True,
                            data={"csrf_token": token, "email": "pas-une-adresse", "role": "representative",
                                  "locale": "fr"})
    assert "Saisissez une adresse électronique, comme nom@exemple.fr." in text(refused)


def test_the_registry_detaches_by_hand_an_account_whose_address_change_event_was_abandoned(app):
    with app.extensions["db"].session() as session:  # the same account applicant on two applications
        session.add(Party(application_id="app-2", role="representative", email="a@example.org", sub="applicant-1",
                          locale="fr"))
        session.add(OutboxMessage(channel="email", recipient="a@example.org", subject="En attente",
                                  body_text="...", next_attempt_at=utcnow()))
        party_id = session.get(Application, "app-1").applicant.id
    applicant = person(app, "applicant-1", email="a@example.org")
    assert applicant.get("/applications/app-1").status_code == 200
    registry = registry_of(app)
    token = csrf_of(registry, "/registry/applications/app-1/people")
    answer = registry.post(f"/registry/applications/app-1/people/{party_id}/detach", data={"csrf_token": token},
                           follow_redirects=True)
    assert "est détaché de 2 requête(s)" in answer.get_data(as_text=True)
    assert applicant.get("/applications/app-1").status_code in (302, 401), "the account's sessions are ended"
    applicant = person(app, "applicant-1", email="a@example.org")
    assert applicant.get("/applications/app-1").status_code == 404
    assert applicant.get("/applications/app-2").status_code == 404
    with app.extensions["db"].session() as session:
        to_old = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "a@example.org")).all()
        assert [m.status for m in to_old] == ["cancelled"]
        told = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "greffe@echr.example")).all()
        assert sorted(re.search(r"n° (\S+)", m.subject).group(1) for m in told) == ["123/16", "77/21"]
    page = text(registry.get("/registry/applications/app-1/people"))
    assert "Détaché : l'adresse n'est plus celle du compte" in page and "Rattacher à l'adresse" in page


# -- through the IdP's provisioning API --------------------------------------------------------------

@pytest.fixture
def stack(tmp_path, monkeypatch, devinbox):
    yield from live_stack(tmp_path, monkeypatch, devinbox)


def test_the_registry_attaches_a_lawyer_through_the_idps_invitation(stack, devinbox):
    idp, portal = stack
    email = f"avocat-{secrets.token_hex(3)}@example.org"
    with portal.app.extensions["db"].session() as session:
        session.add(Application(id="app-1", number="123/16", title="A c. B", applicant_email="a@example.org",
                                applicant_sub="applicant-1", created_by="registry"))
    registry = portal.app.test_client()
    sign_in(registry, sub="registry-1", claims={"roles": ["registry"]})
    token = csrf_of(registry, "/registry/applications/app-1/people")
    answer = registry.post("/registry/applications/app-1/people", data={
        "csrf_token": token, "email": email, "role": "representative", "locale": "en"}, follow_redirects=True)
    assert "est rattaché à la requête" in answer.get_data(as_text=True)
    assert "Invitation envoyée : compte pas encore activé" in answer.get_data(as_text=True)
    from idp.oidc.claims import pairwise_sub
    from idp.services import clients
    from idp.storage.sql.models import Account
    from shared.appkit import get_db

    with idp.app.app_context(), get_db().session() as session:
        account = session.scalars(select(Account).where(Account.email == email)).one()
        assert account.status == "pending" and account.locale == "en"
        expected_sub = pairwise_sub(account.id, clients.get("ecomms"))
    with portal.app.extensions["db"].session() as session:
        party = session.scalars(select(Party).where(Party.email == email)).one()
        assert (party.sub, party.role, party.invitation) == (expected_sub, "representative", "pending")
        told = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email)).one()
        assert told.subject == "An application was added to your eComms account"
    assert devinbox.wait_for(email), "the IdP's activation email"
    lawyer = portal.app.test_client()
    sign_in(lawyer, sub=expected_sub, claims={"email": email})
    assert "A c. B" in lawyer.get("/applications/app-1").get_data(as_text=True)


def test_with_the_idp_unreachable_nothing_is_written_and_the_registry_is_told(app):
    party_id = attach_lawyer(app)
    registry = registry_of(app)
    token = csrf_of(registry, "/registry/applications/app-1/people")
    before = parties_of(app, "app-1")
    for path, data in (("/registry/applications/app-1/people", {"email": "new@example.org", "role": "representative",
                                                                "locale": "fr"}),
                       (f"/registry/applications/app-1/people/{party_id}/invitation", {})):
        answer = registry.post(path, data={"csrf_token": token, **data}, follow_redirects=True)
        assert answer.status_code == 200, path
        assert "Le service d'identification ne répond pas : réessayez dans un instant." in text(answer)
    assert parties_of(app, "app-1") == before
    with app.extensions["db"].session() as session:
        assert not session.scalars(select(OutboxMessage)).all()


def test_an_invited_person_is_seen_at_their_first_visit_and_a_visit_writes_nothing_after(app):
    """The registry reads 'seen' once the invited account has opened eComms (note_seen, now a read
    first: a page view with nothing to mark takes no write lock)."""
    party_id = attach_lawyer(app)
    with app.extensions["db"].session() as session:
        session.get(Party, party_id).invitation = "pending"
    lawyer = person(app, "lawyer-1")
    assert lawyer.get("/").status_code == 200
    with app.extensions["db"].session() as session:
        party = session.get(Party, party_id)
        first_seen = party.first_seen_at
        assert first_seen is not None and party.invitation == "active"
    assert lawyer.get("/").status_code == 200
    with app.extensions["db"].session() as session:
        assert session.get(Party, party_id).first_seen_at == first_seen  # the first visit's date stays
