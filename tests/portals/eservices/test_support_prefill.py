"""The support form at the bottom of every page starts, for a signed-in person, with the name and
address their account gave the portal, and both stay editable; a signed-out visitor gets an empty
form, and no link can pre-fill it (the desk answers the address in the form)."""

from __future__ import annotations

import re

from portals.eservices.models import SupportRequest
from tests.portals.eservices.test_procedures import TOWN, answer_for, member, page, token

PAGES = ("/", "/catalogue", "/e-services/etat-civil", "/aide", "/representant-legal", "/assistance")


def field(html: str, name: str) -> str:
    """The support form's <input> for ``name``, as the browser receives it."""
    return re.search(rf'<input id="{name}"[^>]*>', html.split('id="support-form"')[1]).group(0)


def value(html: str, name: str) -> str:
    return re.search(r'value="([^"]*)"', field(html, name)).group(1)


def test_a_signed_in_person_finds_name_and_address_filled_in_on_every_page(app):
    answers = {}
    answer_for(app, answers)
    anne = member(app, answers, "anne", TOWN, ["etat-civil"])
    for path in PAGES:
        html = page(anne.get(path))
        assert (value(html, "support_name"), value(html, "support_email")) == ("Anne Test", "anne@example.org"), path
        for name in ("support_name", "support_email"):
            assert not re.search(r"\b(readonly|disabled)\b", field(html, name)), f"{name} must stay editable"
        assert "sont repris de votre compte ; vous pouvez les modifier." in html, path
    assert "come from your account; you may change them." in page(anne.get("/aide?lang=en"))


def test_what_the_person_types_instead_is_what_the_desk_answers(app):
    answers = {}
    answer_for(app, answers)
    anne = member(app, answers, "anne", TOWN, ["etat-civil"])
    sent = anne.post("/assistance", data={
        "csrf_token": token(anne, "/aide"), "support_name": "Secrétariat de mairie",
        "support_email": "mairie@liepvre.example", "support_topic": "autre", "support_message": "Une question.",
        "page": "/aide"})
    assert sent.status_code == 200
    with app.extensions["db"].session() as session:
        stored = session.query(SupportRequest).one()
        assert (stored.name, stored.email, stored.sub) == ("Secrétariat de mairie", "mairie@liepvre.example", "anne")


def test_a_form_returned_with_errors_keeps_what_was_typed_not_the_account(app):
    answers = {}
    answer_for(app, answers)
    anne = member(app, answers, "anne", TOWN, ["etat-civil"])
    refused = anne.post("/assistance", data={"csrf_token": token(anne, "/aide"), "support_name": "Secrétariat",
                                             "support_email": "", "support_topic": "autre", "support_message": "x"})
    html = page(refused)
    assert refused.status_code == 400
    assert (value(html, "support_name"), value(html, "support_email")) == ("Secrétariat", "")
    assert "repris de votre compte" not in html


def test_nobody_signed_in_and_no_link_fills_the_form(app):
    answers = {}
    answer_for(app, answers)
    visitor = app.test_client()
    for path in ("/aide", "/assistance?support_email=attacker@evil.example&support_name=Desk"):
        html = page(visitor.get(path))
        assert (value(html, "support_name"), value(html, "support_email")) == ("", ""), path
        assert "repris de votre compte" not in html
    anne = member(app, answers, "anne", TOWN, ["etat-civil"])
    html = page(anne.get("/aide?support_email=attacker@evil.example"))
    assert value(html, "support_email") == "anne@example.org" and "attacker" not in html.split('id="support-form"')[1]
