"""Sending to the Court (seed 000 §4 and FAQ): every rule refuses with its message and publishes nothing."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from portals.ecomms import services
from portals.ecomms.models import Document, OutboxMessage
from shared.rp.testing import sign_in
from shared.timeutil import utcnow
from tests.portals.ecomms.conftest import csrf_of, make_pdf, stored_files

SEND = "/applications/app-1/send"


def documents(app) -> list[Document]:
    with app.extensions["db"].session() as session:
        return list(session.scalars(select(Document)))


def post_files(client, files: list[tuple[bytes, str, str]], confirm: bool = True, path: str = SEND, token=None):
    data = {"csrf_token": token or csrf_of(client, path if path.endswith("/send") else SEND)}
    if confirm:
        data["confirm"] = "yes"
    for row, (content, name, doc_type) in enumerate(files, start=1):
        data[f"file_{row}"] = (io.BytesIO(content), name)
        data[f"type_{row}"] = doc_type
    return client.post(path, data=data, content_type="multipart/form-data")


def signed_in_client(app, sub="applicant-1"):
    client = app.test_client()
    sign_in(client, sub=sub, claims={"email": f"{sub}@example.org", "name": sub})
    return client


def test_two_pdfs_sent_with_prefix_timestamp_and_hash(app):
    client = signed_in_client(app)
    one, two = make_pdf("one"), make_pdf("two")
    answer = post_files(client, [(one, "Observations.pdf", "observations"), (two, "Annexe 1.pdf", "annex")])
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/applications/app-1?tab=sent")
    names = sorted(d.stored_name for d in documents(app))
    assert names == ["123-16_Annexe 1.pdf", "123-16_Observations.pdf"]
    import hashlib

    assert {d.sha256 for d in documents(app)} == {hashlib.sha256(b).hexdigest() for b in (one, two)}
    page = client.get("/applications/app-1?tab=sent").get_data(as_text=True)
    assert "123-16_Observations.pdf" in page and "Heure locale de Strasbourg" in page
    assert len(stored_files(app)) == 2


def test_each_bad_input_is_refused_with_its_message_and_nothing_is_kept(app):
    client = signed_in_client(app)
    cases = [
        ([(b"plain text renamed", "lettre.pdf", "letter")], "n&#39;est pas un document PDF lisible"),
        ([(b"%PDF-1.4 but broken", "broken.pdf", "letter")], "n&#39;est pas un document PDF lisible"),
        ([(b"", "vide.pdf", "letter")], "est vide"),
        ([(make_pdf(), "Requête_n°1.pdf", "letter")], "caractères ASCII uniquement"),
        ([(make_pdf(), "../../etc/passwd.pdf", "letter")], "ne doit pas contenir de chemin"),
        ([(make_pdf(), "ok.pdf", "")], "Choisissez le type de chaque document : « ok.pdf »"),
        ([], "Choisissez au moins un document PDF"),
        # one good file and one bad: nothing of the two is kept
        ([(make_pdf(), "good.pdf", "letter"), (b"MZ\x90\x00", "virus.pdf", "letter")], "virus.pdf"),
    ]
    for files, message in cases:
        answer = post_files(client, files)
        assert answer.status_code == 400, files
        assert message in answer.get_data(as_text=True), (files, message)
    missing_confirmation = post_files(client, [(make_pdf(), "good.pdf", "letter")], confirm=False)
    assert "Cochez la case de confirmation" in missing_confirmation.get_data(as_text=True)
    # nothing is published; the good files of a refused form wait, staged, for the next try (their hour)
    assert documents(app) == [] and all(name.startswith(".upload-") for name in stored_files(app))


def test_a_51_mb_file_is_refused_while_streaming(app):
    client = signed_in_client(app)
    big = b"%PDF-1.4\n" + b"0" * (51 * 1024 * 1024)
    answer = post_files(client, [(big, "big.pdf", "letter")])
    assert answer.status_code == 413
    assert "50 Mo au maximum" in answer.get_data(as_text=True)
    assert documents(app) == [] and stored_files(app) == []
    raw = client.post("/applications/app-1/uploads", data=big, headers={
        "X-CSRFToken": csrf_of(client, SEND), "X-File-Name": "big.pdf", "Content-Type": "application/pdf"})
    assert raw.status_code == 413 and "50 Mo" in raw.get_json()["error"]
    assert stored_files(app) == []


def test_another_persons_application_is_refused(app):
    client = signed_in_client(app, "applicant-2")
    assert client.get("/applications/app-1").status_code == 404
    answer = post_files(client, [(make_pdf(), "x.pdf", "letter")], token=csrf_of(client, "/applications/app-2/send"))
    assert answer.status_code == 404
    assert documents(app) == [] and stored_files(app) == []


def test_a_forged_csrf_token_is_refused(app):
    client = signed_in_client(app)
    client.get(SEND)
    answer = post_files(client, [(make_pdf(), "x.pdf", "letter")], token="forged")
    assert answer.status_code == 400
    assert documents(app) == [] and stored_files(app) == []


def test_the_javascript_path_uploads_then_sends(app):
    client = signed_in_client(app)
    token = csrf_of(client, SEND)
    bad = client.post("/applications/app-1/uploads", data=b"not a pdf", headers={
        "X-CSRFToken": token, "X-File-Name": "lettre.pdf", "Content-Type": "application/pdf"})
    assert bad.status_code == 400 and "PDF" in bad.get_json()["error"]
    pathy = client.post("/applications/app-1/uploads", data=make_pdf("js"), headers={
        "X-CSRFToken": token, "X-File-Name": "dossier%5Clettre.pdf", "Content-Type": "application/pdf"})
    assert pathy.status_code == 400 and "chemin" in pathy.get_json()["error"]
    good = client.post("/applications/app-1/uploads", data=make_pdf("js"), headers={
        "X-CSRFToken": token, "X-File-Name": "Lettre%20JS.pdf", "Content-Type": "application/pdf"})
    assert good.status_code == 201
    upload_id = good.get_json()["id"]
    assert documents(app) == [], "nothing is deposited before Envoyer"
    other = signed_in_client(app, "applicant-2")
    stolen = other.post("/applications/app-2/send", data={"csrf_token": csrf_of(other, "/applications/app-2/send"),
                                                          "upload_ids": upload_id, f"type_{upload_id}": "letter",
                                                          "confirm": "yes"})
    assert stolen.status_code == 400, "an upload belongs to its uploader and application"
    sent = client.post(SEND, data={"csrf_token": token, "upload_ids": upload_id, f"type_{upload_id}": "letter",
                                   "confirm": "yes"})
    assert sent.status_code == 302
    assert [d.stored_name for d in documents(app)] == ["123-16_Lettre JS.pdf"]


def test_receipt_is_signed_and_verifiable(app):
    client = signed_in_client(app)
    post_files(client, [(make_pdf(), "Observations.pdf", "observations")])
    [document] = documents(app)
    receipt = client.get(f"/documents/{document.id}/receipt").get_data(as_text=True).strip()
    token = csrf_of(client, "/receipts/verify")
    verified = client.post("/receipts/verify", data={"csrf_token": token, "receipt": receipt})
    text = verified.get_data(as_text=True)
    assert verified.status_code == 200 and "Accusé de dépôt authentique" in text and document.sha256 in text
    header, payload, signature = receipt.split(".")
    forged = client.post("/receipts/verify", data={"csrf_token": token,
                                                   "receipt": f"{header}.{payload[:-4]}AAAA.{signature}"})
    assert forged.status_code == 400
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert jwks["keys"][0]["kty"] == "EC" and "d" not in jwks["keys"][0]


def test_document_opens_inline_and_downloads(app):
    client = signed_in_client(app)
    post_files(client, [(make_pdf("view"), "Vue.pdf", "letter")])
    [document] = documents(app)
    inline = client.get(f"/documents/{document.id}")
    assert inline.mimetype == "application/pdf" and inline.data.startswith(b"%PDF")
    assert "inline" in inline.headers["Content-Disposition"] or "attachment" not in inline.headers["Content-Disposition"]
    download = client.get(f"/documents/{document.id}?download=1")
    assert "attachment" in download.headers["Content-Disposition"]
    assert signed_in_client(app, "applicant-2").get(f"/documents/{document.id}").status_code == 404


def test_retention_closing_and_court_notification(app):
    registry = app.test_client()
    sign_in(registry, sub="registry-1", claims={"roles": ["registry"]})
    token = csrf_of(registry, "/applications/app-1")
    answer = registry.post("/registry/applications/app-1/documents", data={
        "csrf_token": token, "file_1": (io.BytesIO(make_pdf("court")), "Lettre.pdf"), "type_1": "letter"},
        content_type="multipart/form-data")
    assert answer.status_code == 302
    with app.extensions["db"].session() as session:
        mail = session.scalars(select(OutboxMessage)).one()  # the Court's own deposit: the applicant only
        assert mail.recipient == "a@example.org" and "Un nouveau document" in mail.subject
        assert "123/16" in mail.body_text and "http" in mail.body_text
    applicant = signed_in_client(app)
    assert "123-16_Lettre.pdf" in applicant.get("/applications/app-1").get_data(as_text=True)
    with app.app_context(), app.extensions["db"].session() as session:
        assert services.apply_retention(session, utcnow() + timedelta(days=200)) == 0
        assert services.apply_retention(session, utcnow() + timedelta(days=366)) == 1
    assert stored_files(app) == []
    post_files(applicant, [(make_pdf(), "x.pdf", "letter")])
    registry.post("/registry/applications/app-1/close", data={"csrf_token": token, "confirm_number": "123/16"})
    with app.extensions["db"].session() as session:
        assert session.scalar(select(func.count(Document.id))) == 0
    assert applicant.get("/applications/app-1").status_code == 410  # closed, and told so (test_closing)
    own_token = csrf_of(applicant, "/")
    assert applicant.post("/registry/applications/app-2/close", data={"csrf_token": own_token}).status_code == 403


def test_cleanup_removes_crash_leftovers_but_not_documents(app):
    client = signed_in_client(app)
    post_files(client, [(make_pdf(), "keep.pdf", "letter")])
    import os
    import time

    with app.app_context():
        folder = services.storage_folder()
        (folder / ".upload-crashed").write_bytes(b"partial")
        (folder / "orphan0key").write_bytes(b"published but never committed")
        old = time.time() - 7200
        os.utime(folder / ".upload-crashed", (old, old))
        os.utime(folder / "orphan0key", (old, old))
        with app.extensions["db"].session() as session:
            removed = services.cleanup_storage(session)
    assert sorted(removed) == [".upload-crashed", "orphan0key"]
    assert len(stored_files(app)) == 1


def test_a_disk_failure_on_the_second_file_keeps_neither(app, monkeypatch):
    """All or nothing: the first file was already in place when the disk refused the second; the
    answer is an error, no document is recorded, and no stored file is left behind."""
    from portals.ecomms import storage

    real_replace, calls = storage.os.replace, []

    def replace_then_fail(source, target):  # the disk, the true edge: full on the second rename
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(storage.os, "replace", replace_then_fail)
    client = signed_in_client(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    answer = post_files(client, [(make_pdf("one"), "Un.pdf", "letter"), (make_pdf("two"), "Deux.pdf", "letter")])
    assert answer.status_code >= 500
    assert len(calls) == 2
    assert documents(app) == [] and stored_files(app) == []


def test_a_sent_file_and_its_name_reach_the_disk_before_the_row(app, monkeypatch):
    """A kill -9 keeps the page cache; a power cut does not: the file's content is synced before its
    rename, and the folder (the rename itself) after it, both before the document row exists."""
    import os

    from portals.ecomms import storage

    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, storage.os.replace

    rows_at_sync: list[int] = []

    def fsync(fd: int) -> None:  # the disk, the true edge: watched, then done for real
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        rows_at_sync.append(len(documents(app)))
        real_fsync(fd)

    def replace(source, target) -> None:
        events.append(("rename", str(target)))
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(storage.os, "replace", replace)
    client = signed_in_client(app)
    assert post_files(client, [(make_pdf("durable"), "Durable.pdf", "letter")]).status_code == 302
    [document] = documents(app)
    with app.app_context():
        folder = services.storage_folder().resolve()
    final = str(folder / document.storage_key)
    rename = events.index(("rename", final))
    synced_before = [path for kind, path in events[:rename] if kind == "fsync"]
    assert any(Path(path).parent == folder and Path(path).name.startswith(".upload-") for path in synced_before), events
    assert ("fsync", str(folder)) in events[rename:], events
    assert rows_at_sync and set(rows_at_sync) == {0}, "no row before the file and its name are on disk"


def test_forgetting_the_confirmation_box_keeps_the_files_and_their_types_without_javascript(app):
    client = signed_in_client(app)
    refused = post_files(client, [(make_pdf("one"), "Observations.pdf", "observations"),
                                  (make_pdf("two"), "Annexe.pdf", "")], confirm=False)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Cochez la case de confirmation pour envoyer vos documents" in page
    assert "Choisissez le type de chaque document : « Annexe.pdf » n&#39;en a pas encore." in page
    import re

    kept = re.findall(r'name="upload_ids" value="(\w+)"', page)
    assert len(kept) == 2 and '<option value="observations" selected>' in page
    token = csrf_of(client, SEND)
    sent = client.post(SEND, data={"csrf_token": token, "confirm": "yes", "upload_ids": kept,
                                   f"type_{kept[0]}": "observations", f"type_{kept[1]}": "annex"})
    assert sent.status_code == 302
    assert sorted(d.stored_name for d in documents(app)) == ["123-16_Annexe.pdf", "123-16_Observations.pdf"]


def test_no_form_picks_a_document_type_for_the_person(app):
    """Seed 000 FAQ: the type is defined at upload. Every type control starts on "Choisissez"."""
    registry = app.test_client()
    sign_in(registry, sub="registry-1", claims={"roles": ["registry"]})
    court_form = registry.get("/applications/app-1").get_data(as_text=True)
    assert '<select id="type_1" name="type_1"><option value="">Choisissez</option>' in court_form
    send_page = signed_in_client(app).get(SEND).get_data(as_text=True)
    row = send_page[send_page.index('<template id="file-row-template">'):send_page.index("</template>")]
    select = row[row.index("<select"):row.index("</select>")]
    assert re.search(r'<select[^>]*>\s*<option value="">Choisissez</option>', select), select
    assert " selected" not in select, "the script's rows start on Choisissez"


def test_a_file_staged_by_one_person_cannot_be_sent_by_another(app):
    owner = signed_in_client(app)
    token = csrf_of(owner, SEND)
    staged = owner.post("/applications/app-1/uploads", data=make_pdf("mine"), headers={
        "X-CSRFToken": token, "X-File-Name": "Mine.pdf", "Content-Type": "application/pdf"}).get_json()["id"]
    other = signed_in_client(app, sub="applicant-2")
    other_send = "/applications/app-2/send"
    answer = other.post(other_send, data={"csrf_token": csrf_of(other, other_send), "confirm": "yes",
                                          "upload_ids": staged, f"type_{staged}": "annex"})
    assert answer.status_code == 400 and "plus disponible" in answer.get_data(as_text=True)
    assert documents(app) == []
    assert owner.post(SEND, data={"csrf_token": token, "confirm": "yes", "upload_ids": staged,
                                  f"type_{staged}": "annex"}).status_code == 302  # still the owner's


def encrypted_pdf(user_password: str, owner_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf("secret"))))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_files_a_court_could_not_use_are_refused_with_the_reason(app):
    client = signed_in_client(app)
    cases = [
        ([(make_pdf(), "Observations.txt", "letter")], "le nom d&#39;un document PDF se termine par .pdf"),
        ([(make_pdf(), "Observations", "letter")], "le nom d&#39;un document PDF se termine par .pdf"),
        ([(encrypted_pdf("secret", "owner"), "Protege.pdf", "letter")], "est protégé par un mot de passe"),
    ]
    for files, message in cases:
        answer = post_files(client, files)
        assert answer.status_code == 400 and message in answer.get_data(as_text=True), files
    assert documents(app) == []
    # a document that opens without a password (permissions only) is a readable PDF
    assert post_files(client, [(encrypted_pdf("", "owner"), "Permissions.pdf", "letter")]).status_code == 302


def test_the_same_file_twice_is_refused_with_the_document_it_already_is(app):
    client = signed_in_client(app)
    pdf = make_pdf("once")
    assert post_files(client, [(pdf, "Observations.pdf", "observations")]).status_code == 302
    again = post_files(client, [(pdf, "Observations-bis.pdf", "observations")])
    assert again.status_code == 400
    assert ("« Observations-bis.pdf » a déjà été envoyé pour cette requête (123-16_Observations.pdf)"
            in again.get_data(as_text=True))
    two = make_pdf("two")
    twice = post_files(client, [(two, "A.pdf", "annex"), (two, "B.pdf", "annex")])
    assert twice.status_code == 400 and "« B.pdf » a déjà été envoyé" in twice.get_data(as_text=True)
    assert len(documents(app)) == 1
