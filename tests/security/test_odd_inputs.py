"""Odd characters where the apps put what a visitor typed into a response header: ``next``
(every app's redirects), the file name in a receipt's ``Content-Disposition``, a sign-out form
without its token. Each gets a clear answer or a safe fallback, never a server error."""

from __future__ import annotations

import pytest
from werkzeug.http import parse_options_header

from shared.web import safe_local_path
from tests.security.test_web_matrix import apps

ODD_NEXT = [
    "/a\r\nSet-Cookie: planted=1",  # header splitting
    "/a\nb", "/a\rb", "/\x00", "/a\x1bb", "/a\x7fb",  # other control characters
    "/\u2028x", "/\u202eevil", "/\u200bx",  # line separator, right-to-left override, zero-width space
    "/" + "a" * 5000,  # far longer than any of our paths
]


@pytest.fixture(scope="module")
def all_apps(tmp_path_factory):
    return apps(tmp_path_factory.mktemp("odd"))


@pytest.mark.parametrize("target", ODD_NEXT, ids=lambda t: repr(t)[:24])
def test_odd_characters_in_next_fall_back_to_the_home_page_on_every_app(all_apps, target):
    for name, app in all_apps.items():
        client = app.test_client()
        switched = client.get("/lang/en", query_string={"next": target})
        assert switched.status_code == 302 and switched.headers["Location"] == "/", (name, switched.status_code)
        page = client.get("/", follow_redirects=True)
        token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
        toggled = client.post("/accessibility", data={"csrf_token": token, "mode": "on", "next": target})
        assert toggled.status_code == 302 and toggled.headers["Location"] == "/", (name, toggled.status_code)
        assert "planted" not in str(toggled.headers)
    signin = all_apps["idp"].test_client().get("/signin", query_string={"next": target})
    assert signin.status_code < 500


def test_no_page_of_any_app_answers_a_server_error_to_a_crlf_next(all_apps):
    """Every GET page without URL parameters, with ``?next=`` carrying CR LF (the portals' /login
    answers 503 here only because no IdP runs in this test: it is the IdP-unreachable page)."""
    for name, app in all_apps.items():
        client = app.test_client()
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or "<" in rule.rule or (name != "idp" and rule.rule == "/login"):
                continue
            answer = client.get(rule.rule, query_string={"next": ODD_NEXT[0]})
            assert answer.status_code < 500, (name, rule.rule, answer.status_code)


def test_safe_local_path_keeps_ordinary_paths():
    assert safe_local_path("/applications/1?tab=sent") == "/applications/1?tab=sent"
    assert safe_local_path("/recherche?q=Département de l'Ain") == "/recherche?q=Département de l'Ain"
    for odd in ODD_NEXT:
        assert safe_local_path(odd, "/home") == "/home"


@pytest.mark.parametrize("portal", ["ecomms", "justice", "eservices"])
@pytest.mark.parametrize("lang, message", [("fr", "Le formulaire a expiré"), ("en", "The form has expired")])
def test_signing_out_without_the_form_token_is_a_clear_400(all_apps, portal, lang, message):
    from shared.rp.testing import sign_in

    client = all_apps[portal].test_client()
    client.set_cookie("lang", lang)
    for signed_in in (False, True):
        if signed_in:
            sign_in(client, sub="someone", claims={"email": "someone@example.org", "name": "Someone"})
        answer = client.post("/logout")
        assert answer.status_code == 400 and message in answer.get_data(as_text=True), (portal, signed_in)


def test_the_receipt_file_name_is_quoted_whatever_the_applicant_called_the_file(tmp_path):
    """A quote and a semicolon are allowed in an ASCII file name: they stay inside the name."""
    from urllib.parse import quote

    from sqlalchemy import select

    from portals.ecomms import create_app, upgrade_database
    from portals.ecomms.models import Application, Document
    from shared.rp.testing import sign_in
    from tests.portals.ecomms.conftest import csrf_of, make_pdf

    url = f"sqlite:///{tmp_path / 'ecomms.db'}"
    upgrade_database(url)
    app = create_app({"database_url": url, "instance_path": tmp_path, "_quiet": True,
                      "raw": {"outbox": {"manual": True}}})
    with app.extensions["db"].session() as session:
        session.add(Application(id="app-1", number="123/16", title="A c. B", applicant_email="a@example.org",
                                applicant_sub="applicant-1", created_by="registry"))
    client = app.test_client()
    sign_in(client, sub="applicant-1")
    name = 'Lettre "urgente"; filename=evil.exe.pdf'
    token = csrf_of(client, "/applications/app-1/send")
    staged = client.post("/applications/app-1/uploads", data=make_pdf(), headers={
        "X-CSRFToken": token, "X-File-Name": quote(name), "Content-Type": "application/pdf"})
    upload_id = staged.get_json()["id"]
    sent = client.post("/applications/app-1/send", data={"csrf_token": token, "upload_ids": upload_id,
                                                         f"type_{upload_id}": "letter", "confirm": "yes"})
    assert sent.status_code == 302
    with app.extensions["db"].session() as session:
        document_id = session.scalar(select(Document.id))
    answer = client.get(f"/documents/{document_id}/receipt")
    disposition, options = parse_options_header(answer.headers["Content-Disposition"])
    assert disposition == "attachment"
    assert options == {"filename": 'receipt-123-16_Lettre "urgente"; filename=evil.exe.jws'}
