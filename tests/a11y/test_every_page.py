"""Every HTML page of the three portals, the IdP's sign-in pages as each portal sends a person there,
and the dev inbox's pages, in French and in English at 360 px (issue 20): no horizontal overflow, no
character a font may lack (emoji, symbols), and nothing axe-core finds. The portals' pages are found
from their URL rules (every GET rule answering HTML to the owner of the IDOR matrix's scene), so a
new page is checked without being listed; eComms' Sent list is also checked at 900 px with long file
names. The IdP's other pages: tests/a11y/test_idp_pages.py."""

from __future__ import annotations

import io
import re
from html import unescape
from urllib.parse import urlencode

import pytest

from tests.a11y.axe import violations
from tests.a11y.checks import page_problems
from tests.idp.helpers import make_client, pkce, start_idp
from tests.portals.ecomms.conftest import make_pdf
from tests.security.test_idor_matrix import SCENES, path_for
from tests.servers import LiveServer, free_port

pytestmark = pytest.mark.browser
NOT_PAGES = ("static", "frame.", "rp.", "court_api.", "api.", "styleguide.")
WIDTH = 360
CHECKED = ("ecomms", "justice", "eservices")


def html_paths(scene) -> list[str]:
    """The paths of every GET rule that answers an HTML page to the scene's owner."""
    paths = []
    for rule in sorted(scene.app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint.startswith(NOT_PAGES) or rule.endpoint == "static":
            continue
        if not set(rule.arguments) <= set(scene.ids):
            continue
        path = path_for(scene.app, rule, scene.ids, "GET") if rule.arguments else rule.rule
        answer = scene.owner.get(path)
        if answer.status_code == 200 and answer.mimetype == "text/html":
            paths.append(path)
    return [*paths, "/no-such-page"]


def sweep(page, label: str, found: dict[str, list[str]], language: str) -> None:
    assert page.locator("html").get_attribute("lang") == language, label
    problems = page_problems(page)
    problems += [f"axe {v['id']} ({v['impact']}): {v['help']} at {v['targets']}" for v in violations(page)]
    if problems:
        found[f"{language} {label}"] = problems


def report(found: dict[str, list[str]]) -> str:
    return "\n" + "\n".join(f"{where}: {problem}" for where, problems in found.items() for problem in problems)


@pytest.fixture(scope="module")
def portals(tmp_path_factory):
    served = {}
    for name in CHECKED:
        scene = SCENES[name](tmp_path_factory.mktemp(name))
        served[name] = (scene, LiveServer(scene.app, free_port()).start(), html_paths(scene))
    yield served
    for _scene, server, _paths in served.values():
        server.stop()


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("portal", CHECKED)
def test_every_portal_page_fits_360_px_draws_every_character_and_passes_axe(portals, chromium, portal, language):
    scene, server, paths = portals[portal]
    assert len(paths) > 3, paths
    context = chromium.new_context(bypass_csp=True, viewport={"width": WIDTH, "height": 800}, locale="fr-FR")
    page = context.new_page()
    found: dict[str, list[str]] = {}
    page.goto(f"{server.url}/lang/{language}?next=/")
    sweep(page, f"{portal} / (signed out)", found, language)
    cookie = scene.owner.get_cookie(scene.app.config["SESSION_COOKIE_NAME"])
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": server.url}])
    for path in paths:
        page.goto(server.url + path)
        sweep(page, f"{portal} {path}", found, language)
    context.close()
    assert not found, report(found)


LONG_NAMES = ("Observations_complementaires_du_requerant_sur_la_recevabilite_et_le_fond_de_la_requete_annexes_1_a_12.pdf",
              "ObservationscomplementairesdurequerantsurlarecevabiliteetlefonddelarequeteAnnexesUnADouze.pdf")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_ecomms_sent_list_with_long_file_names_fits_900_px(portals, chromium, language):
    """The walker's 900 px: beside the list of applications, the Sent table's long file names
    (with and without separators) widened the page; 1280 and 360 px are checked with them too."""
    scene, server, _paths = portals["ecomms"]
    token = unescape(re.search(r'name="csrf_token" value="([^"]+)"', scene.owner.get("/").get_data(as_text=True)).group(1))
    for name in LONG_NAMES:
        if name not in scene.owner.get("/applications/owner-app?tab=sent").get_data(as_text=True).replace("<wbr>", ""):
            sent = scene.owner.post("/applications/owner-app/send", content_type="multipart/form-data", data={
                "csrf_token": token, "confirm": "yes", "file_1": (io.BytesIO(make_pdf(name)), name),
                "type_1": "observations"})
            assert sent.status_code == 302, sent.get_data(as_text=True)
    cookie = scene.owner.get_cookie(scene.app.config["SESSION_COOKIE_NAME"])
    found: dict[str, list[str]] = {}
    for width in (900, 1280, WIDTH):
        context = chromium.new_context(bypass_csp=True, viewport={"width": width, "height": 800}, locale="fr-FR")
        page = context.new_page()
        page.goto(f"{server.url}/lang/{language}?next=/")
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": server.url}])
        page.goto(server.url + "/applications/owner-app?tab=sent")
        assert page.locator(".document-name").count() >= 3
        sweep(page, f"ecomms sent list at {width} px", found, language)
        context.close()
    assert not found, report(found)


@pytest.fixture(scope="module")
def devinbox_pages(tmp_path_factory):
    """The dev inbox with an email, an SMS and a letter whose recipient, sender and link are long."""
    from shared.outbox import devinbox

    folder = tmp_path_factory.mktemp("devinbox")
    app = devinbox.create_app({"instance_path": folder, "database_url": f"sqlite:///{folder}/devinbox.db",
                               "_quiet": True}, smtp_port=0)
    db = app.extensions["devinbox_db"]
    devinbox.store(db, key="email", channel="email", recipient="marie.requerante-adresse-tres-longue@example.org",
                   sender="ECHR eComms <no-reply@civic-idp.invalid>",
                   subject="Invitation à activer votre compte eComms pour la requête 12345/26",
                   body_text="Bonjour,\nactivez votre compte : http://localhost:8000/activation/"
                             + "aLongTokenWithoutAnyPlaceToBreak0123456789abcdefghijklmnopqrstuvwxyz" * 2 + "\n")
    devinbox.store(db, key="sms", channel="sms", recipient="+33612345601", body_text="Votre code est 123456.")
    devinbox.store(db, key="letter", channel="letter", recipient="mairie-de-liepvre-secretariat-general@example.org",
                   subject="Codes de confirmation", body_text="Lettre", attachment=b"%PDF-1.4",
                   attachment_name="codes-de-confirmation-administrateur.pdf")
    server = LiveServer(app, free_port()).start()
    yield server, ["/", "/?channel=email", "/?to=nobody%40example.org", "/messages/1", "/messages/2", "/messages/3"]
    server.stop()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_dev_inbox_is_french_by_default_fits_360_px_and_passes_axe(devinbox_pages, chromium, language):
    server, paths = devinbox_pages
    context = chromium.new_context(bypass_csp=True, viewport={"width": WIDTH, "height": 800}, locale="en-GB")
    page = context.new_page()
    page.goto(server.url + "/")
    assert page.locator("html").get_attribute("lang") == "fr"  # whatever the browser asks: French first
    assert page.locator("h1").inner_text() == "Messages envoyés"
    page.goto(f"{server.url}/lang/{language}?next=/")
    found: dict[str, list[str]] = {}
    for path in paths:
        page.goto(server.url + path)
        sweep(page, f"devinbox {path}", found, language)
    assert page.locator("main").inner_text().count("Channel" if language == "en" else "Canal") == 1
    context.close()
    assert not found, report(found)


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('idp-pages')}/idp.db")
    for client_id, name, policy in (("ecomms", "ECHR eComms", {}),
                                    ("justice", "Justice – espace personnel",
                                     {"require_federation": True, "default_acr": "eidas1"}),
                                    ("eservices", "Portail e-services des organisations", {})):
        make_client(server.app, ["http://127.0.0.1:9/callback"], client_id=client_id, name=name, policy=policy,
                    first_party=True, scope="openid profile")
    yield server
    server.stop()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_idps_sign_in_pages_from_each_portal_fit_360_px_and_pass_axe(idp, chromium, language):
    context = chromium.new_context(bypass_csp=True, viewport={"width": WIDTH, "height": 800}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{idp.url}/lang/{language}?next=/")
    found: dict[str, list[str]] = {}
    for client_id in ("ecomms", "justice", "eservices"):
        _verifier, challenge = pkce()
        page.goto(f"{idp.url}/authorize?" + urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": "http://127.0.0.1:9/callback",
            "scope": "openid profile", "state": "s", "nonce": "n", "code_challenge": challenge,
            "code_challenge_method": "S256"}))
        sweep(page, f"first page from {client_id}", found, language)
        if client_id != "justice":
            page.locator("main form button.button").first.click()  # empty identifier: the error summary
            sweep(page, f"identifier with error from {client_id}", found, language)
            page.locator("a[href$='/providers']").click()
            sweep(page, f"provider choice from {client_id}", found, language)
    page.goto(f"{idp.url}/_styleguide")
    sweep(page, "style guide", found, language)
    context.close()
    assert not found, report(found)
