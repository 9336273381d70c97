"""The registry's flows in Chromium, French and English, at 360 px: the people of an application (a
lawyer attached through the live IdP's invitation, a role changed), the work queue (searched, a
filing marked processed) and the ZIP downloaded; axe and the overflow check on each page.
``REGISTRY_SCREENSHOTS=<folder>`` keeps a screenshot of each step for a person to look at."""

from __future__ import annotations

import io
import os
import secrets
import zipfile
from pathlib import Path

import pytest

from portals.ecomms.models import Application
from shared.rp.testing import sign_in
from tests.portals.ecomms.conftest import make_pdf
from tests.portals.ecomms.live import live_stack

pytestmark = pytest.mark.browser
WORDS = {
    "fr": {"people": "Gérer les personnes rattachées", "attach": "Rattacher la personne", "email": "Adresse électronique",
           "role": "Rôle", "pending": "Invitation envoyée : compte pas encore activé", "queue": "File de travail",
           "party": "Partie", "search": "Rechercher", "processed": "Marquer comme traité", "done": "Traité",
           "zip": "Télécharger tous les documents (ZIP)", "language": "Langue des courriels"},
    "en": {"people": "Manage the people attached", "attach": "Attach the person", "email": "Email address",
           "role": "Role", "pending": "Invitation sent: account not activated yet", "queue": "Work queue",
           "party": "Party", "search": "Search", "processed": "Mark as processed", "done": "Processed",
           "zip": "Download all documents (ZIP)", "language": "Language of the emails"},
}


@pytest.fixture
def stack(tmp_path, monkeypatch, devinbox):
    yield from live_stack(tmp_path, monkeypatch, devinbox)


def registry_browser(chromium, portal, width: int):
    client = portal.app.test_client()
    sign_in(client, sub="registry-1", claims={"roles": ["registry"], "name": "Greta GREFFE"})
    name = portal.app.config["SESSION_COOKIE_NAME"]
    context = chromium.new_context(locale="fr-FR", bypass_csp=True, accept_downloads=True,
                                   viewport={"width": width, "height": 900})
    context.add_cookies([{"name": name, "value": client.get_cookie(name).value, "url": portal.url}])
    return context.new_page()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_registry_attaches_a_lawyer_works_the_queue_and_downloads_the_zip(chromium, stack, language):
    from tests.a11y.axe import violations
    from tests.a11y.checks import page_problems

    idp, portal = stack
    words = WORDS[language]
    with portal.app.extensions["db"].session() as session:
        session.add(Application(id="app-1", number="123/16", title="Dupont c. France", applicant_email="a@example.org",
                                applicant_sub="applicant-1", created_by="registry"))
    applicant = portal.app.test_client()
    sign_in(applicant, sub="applicant-1", claims={"email": "a@example.org"})
    token = applicant.get("/applications/app-1/send").get_data(as_text=True).split('name="csrf_token" value="')[1]
    assert applicant.post("/applications/app-1/send", content_type="multipart/form-data", data={
        "csrf_token": token.split('"')[0], "confirm": "yes", "type_1": "observations",
        "file_1": (io.BytesIO(make_pdf("memoire")), "Memoire.pdf")}).status_code == 302
    shots = os.environ.get("REGISTRY_SCREENSHOTS")
    found: dict[str, list[str]] = {}

    def check(step: str, page) -> None:
        page.wait_for_load_state("load")  # measured once the page and its stylesheets are there
        found[step] = page_problems(page) + [v["id"] for v in violations(page)]
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/{language}-{step}.png", full_page=True)

    page = registry_browser(chromium, portal, 360)
    page.goto(f"{portal.url}/lang/{language}?next=/applications/app-1")
    page.get_by_role("link", name=words["people"]).click()
    page.wait_for_url("**/registry/applications/app-1/people")
    check("people", page)
    lawyer = f"avocat-{secrets.token_hex(3)}@example.org"
    page.locator("#email").fill(lawyer)
    page.locator("#role").select_option("representative")
    page.locator("#locale").select_option("en")
    page.get_by_role("button", name=words["attach"]).click()
    row = page.locator("tr", has_text=lawyer)
    row.get_by_text(words["pending"]).wait_for()
    check("people-attached", page)

    page.get_by_role("link", name=words["queue"]).first.click()
    page.wait_for_url("**/registry/queue")
    page.get_by_label(words["party"]).fill("Dupont")
    page.get_by_role("button", name=words["search"]).click()
    page.wait_for_url("**/registry/queue?*party=Dupont*")
    assert page.locator("tbody tr").count() == 1
    check("queue", page)
    page.get_by_role("button", name=words["processed"]).click()
    page.locator("tbody tr").get_by_text(words["done"], exact=True).wait_for()
    check("queue-processed", page)

    page.goto(f"{portal.url}/applications/app-1")
    with page.expect_download() as download:
        page.get_by_role("link", name=words["zip"]).click()
    archive = zipfile.ZipFile(download.value.path())
    assert archive.namelist() == ["sent/123-16_Memoire.pdf", "SHA256SUMS"]
    assert download.value.suggested_filename == "123-16_documents.zip"
    assert not any(found.values()), found
