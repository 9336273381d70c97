"""Portal pages that need no IdP: Help (seed 002's FAQ), the support form on every page, the legal
representative's form checks, and the catalogue."""

from __future__ import annotations

import re

from portals.eservices.models import SupportRequest

FAQ_QUESTIONS = [
    "Qui valide les utilisateurs et comment ?", "Qui valide le compte administrateur ?",
    "Qu'est-ce que le représentant légal ?", "Qu'est-ce que l'administrateur ?",
    "Je suis utilisateur dans plusieurs organisations", "Je suis l'administrateur de plusieurs organisations",
    "Mon compte est désactivé", "Vous avez un prénom ou un nom composé",
    "Quelles sont les règles pour composer mon mot de passe ?",
    "Le courrier qui contient les codes de confirmation pour valider l'administrateur ne m'est pas parvenu",
    "Le bouton « valider » ne fonctionne pas", "Je n'ai pas reçu de courriel de confirmation",
    "Changer d'administrateur alors que la première inscription n'est pas validée par le représentant légal",
]


def text(response) -> str:
    import html

    return html.unescape(response.get_data(as_text=True))


def csrf_token(client, path="/"):
    return re.search(r'name="csrf_token" value="([^"]+)"', text(client.get(path))).group(1)


def test_help_answers_every_question_of_the_seed(client):
    page = text(client.get("/aide"))
    for question in FAQ_QUESTIONS:
        assert question in page
    assert "frederic-dupont-dura" in page
    assert "5 jours ouvrables" in page


def test_help_in_english(client):
    page = text(client.get("/aide?lang=en"))
    assert "Who does what?" in page and "frederic-dupont-dura" in page


def test_every_page_ends_with_the_support_form(client):
    for path in ("/", "/catalogue", "/aide", "/representant-legal", "/assistance"):
        page = text(client.get(path))
        assert 'id="support-form"' in page, path


def test_support_request_is_stored_and_acknowledged(client, app):
    token = csrf_token(client, "/aide")
    response = client.post("/assistance", data={
        "csrf_token": token, "support_name": "Anne Faure", "support_email": "anne@example.org",
        "support_topic": "courrier", "support_message": "Le courrier n'est pas arrivé.", "page": "/aide"})
    assert response.status_code == 200
    reference = re.search(r"AS-[0-9A-F]{8}", text(response)).group(0)
    with app.extensions["db"].session() as session:
        stored = session.query(SupportRequest).one()
        assert (stored.reference, stored.topic, stored.page) == (reference, "courrier", "/aide")


def test_a_support_request_reaches_the_support_desk_and_its_list(client, app):
    """The seed's way back for a dormant account and a lost letter: the request is emailed to the
    configured support address (through the outbox) and listed by the desk's command."""
    import json

    from portals.eservices.models import OutboxMessage

    app.config["SUPPORT_ADDRESS"] = "desk@support.example"
    response = client.post("/assistance", data={
        "csrf_token": csrf_token(client, "/aide"), "support_name": "Anne\nFaure", "support_email": "anne@example.org",
        "support_topic": "compte", "support_message": "Mon compte est désactivé (100 % sûr).", "page": "/aide"})
    reference = re.search(r"AS-[0-9A-F]{8}", text(response)).group(0)
    with app.extensions["db"].session() as session:
        (desk,) = session.query(OutboxMessage).filter_by(recipient="desk@support.example").all()
        acknowledgment = session.query(OutboxMessage).filter_by(recipient="anne@example.org").one()
    assert desk.subject == f"[{reference}] Demande d'assistance (compte)"
    assert "Nom : Anne Faure\n" in desk.body_text and "anne@example.org" in desk.body_text
    assert "Mon compte est désactivé (100 % sûr)." in desk.body_text
    assert reference in acknowledgment.subject
    listed = app.test_cli_runner().invoke(args=["support", "list"])
    assert listed.exit_code == 0
    (line,) = [json.loads(row) for row in listed.output.splitlines()]
    assert (line["reference"], line["email"], line["topic"]) == (reference, "anne@example.org", "compte")
    assert app.test_cli_runner().invoke(args=["support", "close", reference.lower()]).exit_code == 0
    assert app.test_cli_runner().invoke(args=["support", "list"]).output == ""
    assert reference in app.test_cli_runner().invoke(args=["support", "list", "--all"]).output


def test_support_request_refuses_missing_fields_and_stores_nothing(client, app):
    token = csrf_token(client)
    response = client.post("/assistance", data={"csrf_token": token, "support_email": "not-an-address"})
    assert response.status_code == 400
    page = text(response)
    assert "Indiquez votre nom" in page and "Indiquez une adresse électronique valide" in page
    with app.extensions["db"].session() as session:
        assert session.query(SupportRequest).count() == 0


def test_support_form_needs_the_csrf_token(client):
    response = client.post("/assistance", data={"support_name": "x", "support_email": "a@b.fr",
                                                "support_topic": "autre", "support_message": "m"})
    assert response.status_code == 400


def test_legal_representative_form_names_missing_fields(client):
    token = csrf_token(client, "/representant-legal")
    response = client.post("/representant-legal", data={"csrf_token": token, "reference": "ADM-XXXXXX"})
    assert response.status_code == 400
    page = text(response)
    assert "Indiquez le code de confirmation n° 1" in page and "Indiquez le code de confirmation n° 2" in page


def test_catalogue_lists_every_eservice_with_its_page(client):
    page = text(client.get("/catalogue"))
    for name in ("Actes d'état civil", "Listes électorales", "Demandes de subvention"):
        assert name in page
    assert "/e-services/etat-civil" in page


def test_eservice_page_requires_sign_in(client):
    response = client.get("/e-services/etat-civil")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
