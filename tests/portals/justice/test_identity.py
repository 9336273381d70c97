"""Data minimisation (seed 001: "seule l'identité est contrôlée"): the space asks the identity
provider for its pseudonymous identifier and the name only — neither the provider's email nor the
birth claims — and a page says what it uses and why."""

from __future__ import annotations

from shared.rp.client import RelyingParty


def test_the_space_asks_for_the_least_identity(app):
    with app.app_context():
        requested = set(RelyingParty.from_config(app.config["SETTINGS"], "justice").scope.split())
    assert requested == {"openid", "profile"}


def test_a_page_says_what_the_space_uses_and_why(app):
    page = app.test_client().get("/data-protection").get_data(as_text=True)
    assert "Ce que votre espace personnel utilise, et pourquoi" in page
    assert "ni votre adresse électronique, ni vos date, lieu et pays de naissance" in page
