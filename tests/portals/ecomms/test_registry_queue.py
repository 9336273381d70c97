"""The registry's work queue (filings new, read, processed; searched by number, party, Strasbourg
dates, type and state; a page at a time), the ZIP of an application before closing, and the daily
digest of filing notices."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from portals.ecomms import notices, services, storage
from portals.ecomms.models import Application, Document, OutboxMessage, Party
from shared.rp.testing import sign_in
from shared.timeutil import STRASBOURG
from tests.portals.ecomms.conftest import build_app, csrf_of, make_pdf

LAWYER = "avocat@cabinet.example"


def person(app, sub: str, **claims):
    client = app.test_client()
    sign_in(client, sub=sub, claims=claims)
    return client


def text(answer) -> str:
    return unescape(answer.get_data(as_text=True))


def strasbourg(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=STRASBOURG)


def filing(app, application_id: str, name: str, at: datetime, doc_type: str = "observations",
           sender: str = "applicant-1", content: bytes | None = None) -> str:
    """A filing as deposit() records it, with its file in the storage folder (its date chosen)."""
    with app.app_context():
        folder = services.storage_folder()
        temp = storage.HashingTempFile(folder)
        temp.write(content or make_pdf(name))
        sha256, size = temp.finish()
        stored = storage.publish(temp, folder)
    with app.extensions["db"].session() as session:
        number = session.get(Application, application_id).file_prefix
        document = Document(application_id=application_id, direction="to_court", doc_type=doc_type,
                            stored_name=f"{number}_{name}", size=size, sha256=sha256, storage_key=stored.key,
                            sender_sub=sender, created_at=at.astimezone(UTC))  # stored in UTC, as utcnow()
        session.add(document)
        session.flush()
        return document.id


@pytest.fixture
def queue_app(app):
    with app.extensions["db"].session() as session:
        session.add(Party(application_id="app-2", role="representative", email=LAWYER, sub="lawyer-1"))
    filing(app, "app-1", "Memoire.pdf", strasbourg(2026, 11, 30, 23, 30))  # 22:30 UTC: the 30th in Strasbourg
    filing(app, "app-1", "Pouvoir.pdf", strasbourg(2026, 12, 1, 0, 30), doc_type="power_of_attorney")
    filing(app, "app-2", "Observations.pdf", strasbourg(2026, 12, 1, 10, 0), sender="lawyer-1")
    return app


def rows(page: str) -> list[str]:
    return re.findall(r'target="_blank" rel="noopener">([^<]+)</a>', page)


def test_a_filing_is_new_then_read_then_processed(queue_app):
    registry = person(queue_app, "registry-1", roles=["registry"])
    assert rows(text(registry.get("/registry/queue?state=new"))) == ["77-21_Observations.pdf", "123-16_Pouvoir.pdf",
                                                                     "123-16_Memoire.pdf"]
    with queue_app.extensions["db"].session() as session:
        memoire = session.scalars(select(Document.id).where(Document.stored_name == "123-16_Memoire.pdf")).one()
    registry.get(f"/documents/{memoire}")  # opened
    assert rows(text(registry.get("/registry/queue?state=read"))) == ["123-16_Memoire.pdf"]
    token = csrf_of(registry, "/registry/queue")
    answer = registry.post(f"/registry/documents/{memoire}/processed", data={
        "csrf_token": token, "next": "/registry/queue?state=read"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/registry/queue?state=read"
    assert rows(text(registry.get("/registry/queue?state=processed"))) == ["123-16_Memoire.pdf"]
    assert rows(text(registry.get("/registry/queue?state=read"))) == []
    with queue_app.extensions["db"].session() as session:
        assert session.get(Document, memoire).processed_by == "registry-1"
    registry.post(f"/registry/documents/{memoire}/processed", data={"csrf_token": token, "processed": "no"})
    assert rows(text(registry.get("/registry/queue?state=read"))) == ["123-16_Memoire.pdf"]
    answer = registry.post(f"/registry/documents/{memoire}/processed", data={"csrf_token": token,
                                                                           "next": "https://evil.example/"})
    assert answer.headers["Location"] == "/registry/queue", "no redirect off the site"


def test_the_queue_is_searched_by_number_party_strasbourg_dates_and_type(queue_app):
    registry = person(queue_app, "registry-1", roles=["registry"])

    def found(query: str) -> list[str]:
        answer = registry.get(f"/registry/queue?{query}")
        assert answer.status_code == 200, query
        return rows(text(answer))

    assert found("number=123/16") == ["123-16_Pouvoir.pdf", "123-16_Memoire.pdf"]
    assert found("number=77") == ["77-21_Observations.pdf"]
    assert found("party=cabinet.example") == ["77-21_Observations.pdf"]  # a representative's address
    assert found("party=A+c.+B") == ["123-16_Pouvoir.pdf", "123-16_Memoire.pdf"]  # the title's parties
    # Strasbourg days: 23:30 on the 30th is the 30th, 00:30 on the 1st is the 1st (both the 30th in UTC)
    assert found("date_from=2026-12-01&date_to=2026-12-01") == ["77-21_Observations.pdf", "123-16_Pouvoir.pdf"]
    assert found("date_to=2026-11-30") == ["123-16_Memoire.pdf"]
    assert found("doc_type=power_of_attorney") == ["123-16_Pouvoir.pdf"]
    assert found("party=%25") == [] and found("party=_") == [], "the searcher's wildcards are taken literally"
    page = text(registry.get("/registry/queue?party=cabinet"))
    assert f"{LAWYER} (Représentant (avocat))" in page and "1 dépôt" in page


def test_bad_criteria_are_named_in_the_users_language_never_a_500(queue_app):
    registry = person(queue_app, "registry-1", roles=["registry"])
    answer = registry.get("/registry/queue?date_from=2026-02-31&doc_type=poem&state=lost&page=abc")
    assert answer.status_code == 400
    page = text(answer)
    for message in ("Saisissez une date comme 02/12/2026.", "Choisissez un type de document de la liste.",
                    "Choisissez un état de la liste."):
        assert message in page
    assert len(rows(page)) == 3, "the valid criteria (none) still list"
    registry.set_cookie("lang", "en")
    english = text(registry.get("/registry/queue?date_from=2026-12-02&date_to=2026-12-01"))
    assert "The end date is before the start date." in english
    assert registry.get("/registry/queue?number=" + "9" * 5000 + "&page=99999999999").status_code == 200


def test_the_queue_pages_by_25(app):
    for index in range(30):
        filing(app, "app-1", f"Annexe{index:02}.pdf", strasbourg(2026, 12, 1, 8, 0) + timedelta(minutes=index),
               doc_type="annex")
    registry = person(app, "registry-1", roles=["registry"])
    first = text(registry.get("/registry/queue"))
    assert len(rows(first)) == 25 and rows(first)[0] == "123-16_Annexe29.pdf" and "30 dépôts" in first
    second = text(registry.get("/registry/queue?doc_type=annex&page=2"))
    assert rows(second) == [f"123-16_Annexe{i:02}.pdf" for i in range(4, -1, -1)]
    assert 'href="/registry/queue?page=1&doc_type=annex"' in second, "the pages keep the criteria"
    assert len(rows(text(registry.get("/registry/queue?page=7")))) == 5, "past the end: the last page"


def test_no_one_but_the_registry_searches_the_queue(queue_app):
    for client in (person(queue_app, "lawyer-1", email=LAWYER), person(queue_app, "applicant-1")):
        for path in ("/registry/queue", "/registry/queue?party=example", "/registry/queue?number=77/21"):
            answer = client.get(path)
            assert answer.status_code == 403, path
            assert "77-21_Observations.pdf" not in text(answer) and "C c. D" not in text(answer)
    assert queue_app.test_client().get("/registry/queue").status_code in (302, 401)


# -- the ZIP --------------------------------------------------------------------------------------------

def test_the_registry_downloads_an_application_as_a_streamed_zip_with_safe_names(app):
    first = make_pdf("first")
    filing(app, "app-1", "Memoire.pdf", strasbourg(2026, 12, 1, 9, 0), content=first)
    filing(app, "app-1", "Memoire2.pdf", strasbourg(2026, 12, 1, 9, 1))
    evil = filing(app, "app-1", "x.pdf", strasbourg(2026, 12, 1, 9, 2))
    evil_2 = filing(app, "app-1", "y.pdf", strasbourg(2026, 12, 1, 9, 3))
    with app.extensions["db"].session() as session:  # names no form accepts, written in the database
        session.get(Document, evil).stored_name = "../../../etc/cron.d/evil.pdf"
        session.get(Document, evil_2).stored_name = "..\\..\\C:\\Windows\\evil.pdf"
    registry = person(app, "registry-1", roles=["registry"])
    answer = registry.get("/registry/applications/app-1/documents.zip")
    assert answer.status_code == 200 and answer.is_streamed
    assert answer.headers["Content-Disposition"] == 'attachment; filename="123-16_documents.zip"'
    archive = zipfile.ZipFile(io.BytesIO(answer.get_data()))
    names = archive.namelist()
    assert names == ["sent/123-16_Memoire.pdf", "sent/123-16_Memoire2.pdf", "sent/evil.pdf", "sent/evil-2.pdf",
                     "SHA256SUMS"]
    for name in names:
        assert not name.startswith("/") and ".." not in name and "\\" not in name and ":" not in name
    assert archive.read("sent/123-16_Memoire.pdf") == first
    import hashlib

    sums = archive.read("SHA256SUMS").decode()
    assert f"{hashlib.sha256(first).hexdigest()}  sent/123-16_Memoire.pdf" in sums
    assert archive.testzip() is None


def test_only_the_registry_downloads_the_zip(app):
    filing(app, "app-1", "Memoire.pdf", strasbourg(2026, 12, 1, 9, 0))
    with app.extensions["db"].session() as session:
        session.add(Party(application_id="app-1", role="representative", email=LAWYER, sub="lawyer-1"))
    for sub in ("applicant-1", "lawyer-1", "applicant-2"):
        assert person(app, sub).get("/registry/applications/app-1/documents.zip").status_code == 403, sub


def test_the_closing_page_offers_the_zip_first(app):
    registry = person(app, "registry-1", roles=["registry"])
    page = text(registry.get("/registry/applications/app-1/close"))
    assert page.index("/registry/applications/app-1/documents.zip") < page.index('name="confirm_number"')


# -- the daily digest --------------------------------------------------------------------------------

@pytest.fixture
def digest_app(tmp_path):
    return build_app(tmp_path, registry={"filing_notices": "daily", "digest_hour": 8})


def to_registry(app) -> list[OutboxMessage]:
    with app.extensions["db"].session() as session:
        found = list(session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "greffe@echr.example")))
        session.expunge_all()
        return found


def file_by_form(app, sub: str, application_id: str, name: str) -> None:
    client = person(app, sub)
    token = csrf_of(client, f"/applications/{application_id}/send")
    assert client.post(f"/applications/{application_id}/send", content_type="multipart/form-data", data={
        "csrf_token": token, "confirm": "yes", "file_1": (io.BytesIO(make_pdf(name)), name),
        "type_1": "observations"}).status_code == 302


def test_with_the_daily_digest_the_registry_gets_one_email_a_day_naming_every_filing(digest_app):
    file_by_form(digest_app, "applicant-1", "app-1", "Memoire.pdf")
    file_by_form(digest_app, "applicant-2", "app-2", "Lettre.pdf")
    assert to_registry(digest_app) == [], "no email per filing"
    with digest_app.extensions["db"].session() as session:
        confirmations = session.scalars(select(OutboxMessage.recipient)).all()
    assert sorted(confirmations) == ["a@example.org", "c@example.org"], "the filers' confirmations still go at once"
    with digest_app.app_context(), digest_app.extensions["db"].session() as session:
        assert notices.daily_digest(session, strasbourg(2026, 12, 3, 7, 59)) == 0, "not before the digest hour"
        assert notices.daily_digest(session, strasbourg(2026, 12, 3, 8, 5)) == 2
    (digest,) = to_registry(digest_app)
    assert digest.subject == "eComms : 2 nouveau(x) dépôt(s) depuis le dernier résumé"
    assert "123-16_Memoire.pdf" in digest.body_text and "77-21_Lettre.pdf" in digest.body_text
    assert "/applications/app-1?tab=sent" in digest.body_text and "/registry/queue" in digest.body_text
    file_by_form(digest_app, "applicant-1", "app-1", "Annexe.pdf")
    with digest_app.app_context(), digest_app.extensions["db"].session() as session:
        assert notices.daily_digest(session, strasbourg(2026, 12, 3, 15, 0)) == 0, "once a day: it waits"
        assert notices.daily_digest(session, strasbourg(2026, 12, 4, 8, 0)) == 1, "the next day, only the new one"
    assert "123-16_Annexe.pdf" in to_registry(digest_app)[-1].body_text
    assert "Memoire" not in to_registry(digest_app)[-1].body_text


def test_by_default_the_registry_is_told_of_each_filing_at_once_and_no_digest_repeats_it(app):
    file_by_form(app, "applicant-1", "app-1", "Memoire.pdf")
    assert len(to_registry(app)) == 1
    with app.app_context(), app.extensions["db"].session() as session:
        assert notices.daily_digest(session, strasbourg(2026, 12, 9, 9, 0)) == 0
    assert len(to_registry(app)) == 1
