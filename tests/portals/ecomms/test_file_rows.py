"""The file-upload component's rows (shared/templates/macros.html file_row): a file kept across a
refusal can be removed without JavaScript, the other files keep their chosen types; every row has
its own ids, its labelled type and progress, and the page one live region for announcements."""

from __future__ import annotations

import io
import re
from html import unescape

from sqlalchemy import select

from portals.ecomms.models import Document
from shared.rp.testing import sign_in
from tests.portals.ecomms.conftest import csrf_of, make_pdf, stored_files

SEND = "/applications/app-1/send"


def kept_ids(page: str) -> dict[str, str]:
    """name → upload id of the rows of kept files (their no-JS remove buttons)."""
    page = page[:page.index('<template id="file-row-template">')]
    rows = re.findall(r'<li class="file-row" id="file-([^"]+)" data-file-id="[^"]+" data-name="([^"]+)">', page)
    buttons = re.findall(r'name="remove" value="([0-9a-f]+)"', page)
    assert len(rows) == len(buttons)
    return {unescape(name): upload for (_id, name), upload in zip(rows, buttons, strict=True)}


def test_a_kept_file_is_removed_without_javascript_and_the_others_keep_their_types(app):
    client = app.test_client()
    sign_in(client, sub="applicant-1", claims={"email": "a@example.org"})
    token = csrf_of(client, SEND)
    refused = client.post(SEND, content_type="multipart/form-data", data={
        "csrf_token": token, "file_1": (io.BytesIO(make_pdf("one")), "One.pdf"), "type_1": "letter",
        "file_2": (io.BytesIO(make_pdf("two")), "Two.pdf"), "type_2": "annex"})  # no confirmation
    assert refused.status_code == 400
    kept = kept_ids(refused.get_data(as_text=True))
    assert set(kept) == {"One.pdf", "Two.pdf"} and len(stored_files(app)) == 2
    removed = client.post(SEND, data={"csrf_token": token, "upload_ids": list(kept.values()),
                                      f"type_{kept['One.pdf']}": "letter", f"type_{kept['Two.pdf']}": "annex",
                                      "remove": kept["One.pdf"]})
    page = removed.get_data(as_text=True)
    assert removed.status_code == 200, "removing is not a refusal"
    assert "« One.pdf » a été retiré." in page and "error-summary" not in page
    assert list(kept_ids(page)) == ["Two.pdf"] and len(stored_files(app)) == 1, "its file and place are gone"
    two = page[page.index('data-name="Two.pdf"'):]
    assert re.search(r'<option value="annex" selected>', two[:two.index("</select>")]), "its type stays chosen"
    sent = client.post(SEND, data={"csrf_token": token, "upload_ids": kept["Two.pdf"],
                                   f"type_{kept['Two.pdf']}": "annex", "confirm": "yes"})
    assert sent.status_code == 302
    with app.extensions["db"].session() as session:
        assert [d.stored_name for d in session.scalars(select(Document))] == ["123-16_Two.pdf"]


def test_another_persons_kept_file_cannot_be_removed(app):
    owner = app.test_client()
    sign_in(owner, sub="applicant-1", claims={"email": "a@example.org"})
    token = csrf_of(owner, SEND)
    page = owner.post(SEND, content_type="multipart/form-data", data={
        "csrf_token": token, "file_1": (io.BytesIO(make_pdf("one")), "One.pdf"), "type_1": "letter"})
    [upload_id] = kept_ids(page.get_data(as_text=True)).values()
    other = app.test_client()
    sign_in(other, sub="applicant-2", claims={"email": "c@example.org"})
    other_send = "/applications/app-2/send"
    other.post(other_send, data={"csrf_token": csrf_of(other, other_send), "upload_ids": upload_id,
                                 "remove": upload_id})
    assert len(stored_files(app)) == 1, "the owner's file stays"


def test_each_row_has_its_own_ids_labels_and_the_page_one_live_region(app):
    client = app.test_client()
    sign_in(client, sub="applicant-1", claims={"email": "a@example.org"})
    page = client.post(SEND, content_type="multipart/form-data", data={
        "csrf_token": csrf_of(client, SEND), "file_1": (io.BytesIO(make_pdf("one")), "One.pdf"),
        "file_2": (io.BytesIO(make_pdf("two")), "Two.pdf")}).get_data(as_text=True)
    kept = page[page.index('id="staged-list"'):page.index("</fieldset>")]
    ids = re.findall(r' id="([^"]+)"', kept)
    assert len(ids) == len(set(ids)), "ids are unique"
    for select_id in re.findall(r'<select id="([^"]+)"', kept):
        label = re.search(rf'<label for="{select_id}">(.*?)</label>', kept, re.S).group(1)
        assert "Type de document" in label and (".pdf" in label)
    assert re.search(r'<p id="upload-announcer" class="visually-hidden" role="status" aria-live="polite">', page)
    template = page[page.index('<template id="file-row-template">'):]
    assert 'aria-labelledby="file-__ID__-name"' in template and 'id="file-__ID__-percent"' in template
