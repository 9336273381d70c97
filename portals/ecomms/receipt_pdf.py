"""The deposit receipt as a page (fpdf2, then signed by ``pades``): the application number, every
file of the deposit with its type, size and SHA-256, the Strasbourg time each upload started and
the time of the deposit, in the language of the person who downloads it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from flask_babel import gettext as _
from fpdf import FPDF

from portals.ecomms.models import Application, Document
from shared.timeutil import as_utc, format_strasbourg, to_strasbourg

FONT_DIR = Path(os.environ.get("LETTER_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


def file_name(application: Application, documents: Sequence[Document]) -> str:
    """``accuse-depot-123-16-20261202-041503.pdf``: the application and the deposit's Strasbourg time."""
    moment = to_strasbourg(as_utc(min(d.created_at for d in documents)))
    return f"accuse-depot-{application.file_prefix}-{moment.strftime('%Y%m%d-%H%M%S')}.pdf"


def _strasbourg(moment) -> str:
    return format_strasbourg(as_utc(moment), with_seconds=True) + " " + _("(heure de Strasbourg)")


def render(application: Application, documents: Sequence[Document], labels: dict[str, str], issuer: str) -> bytes:
    """The unsigned page; uncompressed, so its figures can be read in the file itself."""
    pdf = FPDF()
    pdf.compress = False
    unicode = all((FONT_DIR / name).exists() for name in FONT_FILES.values())
    if unicode:
        for style, name in FONT_FILES.items():
            pdf.add_font("DejaVu", style, str(FONT_DIR / name))

    def font(style: str = "", size: int = 10) -> None:
        pdf.set_font("DejaVu" if unicode else "Helvetica", style, size)

    def text(value: str) -> str:
        return value if unicode else value.encode("latin-1", "replace").decode("latin-1")

    def line(value: str, style: str = "", size: int = 10, height: float = 6) -> None:
        font(style, size)
        pdf.multi_cell(0, height, text(value), new_x="LMARGIN", new_y="NEXT")

    ordered = sorted(documents, key=lambda d: (as_utc(d.created_at), d.stored_name))
    started = [as_utc(d.upload_started_at) for d in ordered if d.upload_started_at]
    deposited = as_utc(ordered[-1].created_at)
    pdf.set_title(text(_("Accusé de dépôt — requête n° %(number)s", number=application.number)))
    pdf.set_author("ECHR eComms")
    pdf.set_creator(issuer)
    pdf.add_page()
    line(_("Cour européenne des droits de l'homme — eComms"), "B", 11)
    line(_("Accusé de dépôt"), "B", 16, 10)
    line(_("Requête n° %(number)s — %(title)s", number=application.number, title=application.title))
    line(_("Début du téléchargement : %(time)s", time=_strasbourg(min(started) if started else deposited)))
    line(_("Dépôt reçu par la Cour : %(time)s", time=_strasbourg(deposited)))
    line(_("Nombre de documents : %(count)s", count=len(ordered)))
    pdf.ln(3)
    for index, document in enumerate(ordered, start=1):
        line(f"{index}. {document.stored_name}", "B")
        line(_("Type : %(type)s — taille : %(size)s octets", type=labels.get(document.doc_type, document.doc_type),
               size=document.size))
        if document.upload_started_at:
            line(_("Début du téléchargement : %(time)s", time=_strasbourg(document.upload_started_at)))
        line(_("Reçu : %(time)s", time=_strasbourg(document.created_at)))
        line(f"SHA-256 : {document.sha256}", size=9)
        pdf.ln(2)
    pdf.ln(2)
    line(_("Ce document est signé électroniquement par ECHR eComms (signature PAdES) : votre lecteur PDF indique si "
           "la signature est valide et si le document a été modifié depuis. L'empreinte SHA-256 de chaque fichier "
           "permet de vérifier qu'il s'agit bien du document déposé."), size=9, height=5)
    return bytes(pdf.output())
