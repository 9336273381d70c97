"""The portal's header and its times (outside review against seed 002): a signed-in person reaches
their IdP account ("Mon compte", as on the IdP's own pages), and a record's date is said and shown
in Paris time (Europe/Paris, also across the summer-time change), never "heure de Strasbourg"."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from portals.eservices.models import Demarche
from shared.appkit import get_settings
from tests.portals.eservices.test_procedures import TOWN, VALID, answer_for, member, page, token


def test_a_signed_in_person_has_a_link_to_their_idp_account(app):
    answers = {}
    answer_for(app, answers)
    hugo = member(app, answers, "hugo", TOWN, ["etat-civil"])
    with app.app_context():
        account = f"{get_settings().issuer}/account"
    for path in ("/", "/catalogue", "/e-services/etat-civil", "/aide"):
        header = page(hugo.get(path)).split("<main")[0]
        assert f'<a href="{account}">Mon compte</a>' in header, path
    assert f'<a href="{account}">My account</a>' in page(hugo.get("/?lang=en")).split("<main")[0]
    assert "Mon compte</a>" not in page(app.test_client().get("/")).split("<main")[0], "nobody signed in: no account"


def test_a_records_date_is_in_paris_time_and_says_so(app):
    answers = {}
    answer_for(app, answers)
    hugo = member(app, answers, "hugo", TOWN, ["etat-civil"])
    path = "/e-services/etat-civil"
    references = []
    for _ in range(2):
        made = hugo.post(path, data={"csrf_token": token(hugo, path), **VALID["etat-civil"]})
        references.append(made.headers["Location"].rsplit("/", 1)[1])
    summer, winter = datetime(2026, 7, 1, 22, 30, tzinfo=UTC), datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    with app.extensions["db"].session() as session:
        for reference, moment in zip(references, (summer, winter), strict=True):
            session.query(Demarche).filter_by(reference=reference).one().created_at = moment
    listing = page(hugo.get(path))
    assert "Date (heure de Paris)" in listing and "Strasbourg" not in listing
    assert "02/07/2026 00:30" in listing and "01/01/2027 00:30" in listing  # UTC+2 in July, UTC+1 in winter
    record = page(hugo.get(f"{path}/demarches/{references[0]}"))
    assert re.search(r"Date \(heure de Paris\).*?02/07/2026 00:30", record, re.S) and "Strasbourg" not in record
    assert "Date (Paris time)" in page(hugo.get(f"{path}/demarches/{references[0]}?lang=en"))
