"""The IdP's organisation pages are built on the shared macros: every radio and checkbox has its
label beside it, each error of the summary links to its field, the console's tables stack at 320 px
(each cell names its column), and ending a subscription records the reason given."""

from __future__ import annotations

import re

from tests.idp.organisations.conftest import choose, csrf, sign_in, text
from tests.idp.organisations.test_decisions import console_as_claire, fred_granted  # noqa: F401


def test_radios_and_checkboxes_have_their_label_beside_and_errors_link_to_their_field(app, world):
    client = app.test_client()
    refused = client.post("/organisations/inscription", data={"csrf_token": csrf(client, "/organisations/inscription")})
    page = text(refused)
    for box in re.findall(r'<input type="(?:radio|checkbox)" id="([^"]+)"', page):
        assert re.search(rf'<div class="choice">\s*<input type="(?:radio|checkbox)" id="{box}"[^>]*>\s*<label for="{box}">',
                         page), box
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S).group(0)
    targets = re.findall(r'href="#([^"]+)"', summary)
    assert {"role", "organisation_id", "terms"} <= set(targets)
    for target in targets:
        assert f'id="{target}"' in page, target
    sign_in(app, client, world["claire"])
    wrong = client.post("/organisations/choix", data={"csrf_token": csrf(client, "/organisations/choix"),
                                                      "organisation_id": "not-mine"})
    assert wrong.status_code == 400 and 'href="#organisation_id"' in text(wrong) and 'id="organisation_id"' in text(wrong)


def test_the_consoles_tables_stack_and_name_each_column(app, world):
    client = app.test_client()
    sign_in(app, client, world["claire"])
    choose(client, world["town"])
    page = text(client.get("/organisations/console"))
    for table in re.findall(r"<table.*?</table>", page, re.S):
        assert 'class="table--stack"' in table
        assert all("data-label=" in cell for cell in re.findall(r"<td[^>]*>", table))


def test_ending_a_subscription_keeps_the_reason_in_the_history(app, fred_granted):  # noqa: F811
    client = app.test_client()
    token = console_as_claire(app, client, fred_granted)
    client.post("/organisations/console/abonnements", data={
        "csrf_token": token, "eservice_id": "etat-civil", "action": "unsubscribe", "confirm": "yes",
        "reason": "Service repris par la communauté de communes"})
    assert "motif : Service repris par la communauté de communes" in text(client.get("/organisations/console"))
