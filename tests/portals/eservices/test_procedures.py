"""The five e-services of the catalogue are real pages, each with its own fields and a record the
organisation lists, so the permission model guards something: who may open a record by the
reference in its URL (the grant, in the organisation the session acts for, and the record being
that organisation's). The IdP's answer is the edge (its own tests are under tests/idp)."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest

from portals.eservices import procedures
from portals.eservices.models import Demarche
from shared.rp.testing import sign_in

TOWN = {"id": "org-town", "name": "Mairie de Lièpvre"}
OTHER = {"id": "org-other", "name": "Mairie de Sélestat"}
TOMORROW = (date.today() + timedelta(days=2)).isoformat()
VALID = {
    "etat-civil": {"operation": "transmission", "act_type": "naissance", "family_name": "MULLER",
                   "given_names": "Jules", "act_date": "2026-03-14", "act_place": "Lièpvre"},
    "listes-electorales": {"movement": "inscription", "family_name": "KLEIN", "given_names": "Anna",
                           "birth_date": "2000-05-01", "reason": "arrivee"},
    "subventions": {"project": "Fête du village", "amount": "15 000", "start_date": "2027-06-01",
                    "description": "Une fête.\nDeux jours."},
    "urbanisme": {"request_type": "dp", "applicant": "Paul SCHMITT", "site_address": "3 rue Haute",
                  "parcel": "ab 123", "filed_on": "2026-11-30"},
    "marches-publics": {"subject": "Réfection de la toiture de l'école", "procedure": "adaptee",
                        "deadline": TOMORROW},
}


def answer_for(app, answers):
    """The IdP's acting-for answer, per person (the true edge of the portal)."""
    app.config["PERMISSION_CACHE_SECONDS"] = 0
    app.extensions["eservices_permissions"]._ask = lambda principal: answers.get(
        principal.sub, {"org": None, "active": False, "org_role": None, "eservices": [], "organisations": 0})


def member(app, answers, sub, organisation, eservices):
    answers[sub] = {"org": organisation, "active": True, "org_role": "user", "eservices": list(eservices),
                    "organisations": 1}
    client = app.test_client()
    sign_in(client, sub=sub, claims={"email": f"{sub}@example.org", "given_name": sub.title(), "family_name": "Test"})
    return client


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def token(client, path):
    return re.search(r'name="csrf_token" value="([^"]+)"', page(client.get(path))).group(1)


@pytest.fixture
def town(app):
    answers = {}
    answer_for(app, answers)
    return answers


def test_each_eservice_has_its_own_page_with_its_own_fields(app, town):
    everything = member(app, town, "hugo", TOWN, procedures.PROCEDURES)
    seen = set()
    for eservice_id, procedure in procedures.PROCEDURES.items():
        text = page(everything.get(f"/e-services/{eservice_id}"))
        form = re.search(r'<form [^>]*class="procedure.*?</form>', text, re.S).group(0)
        names = tuple(re.findall(r'<(?:input|select|textarea)[^>]* name="([a-z_]+)"', form))
        assert [n for n in dict.fromkeys(names) if n != "csrf_token"] == [f.name for f in procedure.fields]
        assert str(procedure.intro) in text
        seen.add(tuple(f.name for f in procedure.fields))
    assert len(seen) == 5  # five distinct forms, not one generic "Objet / Détails"


@pytest.mark.parametrize("eservice_id", list(VALID))
def test_a_valid_submission_is_recorded_listed_and_opened_by_its_reference(app, town, eservice_id):
    hugo = member(app, town, "hugo", TOWN, [eservice_id])
    path = f"/e-services/{eservice_id}"
    made = hugo.post(path, data={"csrf_token": token(hugo, path), **VALID[eservice_id]})
    assert made.status_code == 302, page(made)
    reference = made.headers["Location"].rsplit("/", 1)[1]
    assert re.fullmatch(r"[A-Z]{2}-\d{4}-[0-9A-F]{6}", reference)
    assert reference in page(hugo.get(path))  # the organisation's list
    record = page(hugo.get(f"{path}/demarches/{reference}"))
    assert f"Démarche {reference}" in record and "Hugo Test" in record


def test_each_field_is_checked_with_a_clear_message_and_nothing_is_stored(app, town):
    hugo = member(app, town, "hugo", TOWN, ["urbanisme", "marches-publics", "subventions"])
    cases = [("urbanisme", {"parcel": "12-XYZ"}, "le format n'est pas celui attendu"),
             ("urbanisme", {"filed_on": "2999-01-01"}, "ne peut pas être dans le futur"),
             ("urbanisme", {"request_type": "autre"}, "Type de demande : choisissez une des possibilités proposées"),
             ("marches-publics", {"deadline": "2020-01-01"}, "doit être postérieure à aujourd'hui"),
             ("subventions", {"amount": "12,50"}, "un nombre entier positif"),
             ("subventions", {"start_date": "31/02/2027"}, "indiquez une date valide"),
             ("subventions", {"project": ""}, "Intitulé du projet : ce champ est obligatoire")]
    for eservice_id, change, message in cases:
        path = f"/e-services/{eservice_id}"
        refused = hugo.post(path, data={"csrf_token": token(hugo, path), **VALID[eservice_id], **change})
        assert refused.status_code == 400 and message in page(refused), (eservice_id, change)
    with app.extensions["db"].session() as session:
        assert session.query(Demarche).count() == 0


def test_a_record_by_its_reference_only_for_a_member_with_the_grant_of_its_organisation(app, town):
    hugo = member(app, town, "hugo", TOWN, ["etat-civil"])
    path = "/e-services/etat-civil"
    reference = hugo.post(path, data={"csrf_token": token(hugo, path), **VALID["etat-civil"]}
                          ).headers["Location"].rsplit("/", 1)[1]
    url = f"{path}/demarches/{reference}"
    with app.extensions["db"].session() as session:  # whose record it is
        record = session.query(Demarche).filter_by(reference=reference).one()
        assert (record.organisation_id, record.sub, record.data["family_name"]) == ("org-town", "hugo", "MULLER")

    # a colleague of the same organisation without the grant: a clear refusal, nothing of the record
    colleague = member(app, town, "lea", TOWN, ["listes-electorales"])
    refused = colleague.get(url)
    assert refused.status_code == 403
    assert "Vous n'êtes pas autorisé(e) à utiliser l'e-service « Actes d'état civil » pour « Mairie de Lièpvre »" \
        in page(refused) and "MULLER" not in page(refused)
    # another organisation's member with the same grant: the reference is unknown there
    stranger = member(app, town, "paul", OTHER, ["etat-civil"])
    unknown = stranger.get(url)
    assert unknown.status_code == 404 and "MULLER" not in page(unknown)
    assert reference not in page(stranger.get(path))
    # the same person once the grant is revoked (the IdP's next answer): refused at once
    town["hugo"]["eservices"] = []
    assert hugo.get(url).status_code == 403
    # acting for no organisation
    nobody = member(app, town, "nobody", None, [])
    town["nobody"]["active"] = False
    assert nobody.get(url).status_code == 403


def test_a_revoked_grant_saves_nothing_even_within_the_cache(app, town):
    """Outside review: a record was saved 3 s after its grant was revoked (the permission answer is
    cached a few seconds); a change is always decided on the IdP's answer of now."""
    hugo = member(app, town, "hugo", TOWN, ["etat-civil"])
    app.config["PERMISSION_CACHE_SECONDS"] = 60
    path = "/e-services/etat-civil"
    csrf = token(hugo, path)  # the form, read while the grant holds: the answer is cached
    town["hugo"]["eservices"] = []  # the administrator revokes it at the IdP
    refused = hugo.post(path, data={"csrf_token": csrf, **VALID["etat-civil"]})
    assert refused.status_code == 403
    with app.extensions["db"].session() as session:
        assert session.query(Demarche).count() == 0
