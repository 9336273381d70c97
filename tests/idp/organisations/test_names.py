"""Wherever an account is created it gets names and the identifier built from them (seed 002,
"Vous avez un prénom ou un nom composé"), and the sign-in page's "Inscription" opens the form of
the portal the person came from: the e-services' organisation registration for e-services."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from idp.services import organisations as orgs
from idp.storage.sql.models import Account
from idp.storage.sql.organisations import Membership, OrganisationStore
from shared.timeutil import utcnow
from tests.idp.helpers import make_client, pkce
from tests.idp.organisations.conftest import CODE_URL, csrf, sign_in, text

REDIRECT = "https://portal.example/callback"


def sign_in_page(app, client_id: str) -> str:
    client = app.test_client()
    _verifier, challenge = pkce()
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
                       "scope": "openid profile", "state": "s", "nonce": "n", "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    return text(client.get(f"/authorize?{query}", follow_redirects=True))


def test_the_sign_in_pages_inscription_opens_the_form_of_the_portal_the_person_came_from(app):
    for client_id in ("eservices", "ecomms"):
        make_client(app, [REDIRECT], client_id=client_id, name=client_id, first_party=True, scope="openid profile")
    eservices = re.search(r'<a href="([^"]+)">Inscription</a>', sign_in_page(app, "eservices")).group(1)
    assert eservices.startswith("/organisations/inscription?interaction=")
    ecomms = re.search(r'<a href="([^"]+)">Inscription</a>', sign_in_page(app, "ecomms")).group(1)
    assert ecomms.startswith("/registration?interaction=")


def test_the_generic_registration_asks_names_and_builds_the_identifier(app):
    client = app.test_client()
    token = csrf(client, "/registration")
    refused = client.post("/registration", data={"csrf_token": token, "email": "nameless@example.org", "terms": "yes"})
    assert refused.status_code == 400
    assert "Saisissez votre prénom." in text(refused) and "Saisissez votre nom." in text(refused)
    with app.extensions["db"].session() as session:
        assert session.query(Account).filter_by(email="nameless@example.org").count() == 0
    made = client.post("/registration", data={"csrf_token": token, "email": "fred2@example.org", "terms": "yes",
                                              "given_name": "Frédéric", "family_name": "DUPONT DURAND"})
    assert made.status_code == 200
    with app.extensions["db"].session() as session:
        account = session.query(Account).filter_by(email="fred2@example.org").one()
        assert (account.given_name, account.family_name, account.username) == (
            "Frédéric", "DUPONT DURAND", "frederic-dupont-dura")


def test_a_signed_in_account_without_names_is_asked_them_when_joining(app, world):
    with app.extensions["db"].session() as session:
        plain = Account(email="plain@example.org", status="active", roles=[], locale="fr")
        session.add(plain)
        session.flush()
        plain_id = plain.id
    client = app.test_client()
    sign_in(app, client, plain_id)
    form = text(client.get("/organisations/inscription"))
    assert 'id="given_name"' in form and 'id="family_name"' in form
    token = csrf(client, "/organisations/inscription")
    base = {"csrf_token": token, "role": "user", "organisation_id": world["town"], "terms": "on"}
    refused = client.post("/organisations/inscription", data=base)
    assert refused.status_code == 400 and "Indiquez votre prénom" in text(refused)
    with app.extensions["db"].session() as session:
        assert session.query(Membership).filter_by(account_id=plain_id).count() == 0
    joined = client.post("/organisations/inscription", data={**base, "given_name": "Léa", "family_name": "Roux"})
    assert joined.status_code == 200
    with app.extensions["db"].session() as session:
        account = session.get(Account, plain_id)
        assert (account.given_name, account.family_name, account.username) == ("Léa", "Roux", "lea-roux")
    # the administrator's console names her
    sign_in(app, client, world["claire"])
    token = csrf(client, "/organisations/choix")
    client.post("/organisations/choix", data={"csrf_token": token, "organisation_id": world["town"]})
    console = text(client.get("/organisations/console"))
    assert "Léa Roux (lea-roux)" in console and "None" not in console


def test_a_named_account_joining_is_not_asked_its_names_again(app, world):
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        orgs.join_organisation(store, store.account(world["bruno"]), store.organisation(world["town"]), "user",
                               utcnow(), CODE_URL)
    client = app.test_client()
    sign_in(app, client, world["bruno"])
    assert 'id="given_name"' not in text(client.get("/organisations/inscription"))
