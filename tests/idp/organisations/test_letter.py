"""The legal representative's letter as an official document: a sender block and the reference,
the validity, how to report an unexpected request, and every name printed as typed (a Unicode
font: no "?" for names outside Latin-1, the guillemets kept)."""

from __future__ import annotations

import io
import os

import pytest
from pypdf import PdfReader

from idp.services import org_letter
from idp.services import organisations as orgs
from idp.storage.sql.organisations import OrganisationStore
from shared.timeutil import utcnow
from tests.idp.organisations.conftest import CODE_URL, make_person, org_data


def pdf_text(letter) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(org_letter.letter_pdf(letter))).pages)


@pytest.fixture
def letter(database):
    if not (org_letter.FONT_DIR / "DejaVuSans.ttf").exists():
        if os.environ.get("CI"):
            pytest.fail("fonts-dejavu-core is not installed (.ci/run installs it)")
        pytest.skip("fonts-dejavu-core is not installed")
    with database.session() as session:
        store = OrganisationStore(session)
        organisation = orgs.create_organisation(store, {**org_data("Mairie de Łęczyca-sur-Ôdre", "216801803"),
                                                        "legal_rep_name": "Zoë NGUYỄN"})
        candidate = make_person(store, "Łukasz", "ÖZTÜRK", "lukasz@example.org")
        _m, letter = orgs.join_organisation(store, candidate, organisation, "administrator", utcnow(), CODE_URL)
        session.expunge_all()
    return letter


def test_every_name_prints_as_typed_with_its_guillemets(letter):
    text = " ".join(pdf_text(letter).split())  # lines wrap where the page wants
    for typed in ("Łukasz", "ÖZTÜRK", "Mairie de Łęczyca-sur-Ôdre", "Zoë NGUYỄN", "« Courrier des codes de confirmation »"):
        assert typed in text, typed
    assert "?" not in text.replace("Vous n'attendiez pas ce courrier, ou quelqu'un vous demande ces codes ?", "")


def test_the_letter_says_who_writes_how_long_and_how_to_report_it(letter):
    text = " ".join(pdf_text(letter).split())
    assert text.startswith("Portail e-services des organisations http://localhost:8003/")
    assert f"Référence : {letter.request.reference}" in text
    assert "À saisir avant le" in text
    assert "http://localhost:8003/assistance" in text and "Signalez-le" in text
    _subject, body = org_letter.letter_text(letter)
    assert "Signalez-le" in body and body.startswith("Portail e-services des organisations")
