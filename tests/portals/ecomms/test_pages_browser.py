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
    browse = page.get_by_role("button", name="Browse…")
    before = browse.evaluate("e => getComputedStyle(e).outlineStyle")
    page.keyboard.press("Tab")
    browse.focus()
    assert before == "none" and browse.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"
    # Playwright turns file-chooser interception on asynchronously when a listener is added: one
    # listener for the whole test, and a round trip, so the first key press is already intercepted
    page.on("filechooser", lambda chooser: None)
    page.evaluate("1")
    for key in ("Enter", " "):  # a real button: both keys open the chooser
        with page.expect_file_chooser(timeout=5000) as chooser:
            page.keyboard.press(key)
        assert chooser.value.is_multiple()
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
    applicant.evaluate("document.getElementById('send-form').submit()")  # as without the script: no type
    applicant.locator("#staged-list").wait_for()
    found["send refused"] = page_problems(applicant) + [v["id"] for v in violations(applicant)]
    assert not any(found.values()), found


def kb(size: int, decimal: str = ",") -> str:
    return f"{size / 1024:.1f}".replace(".", decimal)


@pytest.mark.parametrize(("language", "decimal", "unit"), [("fr", ",", "Ko"), ("en", ".", "KB")])
def test_envoyer_waits_for_every_type_and_the_box_and_sizes_read_as_in_the_lists(chromium, live, tmp_path,
                                                                                 language, decimal, unit):
    """Seed 000 §4 steps 6–8: the files uploaded, each file's type, the box ticked, then Envoyer."""
    page = signed_in_page(chromium, live)
    page.goto(f"{live.url}/lang/{language}?next=/applications/app-1/send")
    send = page.locator("#send-button")
    paths = []
    for name in ("One.pdf", "Two.pdf"):
        path = tmp_path / name
        path.write_bytes(make_pdf(name))
        paths.append(path)
    page.locator("#picker").set_input_files([str(p) for p in paths])
    page.locator("#upload-list li[data-upload-id]").nth(1).wait_for()
    assert send.is_disabled(), "uploads finished, but no type chosen"
    selects = page.locator("#upload-list select")
    selects.nth(0).select_option("observations")
    page.locator("#confirm").check()
    assert send.is_disabled(), "one file still has no type"
    selects.nth(1).select_option("annex")
    assert send.is_enabled()
    page.locator("#confirm").uncheck()
    assert send.is_disabled(), "the box unticked again"
    page.locator("#confirm").check()
    # the upload row writes a small file's size as the lists do ("0,9 Ko", never "0,0 Mo")
    metas = page.locator("#upload-list .file-row__meta").all_inner_texts()
    assert metas == [f"{kb(p.stat().st_size, decimal)} {unit} · PDF" for p in paths], metas
    send.click()
    page.wait_for_url("**/applications/app-1?tab=sent")
    sizes = page.locator("main table td:nth-child(4)").all_inner_texts()
    assert sorted(s.strip() for s in sizes) == sorted(f"{kb(p.stat().st_size, decimal)} {unit}" for p in paths)


def line_breaks_of(page, selector: str) -> list[str]:
    """The characters a rendered link's lines end with (each character's box, line by line)."""
    return page.locator(selector).evaluate("""link => {
        const ends = []; let last = null, previous = '';
        const walker = document.createTreeWalker(link, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (node.parentElement.closest('.visually-hidden')) continue;
            for (let i = 0; i < node.length; i++) {
                const range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + 1);
                const box = range.getClientRects()[0]; if (!box) continue;
                if (last !== null && box.top > last + 1) ends.push(previous);
                last = box.top; previous = node.data[i];
            }
        }
        return ends;
    }""")


@pytest.mark.parametrize("width", [360, 480, 600, 768, 1024])
def test_a_sent_file_name_breaks_only_after_its_separators(chromium, live, width):
    """Sent items: "4567-24_observations.pdf" may wrap after "-", "_" or ".", never inside "observations"."""
    from portals.ecomms.models import Document
    from shared.timeutil import utcnow

    name = "4567-24_observations_complementaires_du_gouvernement_defendeur.pdf"
    with live.app.extensions["db"].session() as session:
        session.add(Document(application_id="app-1", direction="to_court", doc_type="observations",
                             stored_name=name, size=312_345, sha256="0" * 64, storage_key="k-wrap",
                             sender_sub="applicant-1", created_at=utcnow()))
    page = signed_in_page(chromium, live)
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live.url + "/applications/app-1?tab=sent")
    link = "main table a[target=_blank]"
    assert page.locator(link).inner_text() == name
    assert set(line_breaks_of(page, link)) <= set("_-."), (width, line_breaks_of(page, link))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
