"""The case page's "Vie du dossier" as seed 001 draws it: "À gauche de la ligne, apparaissent les
dates des événements" — each date stands left of the line, its event right of it, at 1280 px and
at 360 px, in French and in English."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portals.justice.models import Attachment
from tests.portals.justice.conftest import make_case
from tests.portals.justice.test_space import add, citizen
from tests.servers import LiveServer, free_port

pytestmark = pytest.mark.browser

# Each item: the right edge of its date's text, the line's x (the body's left border) and the left edge of
# the event's label, as the browser lays them out.
POSITIONS = """() => [...document.querySelectorAll('ol.timeline > li.timeline-item')].map(item => {
  const range = document.createRange();
  range.selectNodeContents(item.querySelector('.timeline-date'));
  const date = range.getBoundingClientRect();  // the date's text, not its padded box
  const body = item.querySelector('.timeline-body');
  const kind = item.querySelector('.timeline-kind').getBoundingClientRect();
  return {date_left: date.left, date_right: date.right, date_text: item.querySelector('.timeline-date').innerText,
          line: body.getBoundingClientRect().left + parseFloat(getComputedStyle(body).borderLeftWidth) / 2,
          line_width: parseFloat(getComputedStyle(body).borderLeftWidth), kind_left: kind.left};
})"""


@pytest.fixture
def case_page(app):
    [number] = make_case(app, "RG 24/00040", hearing_in_days=5, document_days_ago=2).values()
    client = citizen(app)
    add(client, app, number)
    with app.extensions["db"].session() as session:
        attachment_id = session.scalars(select(Attachment)).one().id
    server = LiveServer(app, free_port()).start()
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    yield server, cookie, f"/cases/{attachment_id}"
    server.stop()


@pytest.mark.parametrize("width", [1280, 360])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_dates_stand_left_of_the_line_and_the_events_right_of_it(chromium, case_page, width, language):
    server, cookie, path = case_page
    context = chromium.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{server.url}/lang/{language}?next=/")
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": server.url}])
    page.goto(server.url + path)
    items = page.evaluate(POSITIONS)
    context.close()
    assert len(items) == 2, items
    for item in items:
        assert item["line_width"] >= 2, item  # the line is drawn
        assert item["date_right"] <= item["line"] - 4, f"the date is not left of the line: {item}"
        assert item["kind_left"] >= item["line"] + 4, f"the event is not right of the line: {item}"
        assert item["date_left"] >= 0 and "/" in item["date_text"], item
    assert len({round(item["line"]) for item in items}) == 1, "one line for every event"
