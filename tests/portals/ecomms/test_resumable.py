"""Resumable uploads (tus 1.0.0: creation, HEAD/PATCH with offsets, termination, checksum): a file
sent in pieces is checked whole like any other and sent; each abuse of the protocol (another
person's upload, offset games, pieces past the declared length, a forged piece, quotas bypassed by
chunking) is refused with a sentence and changes nothing."""

from __future__ import annotations

import base64
import hashlib

import pytest
from sqlalchemy import select

from portals.ecomms import create_app, upgrade_database
from portals.ecomms.models import Application, Document
from shared.rp.testing import sign_in
from tests.portals.ecomms.conftest import csrf_of, make_pdf, stored_files

SEND = "/applications/app-1/send"
UPLOADS = "/applications/app-1/uploads"


def client_of(app, sub="applicant-1", lang="fr"):
    client = app.test_client()
    client.set_cookie("lang", lang)
    sign_in(client, sub=sub, claims={"email": f"{sub}@example.org", "name": sub})
    return client


def create(client, token, length: int, name: str = "Observations.pdf", path: str = UPLOADS):
    metadata = "filename " + base64.b64encode(name.encode()).decode()
    return client.post(path, headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(length),
                                      "Upload-Metadata": metadata, "X-CSRFToken": token,
                                      "Accept": "application/json"})


def patch(client, token, location: str, offset: int, data: bytes, checksum: str | None = None):
    headers = {"Tus-Resumable": "1.0.0", "Upload-Offset": str(offset), "X-CSRFToken": token,
               "Content-Type": "application/offset+octet-stream"}
    if checksum:
        headers["Upload-Checksum"] = checksum
    return client.patch(location, data=data, headers=headers)


def head(client, location: str):
    return client.head(location, headers={"Tus-Resumable": "1.0.0"})


def sha256_b64(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture
def session(app):
    client = client_of(app)
    return client, csrf_of(client, SEND)


def test_a_pdf_sent_in_pieces_is_staged_checked_and_sent(app, session):
    client, token = session
    pdf = make_pdf("en morceaux") * 1  # a real PDF, cut in three
    created = create(client, token, len(pdf))
    assert created.status_code == 201 and created.headers["Tus-Resumable"] == "1.0.0"
    location = created.headers["Location"]
    assert head(client, location).headers["Upload-Offset"] == "0"
    third = len(pdf) // 3
    first = patch(client, token, location, 0, pdf[:third], checksum=sha256_b64(pdf[:third]))
    assert first.status_code == 204 and first.headers["Upload-Offset"] == str(third)
    assert head(client, location).headers["Upload-Offset"] == str(third)
    assert patch(client, token, location, third, pdf[third:2 * third]).status_code == 204
    last = patch(client, token, location, 2 * third, pdf[2 * third:])
    assert last.status_code == 200 and last.headers["Upload-Offset"] == str(len(pdf))
    upload_id = last.get_json()["id"]
    sent = client.post(SEND, data={"csrf_token": token, "upload_ids": upload_id, f"type_{upload_id}": "letter",
                                   "confirm": "yes"})
    assert sent.status_code == 302
    with app.extensions["db"].session() as db:
        [document] = db.scalars(select(Document))
        assert document.sha256 == hashlib.sha256(pdf).hexdigest() and document.size == len(pdf)
        assert document.stored_name == "123-16_Observations.pdf" and document.upload_started_at is not None


def test_offset_games_and_replayed_pieces_change_nothing(app, session):
    client, token = session
    pdf = make_pdf("offsets")
    location = create(client, token, len(pdf)).headers["Location"]
    assert patch(client, token, location, 0, pdf[:100]).status_code == 204
    replay = patch(client, token, location, 0, pdf[:100])
    assert replay.status_code == 409 and replay.headers["Upload-Offset"] == "100"
    assert "reprend automatiquement" in replay.get_json()["error"]
    ahead = patch(client, token, location, 500, pdf[500:600])
    assert ahead.status_code == 409
    for bad in ("-1", "abc", ""):
        answer = client.patch(location, data=b"x", headers={"Upload-Offset": bad, "X-CSRFToken": token,
                                                             "Content-Type": "application/offset+octet-stream"})
        assert answer.status_code == 400 and answer.get_json()["error"]
    past = patch(client, token, location, 100, pdf[100:] + b"more than declared")
    assert past.status_code == 413 and "plus long que celui annoncé" in past.get_json()["error"]
    assert head(client, location).headers["Upload-Offset"] == "100", "nothing of a refused piece is kept"
    assert patch(client, token, location, 100, pdf[100:]).status_code == 200


def test_a_forged_piece_is_refused_by_its_checksum(app, session):
    client, token = session
    pdf = make_pdf("checksum")
    location = create(client, token, len(pdf)).headers["Location"]
    forged = pdf[:200].replace(b"%PDF", b"%XYZ")
    answer = patch(client, token, location, 0, forged, checksum=sha256_b64(pdf[:200]))
    assert answer.status_code == 460 and "altérée" in answer.get_json()["error"]
    assert head(client, location).headers["Upload-Offset"] == "0"
    unknown = patch(client, token, location, 0, pdf[:200], checksum="md5 " + base64.b64encode(b"x" * 16).decode())
    assert unknown.status_code == 400


def test_another_persons_upload_id_is_not_found(app, session):
    client, token = session
    pdf = make_pdf("mine")
    location = create(client, token, len(pdf)).headers["Location"]
    assert patch(client, token, location, 0, pdf[:50]).status_code == 204
    stranger = client_of(app, sub="applicant-2")
    stranger_token = csrf_of(stranger, "/applications/app-2/send")
    stolen = location.replace("app-1", "app-2")
    for path in (location, stolen):
        assert head(stranger, path).status_code == 404
        assert patch(stranger, stranger_token, path, 50, pdf[50:]).status_code == 404
        assert stranger.delete(path, headers={"X-CSRFToken": stranger_token}).status_code == 404
    assert head(client, location).headers["Upload-Offset"] == "50", "the owner's upload is untouched"
    no_csrf = client.patch(location, data=pdf[50:], headers={"Upload-Offset": "50",
                                                            "Content-Type": "application/offset+octet-stream"})
    assert no_csrf.status_code == 400 and head(client, location).headers["Upload-Offset"] == "50"


def test_the_assembled_file_gets_the_pdf_check(app, session):
    client, token = session
    not_pdf = b"%PDF-1.4 but nothing else " * 100
    location = create(client, token, len(not_pdf), name="faux.pdf").headers["Location"]
    assert patch(client, token, location, 0, not_pdf[:1000]).status_code == 204
    last = patch(client, token, location, 1000, not_pdf[1000:])
    assert last.status_code == 400 and "n'est pas un document PDF lisible" in last.get_json()["error"]
    assert [f for f in stored_files(app) if f.startswith(".upload-")] == [], "a refused file is deleted"
    assert create(client, token, 100, name="lettre.txt").status_code == 400, "the name is checked first"
    assert create(client, token, 50 * 1024 * 1024 + 1).status_code == 413


def test_cancel_deletes_the_partial_file_and_gives_its_place_back(app, session):
    client, token = session
    pdf = make_pdf("annulé")
    location = create(client, token, len(pdf)).headers["Location"]
    assert patch(client, token, location, 0, pdf[:100]).status_code == 204
    assert len(stored_files(app)) == 1
    assert client.delete(location, headers={"X-CSRFToken": token}).status_code == 204
    assert stored_files(app) == [] and head(client, location).status_code in (404, 410)
    assert patch(client, token, location, 100, pdf[100:]).status_code == 404


@pytest.fixture
def small_quotas_app(tmp_path):
    url = f"sqlite:///{tmp_path / 'ecomms.db'}"
    upgrade_database(url)
    (tmp_path / "instance").mkdir()
    app = create_app({"database_url": url, "instance_path": tmp_path / "instance", "_quiet": True,
                      "raw": {"outbox": {"manual": True}, "uploads": {"staged_files": 2, "staged_mb": 1}}})
    with app.extensions["db"].session() as session:
        session.add(Application(id="app-1", number="123/16", title="A c. B", applicant_email="a@example.org",
                                applicant_sub="applicant-1", created_by="registry"))
    return app


def test_chunking_does_not_bypass_the_quotas(small_quotas_app):
    client = client_of(small_quotas_app)
    token = csrf_of(client, SEND)
    big = create(client, token, 2 * 1024 * 1024)
    assert big.status_code == 429 and "1 Mo" in big.get_json()["error"], "the declared length is reserved first"
    assert create(client, token, 600 * 1024).status_code == 201
    second = create(client, token, 600 * 1024, name="deux.pdf")
    assert second.status_code == 429, "pieces of several uploads add up in the quota"
    assert create(client, token, 100 * 1024, name="trois.pdf").status_code == 201
    assert create(client, token, 10, name="quatre.pdf").status_code == 429, "an upload in progress is a file"
