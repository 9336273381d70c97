"""eComms pages in Chromium without the IdP (a signed-in session planted in the browser): the header's
Strasbourg clock advances, the file picker shows its focus, every per-file control has its own id."""

from __future__ import annotations

import pytest

from shared.rp.testing import sign_in
from tests.portals.ecomms.conftest import make_pdf
from tests.servers import LiveServer, free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def live(app):
    server = LiveServer(app, free_port()).start()
    yield server
    server.stop()


def signed_in_page(chromium, live, locale="fr-FR"):
    client = live.app.test_client()
    sign_in(client, sub="applicant-1", claims={"email": "a@example.org", "name": "Marie REQUERANTE"})
    name = live.app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    context = chromium.new_context(locale=locale, bypass_csp=True)  # axe is injected as a script
    context.add_cookies([{"name": name, "value": cookie.value, "url": live.url}])
    return context.new_page()


def test_the_strasbourg_clock_advances_while_the_page_stays_open(chromium, live):
    page = signed_in_page(chromium, live)
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.clock.install()
    page.goto(live.url + "/")
    clock = page.locator(".local-time time")
    first = clock.get_attribute("datetime")
    page.clock.run_for(5 * 60 * 1000)
    assert clock.get_attribute("datetime") != first
    assert clock.inner_text().count(":") == 1 and "/" in clock.inner_text() and not errors


def test_the_file_picker_shows_its_focus_and_each_file_has_its_own_labelled_type(chromium, live, tmp_path):
    page = signed_in_page(chromium, live, locale="en-GB")
    page.goto(live.url + "/applications/app-1/send")
    label = page.locator("label[for=picker]")
    before = label.evaluate("e => getComputedStyle(e).outlineStyle")
    page.keyboard.press("Tab")
    page.locator("#picker").focus()
    assert before == "none" and label.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"
    files = []
    for name in ("One.pdf", "Two.pdf", "Three.pdf"):
        path = tmp_path / name
        path.write_bytes(make_pdf(name))
        files.append(str(path))
    page.locator("#picker").set_input_files(files)
    page.locator("#upload-list li[data-upload-id]").nth(2).wait_for()
    ids = page.locator("#upload-list select").evaluate_all("s => s.map(e => e.id)")
    assert len(set(ids)) == 3
    for select_id, name in zip(ids, ("One.pdf", "Two.pdf", "Three.pdf"), strict=True):
        assert name in page.locator(f"label[for='{select_id}']").inner_text()
    page.get_by_label("Document type — Two.pdf").select_option("annex")
    assert page.locator("#upload-list select").evaluate_all("s => s.map(e => e.value)") == ["", "annex", ""]


def registry_page(chromium, live, locale="fr-FR"):
    client = live.app.test_client()
    sign_in(client, sub="registry-1", claims={"roles": ["registry"], "name": "Greta GREFFE"})
    name = live.app.config["SESSION_COOKIE_NAME"]
    context = chromium.new_context(locale=locale, bypass_csp=True, viewport={"width": 360, "height": 800})
    context.add_cookies([{"name": name, "value": client.get_cookie(name).value, "url": live.url}])
    return context.new_page()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_new_pages_pass_axe_at_360_px(chromium, live, language, tmp_path):
    """The closing danger zone, a detached application, and the send page keeping files after a
    refusal: pages the applicant-owned sweep of tests/a11y does not reach."""
    from portals.ecomms.models import Application
    from shared.timeutil import utcnow
    from tests.a11y.axe import violations
    from tests.a11y.checks import page_problems

    with live.app.extensions["db"].session() as session:
        applicant = session.get(Application, "app-2").applicant  # its address changed: detached
        applicant.detached_at, applicant.sub, applicant.detached_reason = utcnow(), None, "address_change"
    found = {}
    registry = registry_page(chromium, live)
    registry.goto(f"{live.url}/lang/{language}?next=/")
    for path in ("/applications/app-2", "/registry/applications/app-1/close"):
        registry.goto(live.url + path)
        found[path] = page_problems(registry) + [v["id"] for v in violations(registry)]
    registry.get_by_role("button", name="Clore définitivement la requête" if language == "fr" else
                         "Close the application for good").click()
    found["close refused"] = page_problems(registry) + [v["id"] for v in violations(registry)]
    applicant = signed_in_page(chromium, live)
    applicant.goto(f"{live.url}/lang/{language}?next=/applications/app-1/send")
    path = tmp_path / "One.pdf"
    path.write_bytes(make_pdf("one"))
    applicant.locator("#picker").set_input_files(str(path))
    applicant.locator("#upload-list li[data-upload-id]").wait_for()
    applicant.locator("#send-button").click()
    applicant.locator("#staged-list").wait_for()
    found["send refused"] = page_problems(applicant) + [v["id"] for v in violations(applicant)]
    assert not any(found.values()), found
