"""Organisations in the operators' console, in Chromium: the list, one organisation's members,
administrator requests and the letters sent to its legal representative, and suspension (nobody
acts for it nor uses its e-services until it is lifted); each change audited."""

from __future__ import annotations

import html

import pytest

from tests.idp.operations.conftest import audit_events

pytestmark = pytest.mark.browser
CODE_URL = "http://localhost:8003/representant-legal"


@pytest.fixture
def town(idp):
    """Rombach's town hall: Claire administers it, Fred uses état civil, Bruno asked to administer.
    (Its letter reaches the session's dev inbox: a town and a representative no other test uses, so
    no other test reads this letter's codes for its own.)"""
    from idp.services import organisations as orgs
    from idp.storage.sql.organisations import Membership, OrganisationStore
    from shared.appkit import get_db
    from shared.timeutil import utcnow

    with idp.app.test_request_context(), get_db().session() as session:
        store = OrganisationStore(session)
        town = orgs.create_organisation(store, {
            "org_name": "Mairie de Rombach-le-Franc", "org_kind": "commune", "org_siren": "333333334",
            "org_address_line": "3 rue de l'Église", "org_postcode": "68660", "org_city": "Rombach-le-Franc",
            "legal_rep_name": "Paul RISSER", "legal_rep_title": "Monsieur le Maire"})
        people = {}
        for key, given, family in (("claire", "Claire", "Martin"), ("fred", "Frédéric", "Dupont"),
                                   ("bruno", "Bruno", "Klein")):
            account = orgs.new_person_account(store, given, family, f"{key}.rombach@example.org", password_hash="x")
            account.status = "active"
            people[key] = account
        store.add(Membership(account_id=people["claire"].id, organisation_id=town.id, role="administrator",
                             status="active", decided_at=utcnow()))
        fred, _ = orgs.join_organisation(store, people["fred"], town, "user", utcnow(), CODE_URL)
        orgs.validate_member(store, people["claire"].id, town.id, fred.id, utcnow())
        orgs.subscribe(store, people["claire"].id, town.id, "etat-civil")
        orgs.grant(store, people["claire"].id, town.id, fred.id, "etat-civil")
        letter = orgs.request_administrator(store, people["bruno"], town, utcnow(), CODE_URL)
        return {"id": town.id, "fred": people["fred"].id, "reference": letter.request.reference}


def fred_may_use_etat_civil(idp, town) -> bool:
    from idp.services import permissions
    from idp.storage.sql.organisations import OrganisationStore
    from shared.appkit import get_db

    with idp.app.app_context(), get_db().session() as session:
        return permissions.may_use(OrganisationStore(session), town["fred"], town["id"], "etat-civil")


def test_see_members_requests_letters_then_suspend_and_lift(console, idp, operator, town):
    assert fred_may_use_etat_civil(idp, town)
    console.get_by_role("link", name="Organisations").click()
    row = console.locator("tbody tr", has_text="Mairie de Rombach-le-Franc")
    assert "Commune" in row.inner_text() and "Active" in row.inner_text()
    row.get_by_role("link", name="Mairie de Rombach-le-Franc").click()
    console.get_by_role("heading", name="Mairie de Rombach-le-Franc").wait_for()
    content = console.content()
    assert "claire.rombach@example.org" in content and "fred.rombach@example.org" in content
    request_row = console.locator("tbody tr", has_text=town["reference"])
    assert "bruno.rombach@example.org" in request_row.inner_text()
    assert "En attente des codes" in request_row.inner_text()
    assert any(s in request_row.inner_text() for s in ("En file d'attente", "Envoyé", "Échec d'envoi"))

    # the page says what is not at once (outside review S6): e-services' read cache
    assert "une page déjà ouverte peut encore s'afficher quelques secondes" in html.unescape(console.content())
    console.get_by_role("button", name="Suspendre l'organisation").click()
    assert console.get_by_role("alert").is_visible() and "Saisissez le motif" in console.content()
    assert fred_may_use_etat_civil(idp, town)
    console.get_by_label("Motif de la suspension (obligatoire)").fill("Usurpation signalée par la préfecture")
    console.get_by_role("button", name="Suspendre l'organisation").click()
    console.get_by_text("L'organisation est suspendue").wait_for()
    assert "toute modification est refusée dès maintenant" in console.get_by_text("L'organisation est suspendue").inner_text()
    assert "Usurpation signalée par la préfecture" in console.content()
    assert not fred_may_use_etat_civil(idp, town)  # at once: the portals ask the IdP live

    console.get_by_role("button", name="Lever la suspension").click()
    console.get_by_text("La suspension est levée.").wait_for()
    assert fred_may_use_etat_civil(idp, town)
    suspended = audit_events(idp, "operations_organisation_suspended")[-1]
    assert (suspended.detail["organisation"], suspended.detail["operator"], suspended.detail["reason"]) == \
        (town["id"], operator.id, "Usurpation signalée par la préfecture")
    assert audit_events(idp, "operations_organisation_unsuspended")[-1].detail["organisation"] == town["id"]


def test_an_unknown_organisation_is_not_found(console, idp):
    assert console.goto(idp.url + "/operations/organisations/not-an-id").status == 404
    console.goto(idp.url + "/operations/organisations")
    token = console.locator("input[name=csrf_token]").first.get_attribute("value")  # the sign-out form's
    answer = console.request.post(f"{idp.url}/operations/organisations/not-an-id/suspend",
                                  form={"csrf_token": token, "reason": "x"})
    assert answer.status == 404
