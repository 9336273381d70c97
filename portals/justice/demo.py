"""Demo data (``make demo``): cases in several states, upcoming hearings and documents, whose
parties are the sandbox providers' demo citizens, with fixed identification numbers to type in.
Idempotent: a second run finds the cases and adds nothing."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from fpdf import FPDF
from sqlalchemy import select

from portals.justice import services
from portals.justice.models import Case, Event, Party
from shared.config import public_url_of
from shared.timeutil import STRASBOURG, to_strasbourg, utcnow

COURT_STRASBOURG = {"name": "Tribunal judiciaire de Strasbourg", "address": "19 avenue de la Paix, 67000 Strasbourg",
                    "phone": "03 88 75 27 27", "email": "tj-strasbourg@justice.example"}
COURT_COLMAR = {"name": "Tribunal de proximité de Colmar", "address": "7 place du Marché aux Fruits, 68000 Colmar",
                "phone": "03 89 20 28 00", "email": "tp-colmar@justice.example"}
COURT_PRUDHOMMES = {"name": "Conseil de prud'hommes de Strasbourg", "address": "2 rue du Marais Vert, 67000 Strasbourg",
                    "phone": "03 88 22 58 70", "email": "cph-strasbourg@justice.example"}

# (reference, nature, court, state, updating, ended days ago, parties, events)
# party: (role, last, first, email, mobile, identification number or None)
CASES = [
    ("RG 24/01234", "Divorce par consentement mutuel", COURT_STRASBOURG, "ongoing", False, None,
     [("Demandeur", "DUBOIS", "Angela", "angela.dubois@example.fr", "+33612345601", "DEMO-ANGE-LA01"),
      ("Défendeur", "DUBOIS", "Marc", None, None, None)],
     [("event", "Saisine du tribunal", -60, None), ("document", "Récépissé de la requête", -58, "receipt"),
      ("document", "Convocation à l'audience", -10, "summons"), ("hearing", "Audience de conciliation", 2, None),
      ("hearing", "Audience de jugement", 20, None)]),
    ("RG 23/00077", "Litige de consommation", COURT_COLMAR, "finished", False, 90,
     [("Demandeur", "DUBOIS", "Angela", "angela.dubois@example.fr", "+33612345601", "DEMO-ANGE-LA02"),
      ("Défendeur", "ÉLECTROMÉNAGER DE L'EST", "SARL", None, None, None)],
     [("event", "Saisine du tribunal", -200, None), ("hearing", "Audience", -120, None),
      ("decision", "Décision", -90, None)]),
    ("RG 24/00456", "Contestation de licenciement", COURT_PRUDHOMMES, "ongoing", True, None,
     [("Demandeur", "MARTIN", "Paul", "paul.martin@example.fr", "+33612345602", "DEMO-PAUL-0001"),
      ("Défendeur", "TRANSPORTS RHIN", "SAS", None, None, None)],
     [("event", "Saisine du conseil", -30, None), ("document", "Avis de réception de la requête", -29, "notice"),
      ("hearing", "Bureau de conciliation et d'orientation", 12, None)]),
    ("RG 24/09999", "Assistance éducative", COURT_STRASBOURG, "ongoing", False, None,
     [("Représentant légal de Léo PETIT", "PETIT", "Jean-Éric", "jean-eric.petit@example.fr", "+33612345603",
       "DEMO-JEAN-0001"),
      ("Représentant légal d'Emma PETIT", "PETIT", "Jean-Éric", "jean-eric.petit@example.fr", "+33612345603",
       "DEMO-JEAN-0002"),
      ("Mineur", "PETIT", "Léo", None, None, None), ("Mineur", "PETIT", "Emma", None, None, None)],
     [("event", "Ouverture de la procédure", -15, None), ("hearing", "Audience en chambre du conseil", 25, None)]),
]


def court_time(now: datetime, days: int, kind: str) -> datetime:
    """A court's working hour in Paris, ``days`` from now: hearings at 14:00, the rest at 10:00."""
    day = to_strasbourg(now + timedelta(days=days)).date()
    return datetime.combine(day, time(14 if kind == "hearing" else 10, 0), tzinfo=STRASBOURG)


def pdf_bytes(title: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 10, title.encode("latin-1", "replace").decode("latin-1"))
    return bytes(pdf.output())


def seed_demo() -> list[str]:
    from portals.justice import create_app

    app = create_app({"_quiet": True})
    lines = [f"Justice personal space ({public_url_of('justice')}): sign in through a sandbox provider, then",
             "  'Ajouter un dossier' with an identification number; the SMS code is in the dev inbox:"]
    with app.app_context(), app.extensions["db"].session() as session:
        now = utcnow()
        for reference, nature, court, state, updating, ended, parties, events in CASES:
            case = session.scalar(select(Case).where(Case.reference == reference))
            if case is None:
                case = Case(reference=reference, nature=nature, court_name=court["name"],
                            court_address=court["address"], court_phone=court["phone"], court_email=court["email"],
                            state=state, updating=updating,
                            ended_at=now - timedelta(days=ended) if ended else None,
                            state_label="Dossier terminé" if state == "finished" else "Dossier en cours")
                session.add(case)
                session.flush()
                for role, last, first, email, mobile, number in parties:
                    party = Party(case_id=case.id, role=role, last_name=last, first_name=first, email=email,
                                  mobile=mobile)
                    if number:
                        party.consent_at, party.identification_hash = now, services.number_hash(number)
                    session.add(party)
                for kind, label, days, document_kind in events:
                    session.add(Event(case_id=case.id, kind=kind, label=label, at=court_time(now, days, kind),
                                      location=court["name"] if kind == "hearing" else "",
                                      document_kind=document_kind,
                                      document_pdf=pdf_bytes(f"{label} - {reference}") if document_kind else None))
            for role, last, first, _email, _mobile, number in parties:
                if number:
                    lines.append(f"    {number}  {first} {last} ({role}), {reference} — {nature}")
    lines.append("  Angela DUBOIS: impots 1234567890123 / Sandbox-Impots-1 (or ameli); Paul MARTIN: impots "
                 "2345678901234; Jean-Éric PETIT: laposte jean-eric.petit")
    return lines
