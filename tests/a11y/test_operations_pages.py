"""axe-core on every page of the operators' console, in French and in English, at 360 px (no
horizontal overflow, no character a font may lack: tests/a11y/checks.py)."""

from __future__ import annotations

import pytest

from idp.services.operators import ROLE
from idp.storage.sql.models import Account
from shared.appkit import get_db
from tests.a11y.axe import describe, violations
from tests.a11y.checks import page_problems
from tests.idp.helpers import make_client, start_idp
from tests.idp.operations.conftest import enrol_totp, idp_command, new_person, sign_in

pytestmark = pytest.mark.browser

# Each area adds its pages here ("{client}" etc. are filled from the objects made below).
CONSOLE_PAGES = ["/operations/", "/operations/verify", "/operations/clients", "/operations/clients/new",
                 "/operations/clients/{client}", "/operations/accounts", "/operations/accounts?q=example",
                 "/operations/accounts/{account}", "/operations/audit", "/operations/audit?since=2026-13-01", "/operations/keys",
                 "/operations/organisations", "/operations/organisations/{organisation}",
                 "/operations/support", "/operations/support?status=all", "/operations/support/{ticket}"]
# Forms sent empty or wrong (their first button), to see their error states
ERROR_STATES = ["/operations/clients/new", "/operations/verify", "/operations/support/{ticket}"]
DANGER_ERRORS = [("/operations/accounts/{account}", "reset"),  # a danger zone's button, its form sent empty
                 ("/operations/organisations/{organisation}", "suspend")]


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    folder = tmp_path_factory.mktemp("a11y-operations")
    server = start_idp(f"sqlite:///{folder}/idp.db", raw={"outbox": {"manual": True}})
    server.database_url = f"sqlite:///{folder}/idp.db"
    yield server
    server.stop()


@pytest.fixture(scope="module")
def objects(idp):
    client_id, _secret = make_client(idp.app, redirect_uris=["https://rp.example/callback"], name="Portail témoin")
    person = new_person(idp, "a11y-person", given_name="Zoé", family_name="Témoin")
    enrol_totp(idp, person.id)
    with idp.app.app_context():
        from idp.services import lifecycle

        lifecycle.deactivate(person.id, "dormant")
    from idp.services import organisations as orgs
    from idp.storage.sql.organisations import OrganisationStore
    from shared.appkit import get_db
    from shared.timeutil import utcnow

    with idp.app.test_request_context(), get_db().session() as session:
        store = OrganisationStore(session)
        town = orgs.create_organisation(store, {
            "org_name": "Mairie témoin", "org_kind": "commune", "org_siren": "222222226",
            "org_address_line": "1 place de la Mairie", "org_postcode": "68660", "org_city": "Lièpvre",
            "legal_rep_name": "Anne FAURE", "legal_rep_title": "Madame la Maire"})
        requester = orgs.new_person_account(store, "Bruno", "Klein", "bruno.a11y@example.org", password_hash="x")
        requester.status = "active"
        orgs.request_administrator(store, requester, town, utcnow(), "http://localhost:8003/representant-legal")
        organisation_id = town.id
    from idp.services import support_desk

    with idp.app.app_context():
        ticket, _new = support_desk.receive("sandbox", {
            "reference": "AS-A11Y0001", "email": "anne@example.org", "name": "Anne Faure", "topic": "courrier",
            "message": "Le courrier n'est pas arrivé.\nQue faire ?", "locale": "fr", "page": "/aide"})
    return {"client": client_id, "account": person.id, "organisation": organisation_id, "ticket": ticket.id}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_no_axe_violation_on_any_console_page(idp, chromium, objects, language, monkeypatch):
    operator = new_person(idp, "a11y-operator")
    operator.codes = enrol_totp(idp, operator.id)
    idp_command(idp, monkeypatch, "operators", "grant", operator.email)
    context = chromium.new_context(bypass_csp=True, locale="fr-FR", viewport={"width": 360, "height": 800})
    page = context.new_page()
    sign_in(page, idp, operator)
    page.goto(f"{idp.url}/lang/{language}?next=/operations/")
    found: dict[str, list[dict]] = {}

    def sweep(label: str) -> None:
        assert page.locator("html").get_attribute("lang") == language, label
        items = violations(page) + [{"id": "page", "impact": "layout", "help": problem, "targets": []}
                                    for problem in page_problems(page)]
        if items:
            found[f"{language} {label}"] = items

    for path in CONSOLE_PAGES:
        page.goto(idp.url + path.format(**objects))
        sweep(path)
    for path in ERROR_STATES:
        page.goto(idp.url + path.format(**objects))
        page.locator("main form button.button").first.click()
        sweep(f"{path} with errors")
    for path, zone in DANGER_ERRORS:
        page.goto(idp.url + path.format(**objects))
        page.locator(f"#{zone}-title ~ form button.button--warning").click()
        sweep(f"{path} with errors")
    context.close()

    # the page an operator without a second factor meets
    context = chromium.new_context(bypass_csp=True, locale="fr-FR", viewport={"width": 360, "height": 800})
    page = context.new_page()
    plain = new_person(idp, "a11y-plain")
    with idp.app.app_context(), get_db().session() as session:  # an old grant: the CLI now refuses it
        session.get(Account, plain.id).roles = [ROLE]
    sign_in(page, idp, plain, "/account")
    page.wait_for_url("**/account")
    page.goto(f"{idp.url}/lang/{language}?next=/operations/")
    sweep("no second factor")
    context.close()
    assert not found, "\n" + describe(found)
