"""Help as the seed gives it: its whole FAQ (about forty questions) in its sections, each ending
with "Avez-vous trouvé la réponse à votre question ?" (answers counted, a "no" leads to support),
the directory links, the support line with its hours and the "Poursuivre" step."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from portals.justice import help_content
from portals.justice.models import HelpAnswer
from tests.portals.justice.conftest import csrf_of


def test_the_help_page_answers_the_seeds_questions(app):
    page = unescape(app.test_client().get("/help").get_data(as_text=True))
    assert help_content.QUESTION_COUNT >= 40
    assert len(re.findall(r"<h3>", page)) >= 40
    for question in ("Pourquoi votre espace personnel est-il vide lors de la 1ère connexion ?",
                     "Pouvez-vous recevoir plusieurs numéros d'identification pour une même affaire ?",
                     "Le consentement supprime-t-il tous les courriers papier ?",
                     "Comment localiser le tribunal en charge de votre dossier ?"):
        assert question in page, question
    assert page.count("Avez-vous trouvé la réponse à votre question ?") == len(help_content.SECTIONS)
    assert 'id="annuaires"' in page and "https://www.conciliateurs.fr/" in page and "www.cnb.avocat.fr" in page


def test_the_satisfaction_answer_is_counted_and_a_no_leads_to_support(app):
    client = app.test_client()
    token = csrf_of(client, "/help")
    yes = client.post("/help/feedback", data={"csrf_token": token, "section": "compte", "found": "yes"})
    assert yes.status_code == 302 and yes.headers["Location"].endswith("/help#compte")
    no = client.post("/help/feedback", data={"csrf_token": token, "section": "dossiers", "found": "no"})
    assert no.status_code == 302 and no.headers["Location"].endswith("/support")
    assert client.post("/help/feedback", data={"csrf_token": token, "section": "nope", "found": "yes"}).status_code == 400
    with app.extensions["db"].session() as session:
        assert sorted((a.section, a.found) for a in session.scalars(select(HelpAnswer))) == [
            ("compte", True), ("dossiers", False)]


def test_the_help_is_in_english_too(app):
    client = app.test_client()
    page = client.get("/help?lang=en").get_data(as_text=True)
    assert "Did you find the answer to your question?" in page and "How can you add a case?" in page
    assert "Comment pouvez-vous ajouter un dossier ?" not in page
