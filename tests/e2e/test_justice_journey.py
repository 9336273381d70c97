"""Seed 001 end to end in Chromium, through a live IdP and two live sandbox providers: sign in with
impots, add a case with the SMS code read from the dev inbox, search, filter, export ICS (parsed
back), detach; the same person through ameli lands in the same space; another citizen sees nothing."""

from __future__ import annotations

import os
import re
import secrets
from contextlib import ExitStack

import pytest
from icalendar import Calendar

from tests.idp.federation.helpers import live_sandbox
from tests.idp.helpers import start_idp
from tests.portals.justice.conftest import make_case
from tests.servers import LiveServer, free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def stack(tmp_path, monkeypatch, devinbox):
    from idp.services import clients
    from portals.justice import create_app, upgrade_database

    port = free_port()
    portal_url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("JUSTICE_PUBLIC_URL", portal_url)
    idp = start_idp(f"sqlite:///{tmp_path / 'idp.db'}", **devinbox.settings())
    with ExitStack() as stack:
        providers = {}
        for name, levels in (("impots", ["eidas1"]), ("ameli", ["eidas1"])):
            secret = secrets.token_urlsafe(16)
            _app, url = stack.enter_context(live_sandbox(name, idp_issuer=idp.url, client_secret=secret))
            env = f"TEST_JUSTICE_{name.upper()}_SECRET"
            os.environ[env] = secret
            providers[name] = {"issuer": url, "client_id": "civic-idp", "client_secret_env": env, "display_name": name,
                               "logo": f"federation/{name}.svg", "scopes": ["openid", "profile", "email", "birth"],
                               "acr_levels": levels, "sandbox": True, "identity": "pivot"}
        idp.app.config["UPSTREAM_PROVIDERS"] = providers
        idp.app.extensions.pop("upstreams", None)
        with idp.app.app_context():
            _client, secret = clients.create(
                "Justice – espace personnel", [f"{portal_url}/callback"], post_logout_redirect_uris=[f"{portal_url}/"],
                backchannel_logout_uri=f"{portal_url}/backchannel-logout", client_id="justice", first_party=True,
                scope="openid profile offline_access",
                policy={"require_federation": True, "require_pivot": True, "default_acr": "eidas1"})
        monkeypatch.setenv("JUSTICE_CLIENT_SECRET", secret)
        database = f"sqlite:///{tmp_path / 'justice.db'}"
        upgrade_database(database)
        (tmp_path / "justice-instance").mkdir()
        app = create_app({"database_url": database, "issuer": idp.url, "_quiet": True,
                          "instance_path": tmp_path / "justice-instance", **devinbox.settings()})
        portal = LiveServer(app, port).start()
        yield idp, portal, devinbox
        portal.stop()
    idp.stop()



def sign_in(page, portal_url: str, provider: str, login: str, password: str) -> None:
    page.goto(portal_url + "/")
    page.get_by_role("link", name="Accéder à votre espace personnel").first.click()
    page.get_by_role("button", name=f"Se connecter avec {provider}").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(password)
    page.locator("button[value=login]").click()
    page.wait_for_selector("form[action$='/logout']")


def add_case(page, devinbox, number: str, phone: str, count: int) -> None:
    page.get_by_role("link", name="Ajouter un dossier").first.click()
    page.get_by_label("Numéro d'identification").fill(number)
    page.get_by_role("button", name="Obtenir le code par SMS").click()
    assert "+33" not in page.content()  # the phone is masked
    text = devinbox.wait_for(phone, count=count, channel="sms")[0]["text"]
    page.get_by_label("Code reçu par SMS").fill(re.search(r"est (\d{6})", text).group(1))
    page.get_by_role("button", name="Valider").click()
    page.get_by_text("Ce dossier vient d'être ajouté à votre compte.").wait_for()


def test_citizen_journey_through_two_providers(stack, chromium, tmp_path):
    idp, portal, devinbox = stack
    numbers = {}
    for index, (reference, court) in enumerate((("RG 24/00001", "Tribunal judiciaire de Strasbourg"),
                                                 ("RG 24/00002", "Tribunal judiciaire de Colmar"))):
        with portal.app.app_context():
            numbers[reference] = next(iter(make_case(
                portal.app, reference, court=court, hearing_in_days=10 + index,
                parties=(("Demandeur", "DUBOIS", f"Angela{index}"),)).values()))
    page = chromium.new_context(locale="fr-FR", accept_downloads=True).new_page()
    sign_in(page, portal.url, "impots", "1234567890123", "Sandbox-Impots-1")
    assert "Votre espace personnel est vide" in page.content()
    # asking a new code too soon keeps the code field, says how long to wait and counts down
    page.get_by_role("link", name="Ajouter un dossier").first.click()
    page.get_by_label("Numéro d'identification").fill(numbers["RG 24/00001"])
    page.get_by_role("button", name="Obtenir le code par SMS").click()
    first = re.search(r"est (\d{6})", devinbox.wait_for("+33612340000", count=1, channel="sms")[0]["text"]).group(1)
    page.get_by_role("button", name="Recevoir un nouveau code").click()
    wait = page.locator("#resend-wait")
    shown = wait.inner_text()
    assert "Vous pourrez demander un nouveau code dans" in shown and page.get_by_label("Code reçu par SMS").is_visible()
    page.wait_for_function("([el, text]) => el.textContent !== text", arg=[wait.element_handle(), shown])
    page.get_by_label("Code reçu par SMS").fill(first)
    page.get_by_role("button", name="Valider").click()
    page.get_by_text("Ce dossier vient d'être ajouté à votre compte.").wait_for()
    add_case(page, devinbox, numbers["RG 24/00002"], "+33612340000", 2)
    assert page.content().count("Divorce — RG 24/0000") == 2

    page.get_by_label("Trier par").select_option("court")
    page.get_by_role("button", name="Trier").click()
    assert page.locator(".case-card h3").first.inner_text().endswith("RG 24/00002")  # Colmar first

    # export both upcoming hearings as ICS, parsed back
    page.get_by_role("link", name="Exporter dans mon calendrier").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Exporter").click()
    ics = tmp_path / "audiences.ics"
    download.value.save_as(ics)
    events = Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    assert sorted(str(e["summary"]).split(" — ")[1] for e in events) == ["RG 24/00001", "RG 24/00002"]

    # the same person through ameli lands in the same space
    page.get_by_role("button", name="Se déconnecter").click()
    sign_in(page, portal.url, "ameli", "2620875107001", "Sandbox-Ameli-1")
    assert page.content().count("Divorce — RG 24/0000") == 2

    # detach one, with the seed's message
    page.get_by_role("link", name=re.compile(r"RG 24.00001")).first.click()
    page.get_by_role("button", name="Détacher ce dossier").click()
    assert "n'annule ni votre consentement" in page.inner_text("main")
    assert page.content().count("Divorce — RG 24/0000") == 1

    # another citizen: the attached case is not visible, the number of someone else is refused
    other = chromium.new_context(locale="fr-FR").new_page()
    sign_in(other, portal.url, "impots", "2345678901234", "Sandbox-Impots-2")
    assert "Votre espace personnel est vide" in other.content()
    case_link = page.get_by_role("link", name=re.compile(r"RG 24.00002")).first.get_attribute("href")
    assert other.goto(portal.url + case_link).status == 404
