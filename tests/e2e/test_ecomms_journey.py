"""Seed 000 end to end in Chromium, through a live IdP and a live eComms, mail read in the dev inbox:
the registry opens an application for a new applicant (invited through the provisioning API), the
applicant validates their account and lands signed in on eComms, reads the Court's document, sends
two PDFs (file picker and drag-and-drop, progress bars), gets a signed receipt and verifies it."""

from __future__ import annotations

import base64
import re
import secrets

import pytest
from fpdf import FPDF

from tests.idp.helpers import make_user
from tests.portals.ecomms.live import live_stack

pytestmark = pytest.mark.browser
PASSWORD = "Bonne-Passe-2026"


def pdf(text: str) -> bytes:
    document = FPDF()
    document.add_page()
    document.set_font("Helvetica", size=12)
    document.cell(0, 10, text)
    return bytes(document.output())


@pytest.fixture
def stack(tmp_path, monkeypatch, devinbox):
    for idp, portal in live_stack(tmp_path, monkeypatch, devinbox):
        make_user(idp.app, "greffe@echr.example", PASSWORD, roles=["registry"], given_name="Greta",
                  family_name="GREFFE")
        yield idp, portal, devinbox


def sign_in(page, portal_url: str, email: str, password: str) -> None:
    page.goto(portal_url + "/")
    page.get_by_role("link", name="Se connecter avec mon compte ECHR Services").click()
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url(portal_url + "/")


def test_applicant_journey_from_invitation_to_verified_receipt(stack, chromium, tmp_path):
    idp, portal, devinbox = stack
    applicant_email = f"requerant-{secrets.token_hex(3)}@example.org"
    registry = chromium.new_context(locale="fr-FR").new_page()
    applicant = chromium.new_context(locale="fr-FR", accept_downloads=True).new_page()

    # the registry opens the application: the applicant is invited through the IdP
    sign_in(registry, portal.url, "greffe@echr.example", PASSWORD)
    registry.get_by_role("link", name="Nouvelle requête").click()
    registry.get_by_label("Numéro de requête").fill("999/26")
    registry.get_by_label("Intitulé").fill("Requérant c. État")
    registry.get_by_label("Adresse électronique du requérant").fill(applicant_email)
    registry.get_by_role("button", name="Créer la requête").click()
    assert "La requête a été créée" in registry.content()
    court_letter = tmp_path / "Lettre_de_la_Cour.pdf"
    court_letter.write_bytes(pdf("Lettre de la Cour"))
    registry.locator("#file_1").set_input_files(str(court_letter))
    assert registry.locator("#type_1").input_value() == ""  # the registry chooses the type too
    registry.get_by_role("button", name="Déposer dans la Boîte de réception").click()
    assert "Choisissez le type de chaque document : « Lettre_de_la_Cour.pdf » n'en a pas encore." in registry.content()
    registry.locator("#file_1").set_input_files(str(court_letter))
    registry.locator("#type_1").select_option("letter")
    registry.get_by_role("button", name="Déposer dans la Boîte de réception").click()
    assert "Le document a été déposé" in registry.content()

    # the applicant's mail: the invitation, the new application, the new document
    messages = devinbox.wait_for(applicant_email, count=3)
    subjects = {m["subject"] for m in messages}
    assert {"ECHR eComms vous invite à créer votre compte", "Une requête a été ajoutée à votre compte eComms",
            "Un nouveau document est disponible dans eComms (requête n° 999/26)"} <= subjects
    invitation = next(m for m in messages if "invite" in m["subject"])
    link = next(url for url in invitation["links"] if "/activate/" in url)

    # seed 000 §1: password twice, "Reset password" (the manual's button), then straight to eComms, signed in
    applicant.goto(link)
    applicant.locator("#password").fill(PASSWORD)
    applicant.get_by_label("Répétez le mot de passe").fill(PASSWORD)
    applicant.get_by_role("button", name="Reset password").click()
    applicant.wait_for_url(portal.url + "/")
    applicant.get_by_role("link", name=re.compile(r"999.26")).click()

    # §3: the Court's document in the Inbox opens as a PDF
    inbox_link = applicant.get_by_role("link", name="999-26_Lettre_de_la_Cour.pdf", exact=True)
    opened = applicant.request.get(portal.url + inbox_link.get_attribute("href"))
    assert opened.headers["content-type"] == "application/pdf" and opened.body().startswith(b"%PDF")

    # §4: two PDFs, one from the picker, one dropped; progress bars; Envoyer once both are done
    applicant.get_by_role("link", name="Envoyer un/des document(s)").click()
    picked = tmp_path / "Observations.pdf"
    picked.write_bytes(pdf("Observations"))
    applicant.locator("#picker").set_input_files(str(picked))
    dropped = base64.b64encode(pdf("Annexe")).decode()
    applicant.evaluate("""([name, b64]) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: 'application/pdf'}));
        document.getElementById('drop-zone').dispatchEvent(
            new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }""", ["Annexe_1.pdf", dropped])
    applicant.locator("li[data-upload-id]").nth(1).wait_for()
    assert applicant.locator("#upload-list progress").count() == 2
    assert all(v == "100" for v in applicant.locator("#upload-list progress").evaluate_all(
        "bars => bars.map(b => String(b.value))"))
    assert applicant.locator("#send-button").is_disabled()  # uploaded, but no type chosen yet
    # the type is chosen at upload (seed 000 FAQ), never a silent default: each select starts empty
    assert applicant.locator("#upload-list select").evaluate_all("s => s.map(e => e.value)") == ["", ""]
    ids = applicant.locator("#upload-list select").evaluate_all("s => s.map(e => e.id)")
    assert len(set(ids)) == 2 and all(applicant.locator(f"label[for='{i}']").count() == 1 for i in ids)
    applicant.get_by_label(re.compile("Je confirme l'envoi")).check()
    assert applicant.get_by_role("button", name="Envoyer").is_disabled()  # the box alone is not enough
    with applicant.expect_navigation():  # as without the script: refused
        applicant.evaluate("document.getElementById('send-form').submit()")
    assert "« Observations.pdf » n'en a pas encore" in applicant.content()
    staged = applicant.locator("#staged-list select")
    assert staged.count() == 2
    staged.nth(0).select_option("observations")
    staged.nth(1).select_option("annex")
    assert applicant.get_by_role("button", name="Envoyer").is_disabled()  # the box is not ticked again yet
    with applicant.expect_navigation():  # as without the script: refused
        applicant.evaluate("document.getElementById('send-form').submit()")
    assert "Cochez la case de confirmation" in applicant.content()
    # forgetting the box keeps the uploaded files and their types: check it and send
    assert applicant.locator("#staged-list select").evaluate_all("s => s.map(e => e.value)") == [
        "observations", "annex"]
    applicant.get_by_label(re.compile("Je confirme l'envoi")).check()
    applicant.get_by_role("button", name="Envoyer").click()
    assert "Votre envoi a bien été reçu par la Cour" in applicant.content()
    sent = applicant.locator("main table").inner_text()
    assert "999-26_Observations.pdf" in sent and "999-26_Annexe_1.pdf" in sent and re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", sent)

    # the receipt, downloaded and verified by the portal's published key
    with applicant.expect_download() as download:
        applicant.locator("details", has_text="999-26_Observations.pdf").locator("summary").click()
        applicant.get_by_role("link", name="Accusé de dépôt électronique (JWS) 999-26_Observations.pdf").click()
    receipt = tmp_path / "receipt.jws"
    download.value.save_as(receipt)
    applicant.get_by_role("link", name="Vérifier un accusé de dépôt").click()
    applicant.get_by_label("Fichier de l'accusé de dépôt (.jws)").set_input_files(str(receipt))
    applicant.get_by_role("button", name="Vérifier").click()
    assert "Accusé de dépôt authentique" in applicant.content()
    assert "999-26_Observations.pdf" in applicant.content()
