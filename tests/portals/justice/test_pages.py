"""What a person sees on the justice pages (seed 001): coloured icons drawn inline (SVG, each beside
its text label, no emoji that render as empty boxes), a "Détail" button on each case card, the
number email's link usable as written (no punctuation glued to it)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from sqlalchemy import select

from portals.justice.models import Attachment
from tests.portals.justice.conftest import make_case, outbox
from tests.portals.justice.test_space import add, citizen

TEMPLATES = Path(__file__).resolve().parents[3] / "portals" / "justice" / "templates"


def pictographs(text: str) -> set[str]:
    """Characters drawn from a symbol font (emoji, dingbats, miscellaneous symbols)."""
    return {ch for ch in text if unicodedata.category(ch) == "So" or 0x2600 <= ord(ch) <= 0x27BF
            or ord(ch) >= 0x1F000}


def test_no_template_relies_on_a_symbol_font():
    for template in TEMPLATES.rglob("*.html"):
        assert not pictographs(template.read_text()), template.name


def test_the_case_page_draws_each_kind_with_an_icon_and_its_label(app):
    [number] = make_case(app, "RG 24/00030", hearing_in_days=5, document_days_ago=2).values()
    client = citizen(app)
    add(client, app, number)
    with app.extensions["db"].session() as session:
        attachment = session.scalars(select(Attachment)).one()
        attachment.party.case.court_address = "19 avenue de la Paix, 67000 Strasbourg"
        attachment_id = attachment.id
    page = client.get(f"/cases/{attachment_id}").get_data(as_text=True)
    assert not pictographs(page)
    for kind, label in (("hearing", "Audience"), ("document", "Document"), ("location", "Adresse :")):
        assert re.search(rf'<svg class="icon icon--{kind}"[^>]*aria-hidden="true".*?</svg>\s*(<span[^>]*>)?{label}',
                         page, re.S), kind
    home = client.get("/").get_data(as_text=True)
    assert re.search(rf'<a class="button button--small" href="/cases/{attachment_id}">Détail', home)


def test_the_number_emails_link_has_nothing_glued_to_it(app):
    make_case(app, "RG 24/00031")
    body = outbox(app, "email")[-1].body_text
    [line] = [line for line in body.splitlines() if "http" in line]
    assert re.fullmatch(r"https?://\S+/", line.strip()), line
