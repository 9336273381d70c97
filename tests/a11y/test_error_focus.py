"""A form answered with errors takes the person to its error summary (issue 20, the GOV.UK pattern;
outside review: focus stayed on <body>, so a screen reader never heard "Il y a un problème"), and
each link of the summary moves focus to its field."""

from __future__ import annotations

import pytest

from tests.idp.helpers import start_idp

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('focus')}/idp.db")
    yield server
    server.stop()


@pytest.mark.parametrize("language, heading", [("fr", "Il y a un problème"), ("en", "There is a problem")])
def test_an_answer_with_errors_focuses_its_summary_then_each_link_its_field(idp, chromium, language, heading):
    context = chromium.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(f"{idp.url}/lang/{language}?next=/registration")
    page.locator("main form button[type=submit]").click()  # nothing filled in
    page.wait_for_load_state()
    focused = page.evaluate("document.activeElement.className")
    assert focused == "error-summary", focused
    assert heading in page.evaluate("document.activeElement.textContent")
    first_link = page.locator(".error-summary a").first
    target = first_link.get_attribute("href").lstrip("#")
    page.keyboard.press("Tab")  # the summary's first link
    assert page.evaluate("document.activeElement.getAttribute('href')") == f"#{target}"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == target
    context.close()
