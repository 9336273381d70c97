"""Demo data (``make demo``): the applicant Marie REQUÉRANTE with two applications and documents
both ways. Idempotent: a second run finds the applications and adds nothing."""

from __future__ import annotations

import io
from datetime import timedelta

from fpdf import FPDF
from sqlalchemy import select

from portals.ecomms import services, storage
from portals.ecomms.models import Application, Document
from shared.config import public_url_of
from shared.timeutil import utcnow

APPLICATIONS = [
    ("123/16", "Requérante c. État défendeur", [
        ("from_court", "letter", "Lettre_de_la_Cour_communication.pdf", 20),
        ("to_court", "observations", "Observations_requerante.pdf", 3)]),
    ("4567/24", "Requérante c. État défendeur (II)", [
        ("from_court", "letter", "Accuse_de_reception_requete.pdf", 5)]),
]


def pdf_bytes(title: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 10, title)
    pdf.ln(12)
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 8, "Document de demonstration eComms / eComms demonstration document.")
    return bytes(pdf.output())


def seed_demo(registry_sub: str, applicant_sub: str, applicant_email: str) -> list[str]:
    from portals.ecomms import create_app

    app = create_app({"_quiet": True})
    with app.app_context():
        db = app.extensions["db"]
        with db.session() as session:
            for number, title, documents in APPLICATIONS:
                if session.scalar(select(Application.id).where(Application.number == number)):
                    continue
                application = Application(number=number, title=title, applicant_email=applicant_email,
                                          applicant_sub=applicant_sub, created_by=registry_sub)
                session.add(application)
                session.flush()
                for direction, doc_type, name, days_ago in documents:
                    temp = storage.receive_stream(io.BytesIO(pdf_bytes(f"{number} - {name}")),
                                                  services.storage_folder())
                    sha256, size = temp.finish()
                    stored = storage.publish(temp, services.storage_folder())
                    session.add(Document(application_id=application.id, direction=direction, doc_type=doc_type,
                                         stored_name=f"{application.file_prefix}_{name}", size=size, sha256=sha256,
                                         storage_key=stored.key,
                                         sender_sub=registry_sub if direction == "from_court" else applicant_sub,
                                         created_at=utcnow() - timedelta(days=days_ago)))
    return [f"eComms ({public_url_of('ecomms')}):",
            f"  {applicant_email} has applications 123/16 and 4567/24 with documents both ways;",
            "  greffe@echr.example (registry) creates applications, sends documents and closes them."]
