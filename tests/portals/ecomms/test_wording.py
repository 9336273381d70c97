"""Plain words where an outside reviewer found alarm, jargon or internal names: an incomplete send
form says exactly what is missing; the registry's pages agree on "Requêtes" and name a person's
state in plain words; a deposit receipt leads with "signé par la Cour" and keeps ES256 and the JWKS
for experts under "Détails techniques"; the registry queue's sentence reads as plain English."""

from __future__ import annotations

import io
import re
from html import unescape

from portals.ecomms.models import Document
from shared.rp.testing import sign_in
from tests.portals.ecomms.conftest import csrf_of, make_pdf

SEND = "/applications/app-1/send"


def client_of(app, sub: str, lang: str = "fr", **claims):
    client = app.test_client()
    sign_in(client, sub=sub, claims=claims)
    client.set_cookie("lang", lang)
    return client


def page_of(answer) -> str:
    return unescape(answer.get_data(as_text=True))


def heading(page: str) -> str:
    return re.search(r'<h2 id="error-summary-title">(.*?)</h2>', page).group(1)


def post(client, files, confirm: bool):
    data = {"csrf_token": csrf_of(client, SEND)}
    for row, (name, doc_type) in enumerate(files, start=1):
        data[f"file_{row}"] = (io.BytesIO(make_pdf(name)), name)
        data[f"type_{row}"] = doc_type
    if confirm:
        data["confirm"] = "yes"
    return client.post(SEND, data=data, content_type="multipart/form-data")


def test_an_incomplete_form_says_what_is_missing_not_that_the_filing_failed(app):
    client = client_of(app, "applicant-1")
    no_box = page_of(post(client, [("Observations.pdf", "observations")], confirm=False))
    assert heading(no_box) == "Cochez la case de confirmation"
    no_type = page_of(post(client, [("Annexe.pdf", "")], confirm=True))
    assert heading(no_type) == "Choisissez le type de chaque document"
    assert "Choisissez le type de chaque document : « Annexe.pdf » n'en a pas encore." in no_type
    both = page_of(post(client, [("Lettre.pdf", "")], confirm=False))
    assert heading(both) == "Choisissez le type de chaque document et cochez la case de confirmation"
    for page in (no_box, no_type, both):
        assert "n'a pas été reçu" not in page
    # a file the Court cannot take keeps the plain warning that nothing was received
    bad = client.post(SEND, data={"csrf_token": csrf_of(client, SEND), "confirm": "yes", "type_1": "letter",
                                  "file_1": (io.BytesIO(b"MZ"), "virus.pdf")},
                      content_type="multipart/form-data")
    assert heading(page_of(bad)) == "Votre envoi n'a pas été reçu"


def test_an_incomplete_form_says_what_is_missing_in_english(app):
    client = client_of(app, "applicant-1", lang="en")
    page = page_of(post(client, [("Lettre.pdf", "")], confirm=False))
    assert heading(page) == "Choose the type of each document and tick the confirmation box"
    assert 'Choose the type of each document: "Lettre.pdf" has none yet.' in page
    assert "Tick the confirmation box to send your documents to the Court." in page


def test_the_registry_reads_requetes_everywhere_and_a_persons_state_in_plain_words(app):
    client_of(app, "applicant-1").get("/")  # the applicant signs in to eComms once
    registry = client_of(app, "registry-1", roles=["registry"])
    page = page_of(registry.get("/applications/app-1"))
    assert "<title>Requêtes" in page or re.search(r"<title>[^<]*Requête n° 123/16", page)
    home = page_of(registry.get("/"))
    assert re.search(r"<title>Requêtes\b", home) and '<h1 id="list-title">Requêtes</h1>' in home
    assert "Mes requêtes" not in home
    assert "(Requérant, connecté à eComms)" in page and "ecomms)" not in page
    english = client_of(app, "registry-1", lang="en", roles=["registry"])
    assert "(Applicant, signed in to eComms)" in page_of(english.get("/applications/app-1"))


def test_a_deposit_receipt_leads_with_plain_words_and_keeps_the_technique_for_experts(app):
    with app.extensions["db"].session() as session:
        session.add(Document(application_id="app-1", direction="to_court", doc_type="letter", sender_sub="applicant-1",
                             stored_name="123-16_Lettre.pdf", size=300, sha256="0" * 64, storage_key="k-1"))
    applicant = client_of(app, "applicant-1")
    sent = page_of(applicant.get("/applications/app-1?tab=sent"))
    assert "Accusé de dépôt signé par la Cour (PDF)" in sent
    technical = sent[sent.index("<details"):sent.index("</details>")]
    assert "Détails techniques" in technical and "(JWS)" in technical
    assert "(JWS)" not in sent.replace(technical, "")
    verify = page_of(applicant.get("/receipts/verify"))
    details = verify[verify.index("<details"):verify.index("</details>")]
    lead = verify.replace(details, "")
    assert "accusé de dépôt signé par la Cour" in lead
    assert "ES256" in details and "/.well-known/jwks.json" in details
    assert "ES256" not in lead and "jwks" not in lead
    english = page_of(client_of(app, "applicant-1", lang="en").get("/receipts/verify"))
    assert "deposit receipt signed by the Court" in english and "Technical details" in english


def test_the_registry_queue_explains_its_states_in_plain_english(app):
    english = client_of(app, "registry-1", lang="en", roles=["registry"])
    page = page_of(english.get("/registry/queue"))
    assert "A filing stays New until someone in the registry opens it; it is then Read, and Processed once " \
           "marked as such." in page
    assert "then read, then processed" not in page
