"""The signed PDF deposit receipt (issue 17): one per deposit, listing every file with its SHA-256,
the Strasbourg times of upload start and of deposit and the application number; PAdES-signed, so
pyHanko's validator (with the receipts' trust root) accepts it and refuses any modified copy."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlalchemy import select

from portals.ecomms import pades, receipt_pdf, services
from portals.ecomms.models import Document, OutboxMessage
from shared.config import ConfigError
from shared.rp.testing import sign_in
from shared.timeutil import utcnow
from tests.portals.ecomms.conftest import csrf_of, make_pdf

SEND = "/applications/app-1/send"


def send_two(client) -> tuple[bytes, bytes]:
    one, two = make_pdf("one"), make_pdf("two")
    answer = client.post(SEND, content_type="multipart/form-data", data={
        "csrf_token": csrf_of(client, SEND), "confirm": "yes",
        "file_1": (io.BytesIO(one), "Observations.pdf"), "type_1": "observations",
        "file_2": (io.BytesIO(two), "Annexe.pdf"), "type_2": "annex"})
    assert answer.status_code == 302
    return one, two


def receipt_link(client) -> str:
    page = client.get("/applications/app-1?tab=sent").get_data(as_text=True)
    links = set(re.findall(r'href="(/documents/[^"]+/receipt\.pdf)"', page))
    assert len(links) == 2, "each sent document links to its deposit's signed PDF receipt"
    return sorted(links)[0]


def trust_root(client):
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    _kind, _headers, der = pem.unarmor(client.get("/.well-known/receipt-ca.pem").data)
    return asn1_x509.Certificate.load(der)


def validate(pdf: bytes, root):
    [signature] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    return pades.run_coroutine(lambda: async_validate_pdf_signature(signature, ValidationContext(trust_roots=[root])))


@pytest.fixture
def applicant(app):
    client = app.test_client()
    sign_in(client, sub="applicant-1", claims={"email": "a@example.org"})
    return client


def test_the_receipt_lists_the_deposit_and_its_signature_validates_with_pyhanko(app, applicant):
    started = utcnow()
    one, two = send_two(applicant)
    answer = applicant.get(receipt_link(applicant))
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert re.match(r'attachment; filename=accuse-depot-123-16-\d{8}-\d{6}\.pdf', answer.headers["Content-Disposition"])
    status = validate(answer.data, trust_root(applicant))
    assert status.bottom_line, status.pretty_print_details()
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert "accusés de dépôt" in status.signing_cert.subject.human_friendly

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.data)).pages)
    assert "123/16" in text and "123-16_Observations.pdf" in text and "123-16_Annexe.pdf" in text
    assert hashlib.sha256(one).hexdigest() in text and hashlib.sha256(two).hexdigest() in text
    assert "Début du téléchargement" in text and "Dépôt reçu par la Cour" in text and "heure de Strasbourg" in text
    with app.extensions["db"].session() as session:
        documents = list(session.scalars(select(Document)))
        assert len({d.deposit_id for d in documents}) == 1, "one sending, one deposit"
        for document in documents:
            assert document.upload_started_at is not None
            assert abs(services.as_utc(document.upload_started_at) - started) < timedelta(minutes=1)
            strasbourg = services.format_strasbourg(document.created_at, with_seconds=True)
            assert strasbourg in text, "the deposit time in Strasbourg time"


def test_the_registry_downloads_it_another_applicant_does_not(app, applicant):
    send_two(applicant)
    link = receipt_link(applicant)
    registry = app.test_client()
    sign_in(registry, sub="registry-1", claims={"roles": ["registry"]})
    answer = registry.get(link)
    assert answer.status_code == 200 and validate(answer.data, trust_root(registry)).bottom_line
    assert "receipt.pdf" in registry.get("/applications/app-1?tab=sent").get_data(as_text=True)
    stranger = app.test_client()
    sign_in(stranger, sub="applicant-2", claims={"email": "c@example.org"})
    assert stranger.get(link).status_code == 404


def test_a_modified_receipt_fails_validation(app, applicant):
    send_two(applicant)
    signed = applicant.get(receipt_link(applicant)).data
    root = trust_root(applicant)
    assert validate(signed, root).bottom_line
    # a byte of the signed revision changed (here the page's size)
    assert signed.count(b"/MediaBox [0 0 595.28 841.89]") == 1
    tampered = signed.replace(b"/MediaBox [0 0 595.28 841.89]", b"/MediaBox [0 0 595.28 841.80]")
    status = validate(tampered, root)
    assert not status.bottom_line and not status.intact
    # the signed bytes kept, the page's text replaced by an incremental update after the signature
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Contents"] = writer.add_object(generic.StreamObject(
        stream_data=b"BT /F1 12 Tf 10 10 Td (SHA-256 : 0000) Tj ET"))
    writer.update_container(page)
    shadowed = io.BytesIO()
    writer.write(shadowed)
    status = validate(shadowed.getvalue(), root)
    assert status.intact and not status.bottom_line and not status.docmdp_ok
    assert status.coverage.name != "ENTIRE_FILE"


def test_a_receipt_signed_by_anyone_else_is_not_trusted(app, applicant, tmp_path):
    """Receipt forgery: a look-alike PDF signed with the forger's own self-signed certificate."""
    send_two(applicant)
    genuine = applicant.get(receipt_link(applicant)).data
    forger = pades._split(pades.generate_development())  # same names, another key: not the Court's CA
    with app.test_request_context(), app.extensions["db"].session() as session:
        documents = list(session.scalars(select(Document)))
        look_alike = receipt_pdf.render(documents[0].application, documents, {}, "http://localhost:8001")
    forged = pades.sign(look_alike, forger, reason="Accusé de dépôt eComms")
    assert genuine != forged
    status = validate(forged, trust_root(applicant))
    assert status.intact and not status.trusted and not status.bottom_line


def test_the_confirmation_email_names_the_receipt(app, applicant):
    send_two(applicant)
    with app.extensions["db"].session() as session:
        [confirmation] = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "a@example.org"))
        body = confirmation.body_text
    name = re.search(r"accuse-depot-123-16-\d{8}-\d{6}\.pdf", body)
    assert name, body
    link = re.search(r"http://\S+/documents/(\S+)/receipt\.pdf", body)
    answer = applicant.get(f"/documents/{link.group(1)}/receipt.pdf")
    assert answer.status_code == 200 and name.group(0) in answer.headers["Content-Disposition"]


def _certificate(organisation: str, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, "receipts")])
    now = utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    paths = {"ECOMMS_RECEIPT_KEY": tmp_path / "key.pem", "ECOMMS_RECEIPT_CERT": tmp_path / "cert.pem",
             "ECOMMS_RECEIPT_CHAIN": tmp_path / "chain.pem"}
    paths["ECOMMS_RECEIPT_KEY"].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                              serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))
    paths["ECOMMS_RECEIPT_CERT"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["ECOMMS_RECEIPT_CHAIN"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return {k: str(v) for k, v in paths.items()}


def test_production_refuses_the_development_signing_certificate(tmp_path):
    with pytest.raises(ConfigError, match="ECOMMS_RECEIPT_KEY"):
        pades.check_production({"APP_ENV": "production"})
    development = pades._split(pades.generate_development())
    (tmp_path / "dev").mkdir()
    env = _certificate("Court", tmp_path / "dev")
    (tmp_path / "dev" / "cert.pem").write_bytes(development.cert_pem)
    with pytest.raises(ConfigError, match="development"):
        pades.check_production({"APP_ENV": "production", **env})
    (tmp_path / "court").mkdir()
    pades.check_production({"APP_ENV": "production", **_certificate("Cour européenne des droits de l'homme",
                                                                    tmp_path / "court")})


def test_the_verify_page_given_the_pdf_receipt_says_where_it_is_checked(app, applicant):
    """Outside review: the genuine PDF receipt put into "Vérifier un accusé de dépôt" was called
    modified; the page checks the .jws, and says that the PDF is checked in a PDF reader."""
    send_two(applicant)
    pdf = applicant.get(receipt_link(applicant)).data
    answer = applicant.post("/receipts/verify", content_type="multipart/form-data", data={
        "csrf_token": csrf_of(applicant, "/receipts/verify"), "receipt_file": (io.BytesIO(pdf), "accuse.pdf")})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "accusé de dépôt signé (PDF)" in page and "/.well-known/receipt-ca.pem" in page
    assert "il a été modifié" not in page
