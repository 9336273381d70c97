"""Seed 000: "la modification de votre adresse email dans eComms supprimera le contenu de vos dossiers
eComms"; "votre liste de documents ne sera pas transférée". Through a live IdP and a live eComms:
the IdP warns before the change, tells eComms after it (a signed Security Event Token), and eComms
detaches the applications, cancels what waited for the old address, sends nothing more there, and
tells the registry, who re-attaches to the new address with nothing carried over."""

from __future__ import annotations

import io
import secrets
import time
from datetime import timedelta

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select

from portals.ecomms.attachment import IDENTIFIER_CHANGED
from portals.ecomms.models import Application, Document, OutboxMessage
from shared.rp.testing import sign_in
from shared.timeutil import utcnow
from tests.idp.helpers import make_user
from tests.idp.lifecycle.conftest import link_in, post_form
from tests.idp.lifecycle.test_flows import address_page, signed_in_browser
from tests.portals.ecomms.conftest import csrf_of, make_pdf
from tests.portals.ecomms.live import live_stack

PASSWORD = "Bonne-Passe-2026"


@pytest.fixture
def stack(tmp_path, monkeypatch, devinbox):
    yield from live_stack(tmp_path, monkeypatch, devinbox)


def ecomms_sub(idp, account_id: str) -> str:
    from idp.oidc.claims import pairwise_sub
    from idp.services import clients

    with idp.app.app_context():
        return pairwise_sub(account_id, clients.get("ecomms"))


def applicant_with_an_application(idp, portal, email: str) -> str:
    from idp.storage.sql.models import Consent
    from shared.appkit import get_db

    account_id = make_user(idp.app, email, PASSWORD).id
    with idp.app.app_context(), get_db().session() as session:  # the account has used eComms
        session.add(Consent(account_id=account_id, client_id="ecomms", scope="openid"))
    sub = ecomms_sub(idp, account_id)
    with portal.app.extensions["db"].session() as session:
        session.add(Application(id="app-1", number="123/16", title="A c. B", applicant_email=email,
                                applicant_sub=sub, created_by="registry", attached_at=utcnow() - timedelta(days=3)))
        session.add(Document(application_id="app-1", direction="from_court", doc_type="letter",
                             stored_name="123-16_Lettre.pdf", size=1, sha256="0" * 64, storage_key="k" * 32,
                             sender_sub="registry", created_at=utcnow() - timedelta(days=2)))
        # a notice still waiting in the outbox for the old address (its next attempt later)
        session.add(OutboxMessage(channel="email", recipient=email, subject="Un nouveau document", body_text="...",
                                  next_attempt_at=utcnow() + timedelta(hours=1)))
    return sub


def change_address(idp, devinbox, old: str, new: str) -> None:
    http = signed_in_browser(idp, old, PASSWORD)
    address_page(idp, http, old)
    assert post_form(http, f"{idp.url}/account/email", new_email=new, current_password=PASSWORD).status_code == 200
    link = link_in(devinbox.wait_for(new)[0])
    confirm_page = requests.get(link)
    assert "ne sera pas transféré" in confirm_page.text  # warned again on the confirmation page
    assert post_form(requests.Session(), link).status_code == 200


def wait_detached(portal, application_id: str = "app-1") -> Application:
    deadline = time.monotonic() + 15
    while True:
        with portal.app.extensions["db"].session() as session:
            application = session.get(Application, application_id)
            session.expunge(application)
        if application.applicant_sub is None or time.monotonic() > deadline:
            return application
        time.sleep(0.1)


def test_an_address_change_warns_detaches_and_sends_nothing_more_to_the_old_address(stack, devinbox):
    idp, portal = stack
    old, new = f"old-{secrets.token_hex(3)}@example.org", f"new-{secrets.token_hex(3)}@example.org"
    sub = applicant_with_an_application(idp, portal, old)

    # before: the IdP says what will happen, for the service the account used
    page = address_page(idp, signed_in_browser(idp, old, PASSWORD), old).text
    assert "ECHR eComms : le contenu de vos dossiers ne sera pas transféré vers la nouvelle adresse" in page
    assert "Téléchargez et sauvegardez vos documents avant de continuer" in page

    change_address(idp, devinbox, old, new)

    # after: eComms heard it, the application is detached, the waiting notice cancelled
    application = wait_detached(portal)
    assert application.applicant_sub is None and application.detached_at is not None
    with portal.app.extensions["db"].session() as session:
        waiting = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == old)).all()
        assert [m.status for m in waiting] == ["cancelled"]
        registry_mail = session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == "greffe@echr.example")).one()
        assert "a changé d'adresse électronique" in registry_mail.subject and "123/16" in registry_mail.subject

    # the account sees nothing of it any more
    applicant = portal.app.test_client()
    sign_in(applicant, sub=sub, claims={"email": new})
    assert "123/16" not in applicant.get("/").get_data(as_text=True)
    assert applicant.get("/applications/app-1").status_code == 404

    # the Court's next document: no notice goes to the old address
    registry = portal.app.test_client()
    sign_in(registry, sub="registry-1", claims={"roles": ["registry"]})
    token = csrf_of(registry, "/applications/app-1")
    page = registry.get("/applications/app-1").get_data(as_text=True)
    assert "a changé l'adresse électronique de son compte" in page
    registry.post("/registry/applications/app-1/documents", content_type="multipart/form-data", data={
        "csrf_token": token, "file_1": (io.BytesIO(make_pdf("court")), "Lettre2.pdf"), "type_1": "letter"})
    with portal.app.extensions["db"].session() as session:
        to_old = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == old)).all()
        assert len(to_old) == 1 and to_old[0].status == "cancelled", "nothing new for the old address"


def test_reattached_to_the_new_address_nothing_is_carried_over(stack, devinbox):
    idp, portal = stack
    old, new = f"old-{secrets.token_hex(3)}@example.org", f"new-{secrets.token_hex(3)}@example.org"
    sub = applicant_with_an_application(idp, portal, old)
    change_address(idp, devinbox, old, new)
    wait_detached(portal)
    registry = portal.app.test_client()
    sign_in(registry, sub="registry-1", claims={"roles": ["registry"]})
    token = csrf_of(registry, "/applications/app-1")
    registry.post("/registry/applications/app-1/attach", data={"csrf_token": token, "applicant_email": new,
                                                                "locale": "en"})
    with portal.app.extensions["db"].session() as session:
        application = session.get(Application, "app-1")
        assert application.applicant_sub == sub and application.applicant_email == new
        invited = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == new)).one()
        assert invited.subject == "An application was added to your eComms account"
    applicant = portal.app.test_client()
    sign_in(applicant, sub=sub, claims={"email": new})
    page = applicant.get("/applications/app-1").get_data(as_text=True)
    assert "123-16_Lettre.pdf" not in page, "the old address's documents are not carried over"


def test_a_forged_or_misdirected_event_detaches_nothing(stack, devinbox):
    idp, portal = stack
    email = f"kept-{secrets.token_hex(3)}@example.org"
    sub = applicant_with_an_application(idp, portal, email)
    foreign_key = RSAKey.generate_key(2048, parameters={"kid": "attacker"})
    claims = {"iss": idp.url, "aud": "ecomms", "iat": int(time.time()), "jti": secrets.token_urlsafe(8),
              "events": {IDENTIFIER_CHANGED: {"subject": {"subject_type": "iss_sub", "iss": idp.url, "sub": sub}}}}
    forged = jwt.encode({"alg": "RS256", "kid": "attacker", "typ": "secevent+jwt"}, claims, foreign_key)
    answer = requests.post(f"{portal.url}/account-events", data=forged,
                           headers={"Content-Type": "application/secevent+jwt"})
    assert answer.status_code == 400
    from idp.oidc import tokens

    with idp.app.app_context():  # signed by the IdP, but for another client
        other = tokens.sign({**claims, "aud": "justice"}, typ="secevent+jwt")
        logout_shaped = tokens.sign({**claims, "events": {"http://schemas.openid.net/event/backchannel-logout": {}}})
    for token in (other, logout_shaped):
        assert requests.post(f"{portal.url}/account-events", data=token).status_code == 400
    with portal.app.extensions["db"].session() as session:
        assert session.get(Application, "app-1").applicant_sub == sub
