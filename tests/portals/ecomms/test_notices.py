"""Who is told of what (seed 000 §2–§4): the registry of every filing, the filer with a confirmation
carrying the receipt's figures, the applicant of the Court's documents; each notice names the
application and the document, links straight to it, and speaks the recipient's language."""

from __future__ import annotations

import hashlib
import io

from sqlalchemy import select

from portals.ecomms.models import Application, OutboxMessage
from shared.rp.testing import sign_in
from tests.portals.ecomms.conftest import csrf_of, make_pdf


def mails(app) -> list[OutboxMessage]:
    with app.extensions["db"].session() as session:
        found = list(session.scalars(select(OutboxMessage)))
        for mail in found:
            session.expunge(mail)
        return found


def test_a_filing_tells_the_registry_and_confirms_to_the_filer_with_the_receipt_figures(app):
    applicant = app.test_client()
    sign_in(applicant, sub="applicant-1", claims={"email": "a@example.org"})
    pdf = make_pdf("mine")
    token = csrf_of(applicant, "/applications/app-1/send")
    answer = applicant.post("/applications/app-1/send", content_type="multipart/form-data", data={
        "csrf_token": token, "confirm": "yes", "file_1": (io.BytesIO(pdf), "Observations.pdf"),
        "type_1": "observations"})
    assert answer.status_code == 302
    by_recipient = {m.recipient: m for m in mails(app)}
    registry = by_recipient["greffe@echr.example"]
    assert registry.subject == "Nouveau dépôt du requérant — requête n° 123/16"
    assert "123-16_Observations.pdf" in registry.body_text and "/applications/app-1?tab=sent" in registry.body_text
    confirmation = by_recipient["a@example.org"]
    assert confirmation.subject == "Confirmation de votre envoi à la Cour (requête n° 123/16)"
    assert hashlib.sha256(pdf).hexdigest() in confirmation.body_text
    assert "123-16_Observations.pdf" in confirmation.body_text and "/applications/app-1?tab=sent" in \
        confirmation.body_text


def test_the_courts_document_notice_names_it_links_to_it_in_the_applicants_language(app):
    with app.extensions["db"].session() as session:
        session.get(Application, "app-2").applicant_locale = "en"
    registry = app.test_client()
    sign_in(registry, sub="registry-1", claims={"roles": ["registry"]})
    token = csrf_of(registry, "/applications/app-2")
    registry.post("/registry/applications/app-2/documents", content_type="multipart/form-data", data={
        "csrf_token": token, "file_1": (io.BytesIO(make_pdf("court")), "Letter.pdf"), "type_1": "letter"})
    (notice,) = mails(app)
    assert notice.recipient == "c@example.org" and notice.locale == "en"
    assert notice.subject == "A new document is available in eComms (application no. 77/21)"
    assert "77-21_Letter.pdf" in notice.body_text and "/applications/app-2?tab=inbox" in notice.body_text


def test_a_document_is_new_until_its_addressee_opens_it(app):
    registry = app.test_client()
    sign_in(registry, sub="registry-1", claims={"roles": ["registry"]})
    token = csrf_of(registry, "/applications/app-1")
    registry.post("/registry/applications/app-1/documents", content_type="multipart/form-data", data={
        "csrf_token": token, "file_1": (io.BytesIO(make_pdf("court")), "Lettre.pdf"), "type_1": "letter"})
    applicant = app.test_client()
    sign_in(applicant, sub="applicant-1", claims={"email": "a@example.org"})
    inbox = applicant.get("/applications/app-1").get_data(as_text=True)
    assert '<span class="tag tag--new">Nouveau</span>' in inbox
    assert "tag--new" not in registry.get("/applications/app-1").get_data(as_text=True), "the sender sees no marker"
    import re

    document_id = re.search(r'href="/documents/([\w-]+)"', inbox).group(1)
    assert applicant.get(f"/documents/{document_id}").status_code == 200
    assert "tag--new" not in applicant.get("/applications/app-1").get_data(as_text=True)
