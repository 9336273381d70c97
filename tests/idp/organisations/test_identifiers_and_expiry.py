"""An organisation's official numbers are checked (SIREN: 9 digits and INSEE's Luhn key; RNA: W and
9 digits) with a clear message, and what nobody decides expires: a registration no administrator
validated, an organisation whose administrator was never validated (the housekeeping job)."""

from __future__ import annotations

from datetime import timedelta

from idp.services import lifecycle
from idp.services import organisations as orgs
from idp.storage.sql.models import AuditEvent
from idp.storage.sql.organisations import AdminRequest, Membership, Organisation, OrganisationStore
from idp.storage.sql.outbox import OutboxMessage
from shared.timeutil import utcnow
from tests.idp.organisations.conftest import CODE_URL, csrf, make_person, org_data, sign_in, text


def post_new_organisation(app, **changes):
    client = app.test_client()
    data = {"csrf_token": csrf(client, "/organisations/inscription"), "role": "administrator",
            "organisation_id": "new", **org_data("Association du Val", "", "association"),
            "given_name": "Hugo", "family_name": "Bernard", "email": "hugo@example.org", "terms": "on", **changes}
    return client.post("/organisations/inscription", data=data)


def test_a_siren_with_a_wrong_key_and_a_malformed_rna_are_refused_with_their_reason(app):
    typo = post_new_organisation(app, org_siren="216801800")  # 9 digits, but no SIREN has them
    assert typo.status_code == 400 and "sa clé de contrôle ne correspond pas" in text(typo)
    short = post_new_organisation(app, org_siren="2168018")
    assert short.status_code == 400 and "Le numéro SIREN comporte 9 chiffres" in text(short)
    for rna in ("681000123", "W68100012", "X681000123"):
        refused = post_new_organisation(app, org_rna=rna)
        assert refused.status_code == 400 and "commence par W, suivi de 9 chiffres" in text(refused), rna
    with app.extensions["db"].session() as session:
        assert session.query(Organisation).count() == 0
    made = post_new_organisation(app, org_siren="216 801 803", org_rna="w681000123")
    assert made.status_code == 200
    with app.extensions["db"].session() as session:
        organisation = session.query(Organisation).one()
        assert (organisation.siren, organisation.rna) == ("216801803", "W681000123")


def test_an_association_registered_again_with_its_rna_is_routed_to_the_existing_one(app):
    assert post_new_organisation(app, org_rna="W681000123").status_code == 200
    twin = post_new_organisation(app, org_rna="W 681 000 123", org_name="Asso. du Val d'Argent",
                                 email="lea@example.org")
    assert twin.status_code == 400 and "Cette organisation est déjà inscrite" in text(twin)


def test_registrations_nobody_decides_expire_and_the_person_is_told(app, world):
    now = utcnow()
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        session.get(Membership, world["fred_m"]).created_at = now - timedelta(days=61)
        late = make_person(store, "Léa", "Roux", "lea@example.org")
        recent, _ = orgs.join_organisation(store, late, store.organisation(world["town"]), "user", now, CODE_URL)
        recent_id = recent.id
    with app.app_context():
        done = lifecycle.housekeeping(now)
    assert done["registrations_expired"] == 1
    with app.extensions["db"].session() as session:
        assert session.get(Membership, world["fred_m"]).status == "expired"
        assert session.get(Membership, recent_id).status == "pending"  # its 60 days are not over
        event = session.query(AuditEvent).filter_by(kind="org.registration_expired").one()
        assert event.detail["reason"] == "no decision within 60 days"  # the reason, in the history
        assert session.query(OutboxMessage).filter_by(
            recipient="fred@example.org", subject="Votre inscription à « Mairie A » a expiré").count() == 1
    # the administrator's history says so, and Fred may register again (the clock starts again)
    client = app.test_client()
    sign_in(app, client, world["claire"])
    token = csrf(client, "/organisations/choix")
    client.post("/organisations/choix", data={"csrf_token": token, "organisation_id": world["town"]})
    assert "Inscription expirée (sans décision)" in text(client.get("/organisations/console"))
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        again, _ = orgs.join_organisation(store, store.account(world["fred"]), store.organisation(world["town"]),
                                          "user", now, CODE_URL)
        assert again.status == "pending"


def test_an_organisation_never_validated_expires_unless_its_letter_is_still_valid(app):
    now = utcnow()
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        stale = orgs.create_organisation(store, org_data("Mairie oubliée", "216801803"))
        waiting = orgs.create_organisation(store, org_data("Mairie en attente", "111111118"))
        for organisation, (given, email) in ((stale, ("Hugo", "hugo@example.org")), (waiting, ("Léa", "lea@example.org"))):
            organisation.created_at = now - timedelta(days=91)
            candidate = make_person(store, given, "Bernard", email)
            orgs.join_organisation(store, candidate, organisation, "administrator", now - timedelta(days=91), CODE_URL)
        request = session.query(AdminRequest).filter_by(organisation_id=waiting.id).one()
        request.expires_at = now + timedelta(days=2)  # the legal representative may still type the codes
        for old in session.query(AdminRequest).filter_by(organisation_id=stale.id):
            old.expires_at = now - timedelta(days=1)
        stale_id, waiting_id = stale.id, waiting.id
    with app.app_context():
        done = lifecycle.housekeeping(now)
    assert done["organisations_expired"] == 1
    with app.extensions["db"].session() as session:
        assert session.get(Organisation, stale_id) is None
        assert session.query(Membership).filter_by(organisation_id=stale_id).count() == 0
        assert session.get(Organisation, waiting_id) is not None
        assert session.query(AuditEvent).filter_by(kind="org.expired").one().detail["name"] == "Mairie oubliée"


def test_a_validated_organisation_never_expires(app, world):
    now = utcnow()
    with app.extensions["db"].session() as session:
        session.get(Organisation, world["town"]).created_at = now - timedelta(days=400)
    with app.app_context():
        lifecycle.housekeeping(now)
    with app.extensions["db"].session() as session:
        assert session.get(Organisation, world["town"]) is not None
