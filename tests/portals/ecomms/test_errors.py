"""Every error a sentence in the person's language: never "HTTP 0", "HTTP 400" or a raw "Internal
Server Error", including the deposit posted twice (a double click, a re-posted form)."""

from __future__ import annotations

from sqlalchemy import func, select

from portals.ecomms import services, storage
from portals.ecomms.models import Application, Document
from shared.rp.testing import sign_in
from tests.portals.ecomms.conftest import csrf_of, make_pdf

SEND = "/applications/app-1/send"


def applicant(app):
    client = app.test_client()
    sign_in(client, sub="applicant-1", claims={"email": "a@example.org"})
    return client


def stage(client, token, name="Annexe.pdf"):
    answer = client.post("/applications/app-1/uploads", data=make_pdf(name), headers={
        "X-CSRFToken": token, "X-File-Name": name, "Content-Type": "application/pdf"})
    assert answer.status_code == 201
    return answer.get_json()["id"]


def test_a_deposit_posted_twice_at_once_is_stored_once_and_the_second_is_told_why(app):
    """Both requests found the staged file before either published it: the second is refused with
    a sentence, not a server error from the file the first one moved."""
    client = applicant(app)
    upload_id = stage(client, csrf_of(client, SEND))
    with app.test_request_context(), app.extensions["db"].session() as session:
        principal = sign_in(app.test_client(), sub="applicant-1")
        application = session.get(Application, "app-1")
        first = [services.staged_upload(principal, application, upload_id, "annex")]
        second = [services.staged_upload(principal, application, upload_id, "annex")]
        services.deposit(session, principal, application, first, "to_court")
        try:
            services.deposit(session, principal, application, second, "to_court")
        except services.Refused as refusal:
            assert refusal.code == "already_sent"
        else:
            raise AssertionError("the same file was deposited twice")
    with app.extensions["db"].session() as session:
        assert session.scalar(select(func.count(Document.id))) == 1


def test_a_re_posted_form_gets_a_sentence_in_the_persons_language(app):
    client = applicant(app)
    token = csrf_of(client, SEND)
    upload_id = stage(client, token)
    form = {"csrf_token": token, "confirm": "yes", "upload_ids": upload_id, f"type_{upload_id}": "annex"}
    assert client.post(SEND, data=form).status_code == 302
    again = client.post(SEND + "?lang=en", data=form)
    assert again.status_code == 400 and "no longer available: add it again" in again.get_data(as_text=True)


def test_a_server_error_is_a_sentence_in_the_persons_language(app, monkeypatch):
    def disk_gone(*_args):  # the disk, the true edge
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(storage.os, "replace", disk_gone)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = applicant(app)
    token = csrf_of(client, SEND)
    upload_id = stage(client, token)
    form = {"csrf_token": token, "confirm": "yes", "upload_ids": upload_id, f"type_{upload_id}": "annex"}
    french = client.post(SEND, data=form)
    assert french.status_code == 500
    body = french.get_data(as_text=True)
    assert "Une erreur technique nous a empêchés de traiter votre demande" in body and "Internal Server Error" not in body
    upload_id = stage(client, token)
    english = client.post(SEND + "?lang=en", data={**form, "upload_ids": upload_id, f"type_{upload_id}": "annex"})
    assert english.status_code == 500 and "A technical error prevented us" in english.get_data(as_text=True)


def test_the_upload_script_has_a_sentence_for_every_failure(app):
    """The script's words for an answer without one (network cut, a proxy's page): in the page, translated."""
    client = applicant(app)
    for lang, expected in (("fr", "La connexion a été interrompue"), ("en", "The connection was cut")):
        page = client.get(f"{SEND}?lang={lang}").get_data(as_text=True)
        assert f'id="text-network">{expected}' in page and 'id="text-failed">' in page
    script = client.get("/static/ecomms.js").get_data(as_text=True)
    assert '"HTTP "' not in script
