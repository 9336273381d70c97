"""Search as people type it (seed 001's three fields), the same on SQLite and PostgreSQL: accents
and case ignored on names, companies and courts, full names in either order, LIKE wildcards taken
as letters."""

from __future__ import annotations

import re

import pytest

from portals.justice.models import Attachment, Case, Party
from shared.rp.testing import sign_in

CASES = [  # reference, court, the other party (last name, first name)
    ("RG 1", "Tribunal judiciaire d'Évry", ("ÉLECTROMÉNAGER DE L'EST", "SARL")),
    ("RG 2", "Tribunal judiciaire de Strasbourg", ("MARTIN", "Émilie")),
    ("RG 3", "Conseil de prud'hommes de Colmar", ("TRANSPORTS RHIN", "SAS")),
    ("RG 4", "Tribunal de proximité de Sélestat", ("Œuvre_des_Fêtes", "Association")),
    ("RG 5", "Tribunal judiciaire de Strasbourg", ("LEFÈVRE", "Jean-François")),
]


@pytest.fixture
def client(any_app):
    with any_app.app_context(), any_app.extensions["db"].session() as session:
        for reference, court, (last, first) in CASES:
            case = Case(reference=reference, nature="Divorce", court_name=court)
            session.add(case)
            session.flush()
            mine = Party(case_id=case.id, role="Demandeur", last_name="DUBOIS", first_name="Angela")
            session.add_all([mine, Party(case_id=case.id, role="Défendeur", last_name=last, first_name=first)])
            session.flush()
            session.add(Attachment(sub="citizen-1", party_id=mine.id))
    client = any_app.test_client()
    sign_in(client, sub="citizen-1")
    return client


def found(client, **query) -> list[str]:
    page = client.get("/", query_string=query).get_data(as_text=True)
    return sorted(re.findall(r"Divorce — (RG \d)", page))


@pytest.mark.parametrize("typed, expected", [
    ({"court": "Évry"}, ["RG 1"]), ({"court": "evry"}, ["RG 1"]), ({"court": "EVRY"}, ["RG 1"]),
    ({"court": "selestat"}, ["RG 4"]), ({"court": "prud hommes"}, ["RG 3"]), ({"court": "prud'hommes"}, ["RG 3"]),
    ({"name": "Électroménager"}, ["RG 1"]), ({"name": "electromenager de l'est"}, ["RG 1"]),
    ({"name": "Émilie"}, ["RG 2"]), ({"name": "emilie martin"}, ["RG 2"]), ({"name": "MARTIN Émilie"}, ["RG 2"]),
    ({"name": "Angela DUBOIS"}, ["RG 1", "RG 2", "RG 3", "RG 4", "RG 5"]),
    ({"name": "dubois angela"}, ["RG 1", "RG 2", "RG 3", "RG 4", "RG 5"]),
    ({"name": "jean francois lefevre"}, ["RG 5"]), ({"name": "oeuvre des fetes"}, ["RG 4"]),
    ({"name": "%"}, []), ({"name": "_"}, []), ({"court": "%"}, []), ({"name": "ma%n"}, []),
    ({"court": "strasbourg", "name": "emilie"}, ["RG 2"]),
])
def test_search_finds_what_people_type(client, typed, expected):
    assert found(client, **typed) == expected
