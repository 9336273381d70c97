"""Person-facing text fields hold one line of ordinary text, whoever writes them (form, service,
provisioning API), and the legal representative's letter shows what a requester typed only as
labelled values, so an attacker's line ("phone these codes to …") never reads as the letter's own."""

from __future__ import annotations

import html
import io
import re

import pytest
from pypdf import PdfReader

import idp
from idp.services import lifecycle, text_fields
from idp.services import organisations as orgs
from idp.services.org_letter import Letter, letter_pdf, letter_text
from idp.storage.sql.models import Account
from idp.storage.sql.organisations import AdminRequest, Organisation, OrganisationStore
from idp.storage.sql.outbox import OutboxMessage
from shared.timeutil import utcnow
from tests.idp.helpers import api_client, make_client
from tests.idp.organisations.conftest import CODE_URL, org_data

INJECTION = "Appelez le 01 23 45 67 89 et dictez vos deux codes à l'agent"
BREAKERS = {"LF": "\n", "CR": "\r", "CRLF": "\r\n", "tab": "\t", "NUL": "\x00", "ESC": "\x1b", "NEL": "\x85",
            "U+2028": "\u2028", "U+2029": "\u2029", "RLO": "\u202e", "LRI": "\u2066", "ZWSP": "\u200b"}


@pytest.fixture
def app(tmp_sqlite_url):
    idp.upgrade_database(tmp_sqlite_url)
    app = idp.create_app({"database_url": tmp_sqlite_url, "_quiet": True})
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    yield app
    app.extensions["db"].dispose()


@pytest.mark.parametrize("breaker", BREAKERS.values(), ids=BREAKERS.keys())
def test_every_line_breaking_or_invisible_character_is_refused_at_the_service(database, breaker):
    with database.session() as session:
        store = OrganisationStore(session)
        for name in orgs.ORG_TEXT_FIELDS:
            with pytest.raises(orgs.InvalidInput) as refused:
                orgs.create_organisation(store, {**org_data("Mairie", "123456782"),
                                                 name: f"Valeur{breaker}{INJECTION}"})
            assert refused.value.errors == {name: "control"}
        for name in ("given_name", "family_name", "email"):
            values = {"given_name": "Anne", "family_name": "FAURE", "email": "anne@example.org"}
            values[name] = values[name].replace("@", f"{breaker}@") if name == "email" else f"Anne{breaker}{INJECTION}"
            with pytest.raises(text_fields.BadText) as refused:
                orgs.new_person_account(store, values["given_name"], values["family_name"], values["email"], "x")
            assert set(refused.value.errors) == {name}
        assert session.query(Organisation).count() == 0 and session.query(Account).count() == 0


def test_lengths_are_bounded_and_ordinary_names_pass(database):
    with database.session() as session:
        store = OrganisationStore(session)
        with pytest.raises(orgs.InvalidInput) as refused:
            orgs.create_organisation(store, {**org_data("M" * 151, "123456782")})
        assert refused.value.errors == {"org_name": "too_long"}
        organisation = orgs.create_organisation(store, {**org_data("  Mairie de L’Hôpital-Saint-Blaise ", "123456782")})
        assert organisation.name == "Mairie de L’Hôpital-Saint-Blaise"
        account = orgs.new_person_account(store, "Zoë", "N'GUYEN-LEFÈVRE", "zoe@example.org", "x")
        assert (account.given_name, account.family_name) == ("Zoë", "N'GUYEN-LEFÈVRE")


def test_other_services_refuse_a_multi_line_name_too(app):
    client_id, _secret = make_client(app, ["http://portal.example/cb"], name="Portail")
    with app.app_context():
        from idp.services import accounts, clients

        with pytest.raises(text_fields.BadText):
            lifecycle.invite("someone@example.org", clients.get(client_id), "fr", given_name=f"Anne\n{INJECTION}")
        with pytest.raises(text_fields.BadText):
            accounts.create("other@example.org", "Bonne-Passe-2026", family_name="FAURE\u2028" + INJECTION)
        assert not lifecycle.valid_email("a\x07b@example.org")


def test_provisioning_api_answers_400_not_500_for_a_multi_line_name(app):
    client_id, secret = api_client(app, "provisioning")
    http = app.test_client()
    token = http.post("/token", data={"grant_type": "client_credentials", "scope": "provisioning"},
                      auth=(client_id, secret)).get_json()["access_token"]
    answer = http.post("/api/provisioning/invitations", headers={"Authorization": f"Bearer {token}"},
                       json={"email": "invited@example.org", "given_name": f"Anne\r\n{INJECTION}"})
    assert answer.status_code == 400 and "given_name" in answer.get_json()["error_description"]
    with app.extensions["db"].session() as session:
        assert session.query(Account).filter_by(email="invited@example.org").count() == 0


def register_form(**overrides) -> dict[str, str]:
    return {"role": "administrator", "organisation_id": "new", **org_data("Mairie de Lièpvre", "216801803"),
            "given_name": "Anne", "family_name": "FAURE", "email": "anne@example.org", "password": "Sup3rSecret",
            "password_confirm": "Sup3rSecret", "terms": "on", **overrides}


@pytest.mark.parametrize(("lang", "expected"), [
    ("fr", "Ce champ tient sur une seule ligne"), ("en", "This field holds a single line")])
def test_the_registration_form_says_which_field_and_why_in_the_persons_language(app, lang, expected):
    client = app.test_client()
    client.set_cookie("lang", lang)
    answer = client.post("/organisations/inscription", data=register_form(
        org_name=f"Mairie\n{INJECTION}", family_name="F" * 101))
    page = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 400
    assert expected in page
    assert ("Ce champ est limité à 100 caractères." if lang == "fr" else "This field is limited to 100 characters.") in page
    with app.extensions["db"].session() as session:
        assert session.query(Organisation).count() == 0
        assert session.query(OutboxMessage).count() == 0


def test_the_new_accounts_email_carries_no_name_typed_in_the_form(app):
    """Whoever registers may not own the address: the email to it says nothing they wrote."""
    client = app.test_client()
    answer = client.post("/organisations/inscription", data=register_form(given_name="Anne", family_name="Rappelez"))
    assert answer.status_code == 200
    with app.extensions["db"].session() as session:
        bodies = [m.body_text for m in session.query(OutboxMessage).filter_by(channel="email")]
    assert bodies and not any("Rappelez" in body or "Anne" in body for body in bodies)


def legacy_letter(database) -> Letter:
    """A letter built from rows written before the rule (inserted as they are, bypassing the services)."""
    with database.session() as session:
        organisation = Organisation(name=f"Mairie de Lièpvre\n{INJECTION}", kind="commune", siren="216801803",
                                    address_line="1 place de la Mairie\r\nService des codes", postcode="68160",
                                    city="Lièpvre", legal_rep_name="Anne FAURE", legal_rep_title="Madame la Maire")
        candidate = Account(email="eve@example.org", given_name=f"Eve\u2028{INJECTION}", family_name="MARTIN",
                            status="active", roles=[])
        session.add_all([organisation, candidate])
        session.flush()
        now = utcnow()
        request = AdminRequest(organisation_id=organisation.id, account_id=candidate.id, reference="ADM-TEST22",
                               code_hash_1="", code_hash_2="", created_at=now, expires_at=now)
        session.add(request)
        session.flush()
        session.expunge_all()
    return Letter(request, organisation, candidate, ("ABCDEFGH", "JKMNPQRS"), CODE_URL)


def test_the_letter_shows_typed_values_only_inside_labelled_fields(database):
    letter = legacy_letter(database)
    _subject, body = letter_text(letter)
    labels = {"Organisation", "Prénom du demandeur", "Nom du demandeur", "Adresse électronique du demandeur"}
    lines_with_injection = [line for line in body.splitlines() if "Appelez" in line]
    assert lines_with_injection, "the typed value is shown (as a value)"
    for line in lines_with_injection:
        label, _sep, _value = line.partition(" : ")
        assert label in labels, line
    assert "Service des codes" not in body  # the address is in the PDF's envelope block only
    assert "aucun agent du portail ne vous les demandera" in body
    pdf_lines = "".join(page.extract_text() for page in PdfReader(io.BytesIO(letter_pdf(letter))).pages).splitlines()
    for line in pdf_lines:  # in the PDF too, the value never starts a line of its own
        assert not re.match(r"\s*(Appelez|Service des codes)", line), line
    assert any(line.startswith("1 place de la Mairie Service des codes") for line in pdf_lines)


def test_names_from_an_upstream_provider_become_one_line():
    """Federation takes names from another provider's claims: shown, never refused, but one line."""
    from idp.upstream.pivot import map_claims

    identity = map_claims({"given_name": f"Jean\r\n{INJECTION}", "family_name": "DUPONT\u2028\u202eLE", "birthdate": "1980-01-02",
                           "gender": "male", "birthcountry": "99100", "birthplace": "67482",
                           "email": "jean\n@example.org"})
    assert identity.given_name == f"Jean {INJECTION}"
    assert identity.family_name == "DUPONT LE"
    assert identity.email is None
