"""The registration page in Chromium (review of seed 002's "Inscription"): the "new organisation"
fieldset shows only when "Mon organisation n'est pas dans la liste" is chosen (without JavaScript it
stays visible and says whom it is for), its required fields carry the same red marker as every other
field, and registering in an organisation of the list creates no organisation."""

from __future__ import annotations

import secrets

import pytest

from idp.services import organisations as orgs
from idp.storage.sql.organisations import OrganisationStore
from tests.idp.helpers import start_idp
from tests.idp.organisations.conftest import org_data

pytestmark = pytest.mark.browser
SHOTS = "/tmp/orgpolish-shots"


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('register')}/idp.db", raw={"outbox": {"manual": True}})
    with server.app.extensions["db"].session() as session:
        orgs.create_organisation(OrganisationStore(session), org_data("Mairie A", "111111118"))
    yield server
    server.stop()


def organisations(app) -> list[tuple[str, str]]:
    with app.extensions["db"].session() as session:
        return [(o.id, o.name) for o in OrganisationStore(session).organisations()]


def test_the_new_organisation_fieldset_shows_only_when_new_is_chosen(idp, chromium):
    context = chromium.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(idp.url + "/organisations/inscription")
    fieldset = page.locator("#new-organisation")
    options = page.locator("#organisation_id option").all_inner_texts()
    assert [o for o in options if "pas dans la liste" in o or "Nouvelle organisation" in o] == [
        "Mon organisation n'est pas dans la liste (administrateur uniquement)"], options
    assert not fieldset.is_visible(), "nothing chosen yet: no new-organisation fields"
    page.locator("#organisation_id").select_option("new")
    assert fieldset.is_visible() and page.get_by_label("Nom de l'organisation").is_visible()
    assert not page.locator("#new-organisation-when").is_visible(), "the no-script sentence goes with the script"
    # the same red, screen-reader-silent marker as the other required fields, no bare "*" in the text
    color = "e => getComputedStyle(e).color"
    role_marker = page.locator("legend .required").first.evaluate(color)
    assert role_marker != "rgb(0, 0, 0)"
    for label in ("org_name", "org_kind", "org_address_line", "org_postcode", "org_city", "legal_rep_name",
                  "legal_rep_title", "terms"):
        marker = page.locator(f"label[for={label}] .required")
        assert marker.inner_text() == "*" and marker.get_attribute("aria-hidden") == "true", label
        assert marker.evaluate(color) == role_marker, label
        assert page.locator(f"label[for={label}]").inner_text().count("*") == 1, f"{label}: one marker, no black one"
    assert page.locator("label[for=org_siren] .required").count() == 0, "SIREN stays optional"
    page.screenshot(path=f"{SHOTS}/register-new.png", full_page=True)
    page.locator("#organisation_id").select_option(label="Mairie A (68160 Lièpvre)")
    assert not fieldset.is_visible()
    context.close()


def test_without_javascript_the_fieldset_stays_and_says_it_is_for_a_new_organisation(idp, chromium):
    context = chromium.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    page.goto(idp.url + "/organisations/inscription")
    assert page.locator("#new-organisation").is_visible()
    assert page.locator("#new-organisation-when").inner_text() == (
        "Seulement si vous avez choisi « Mon organisation n'est pas dans la liste » : ces champs sont alors à remplir.")
    page.screenshot(path=f"{SHOTS}/register-nojs.png", full_page=True)
    context.close()


def test_registering_in_an_organisation_of_the_list_creates_none(idp, chromium):
    before = organisations(idp.app)
    context = chromium.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(idp.url + "/organisations/inscription")
    page.get_by_label("Utilisateur").check()
    page.locator("#organisation_id").select_option(label="Mairie A (68160 Lièpvre)")
    page.locator("#given_name").fill("Alex")
    page.locator("#family_name").fill("Martin")
    page.get_by_label("Adresse électronique").fill(f"alex-{secrets.token_hex(4)}@example.org")
    page.locator("#terms").check()
    page.get_by_role("button", name="Valider").click()
    page.get_by_role("heading", name="Inscription enregistrée").wait_for()
    assert "L'administrateur de « Mairie A » doit valider votre inscription" in page.content()
    assert organisations(idp.app) == before, "no organisation made from the hidden fieldset"
    context.close()
