"""Closing an application (seed 000 FAQ: "une fois l'affaire close par la Cour, tous les documents
seront supprimés"): a danger zone that names what goes and asks for the number, the applicant told,
a deposit in progress told why instead of "Page introuvable", and an optional download grace."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portals.ecomms import create_app, services, upgrade_database
from portals.ecomms.models import Application, Document, OutboxMessage
from shared.rp.testing import sign_in
from shared.timeutil import utcnow
from tests.portals.ecomms.conftest import csrf_of, make_pdf

CLOSE = "/registry/applications/app-1/close"


def registry_client(app):
    client = app.test_client()
    sign_in(client, sub="registry-1", claims={"roles": ["registry"]})
    return client


def applicant_client(app, sub="applicant-1"):
    client = app.test_client()
    sign_in(client, sub=sub, claims={"email": f"{sub}@example.org"})
    return client


def with_documents(app, client_applicant) -> None:
    token = csrf_of(client_applicant, "/applications/app-1/send")
    answer = client_applicant.post("/applications/app-1/send", content_type="multipart/form-data", data={
        "csrf_token": token, "confirm": "yes", "file_1": (io.BytesIO(make_pdf("mine")), "Observations.pdf"),
        "type_1": "observations"})
    assert answer.status_code == 302


def count_documents(app) -> int:
    with app.extensions["db"].session() as session:
        return session.scalar(select(func.count(Document.id)))


def test_closing_names_what_goes_asks_for_the_number_and_tells_the_applicant(app):
    applicant = applicant_client(app)
    with_documents(app, applicant)
    registry = registry_client(app)
    page = registry.get("/applications/app-1").get_data(as_text=True)
    assert f'href="{CLOSE}"' in page and f'action="{CLOSE}"' not in page, "no one-click closing form"
    confirm = registry.get(CLOSE).get_data(as_text=True)
    assert "Cette action est définitive" in confirm and "123-16_Observations.pdf" in confirm
    assert "1 document(s) du requérant (Éléments envoyés)" in confirm and "a@example.org" in confirm
    token = csrf_of(registry, CLOSE)
    for typed in ("", "77/21", "123/1"):  # a click, or the wrong number: nothing happens
        refused = registry.post(CLOSE, data={"csrf_token": token, "confirm_number": typed})
        assert refused.status_code == 400
        assert "Saisissez exactement le numéro de la requête" in refused.get_data(as_text=True)
    assert count_documents(app) == 1
    done = registry.post(CLOSE, data={"csrf_token": token, "confirm_number": " 123/16 "})
    assert done.status_code == 302 and count_documents(app) == 0
    with app.extensions["db"].session() as session:
        notice = session.scalars(select(OutboxMessage).where(
            OutboxMessage.subject == "La requête n° 123/16 a été close par la Cour")).one()
        assert notice.recipient == "a@example.org" and "Ses documents ont été supprimés d'eComms." in notice.body_text


def test_a_deposit_in_progress_on_a_closed_application_is_told_why(app):
    applicant = applicant_client(app)
    token = csrf_of(applicant, "/applications/app-1/send")
    staged = applicant.post("/applications/app-1/uploads", data=make_pdf("x"), headers={
        "X-CSRFToken": token, "X-File-Name": "Annexe.pdf", "Content-Type": "application/pdf"})
    assert staged.status_code == 201
    registry = registry_client(app)
    registry.post(CLOSE, data={"csrf_token": csrf_of(registry, CLOSE), "confirm_number": "123/16"})
    # the next file of the upload script, then "Envoyer": the reason, in the person's language
    more = applicant.post("/applications/app-1/uploads", data=make_pdf("y"), headers={
        "X-CSRFToken": token, "X-File-Name": "Annexe2.pdf", "Content-Type": "application/pdf"})
    assert more.status_code == 410 and "close par la Cour" in more.get_json()["error"]
    sent = applicant.post("/applications/app-1/send", data={"csrf_token": token, "confirm": "yes",
                                                            "upload_ids": staged.get_json()["id"]})
    body = sent.get_data(as_text=True)
    assert sent.status_code == 410 and "Cette requête a été close par la Cour" in body and "introuvable" not in body
    english = applicant.get("/applications/app-1?lang=en")
    assert english.status_code == 410 and "This application has been closed by the Court" in english.get_data(
        as_text=True)
    # another applicant learns nothing: still "not found"
    assert applicant_client(app, "applicant-2").get("/applications/app-1").status_code == 404


def test_only_the_registry_closes(app):
    applicant = applicant_client(app)
    token = csrf_of(applicant, "/")
    assert applicant.get(CLOSE).status_code == 403
    assert applicant.post(CLOSE, data={"csrf_token": token, "confirm_number": "123/16"}).status_code == 403
    with app.extensions["db"].session() as session:
        assert session.get(Application, "app-1").status == "open"


@pytest.fixture
def grace_app(tmp_path):
    url = f"sqlite:///{tmp_path / 'ecomms.db'}"
    upgrade_database(url)
    (tmp_path / "instance").mkdir()
    application = create_app({"database_url": url, "instance_path": tmp_path / "instance", "_quiet": True,
                              "raw": {"outbox": {"manual": True}, "closing": {"grace_days": 14}}})
    with application.extensions["db"].session() as session:
        session.add(Application(id="app-1", number="123/16", title="A c. B", applicant_email="a@example.org",
                                applicant_sub="applicant-1", created_by="registry"))
    return application


def test_a_grace_period_lets_the_applicant_download_then_purges(grace_app):
    app = grace_app
    applicant = applicant_client(app)
    with_documents(app, applicant)
    registry = registry_client(app)
    registry.post(CLOSE, data={"csrf_token": csrf_of(registry, CLOSE), "confirm_number": "123/16"})
    assert count_documents(app) == 1
    page = applicant.get("/applications/app-1?tab=sent").get_data(as_text=True)
    assert "Ses documents restent téléchargeables jusqu" in page and "Envoyer un/des document(s)" not in page
    with app.extensions["db"].session() as session:
        document_id = session.scalars(select(Document.id)).one()
        notice = session.scalars(select(OutboxMessage).where(OutboxMessage.subject.like("%a été close%"))).one()
        assert "Vous pouvez télécharger ses documents jusqu" in notice.body_text
    assert applicant.get(f"/documents/{document_id}").status_code == 200
    with app.app_context(), app.extensions["db"].session() as session:
        assert services.purge_closed(session, utcnow() + timedelta(days=13)) == 0
        assert services.purge_closed(session, utcnow() + timedelta(days=15)) == 1
    assert count_documents(app) == 0
