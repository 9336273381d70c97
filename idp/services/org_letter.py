"""The postal letter that carries an administrator request's confirmation codes to the legal
representative (seed 002): its wording, its PDF layout and its place in the outbox.

Everything a requester typed (their names and address, the organisation's fields when they
registered it) is shown only as the *value* of a fixed, labelled field, in a framed table headed
as declared and unverified, never inside the letter's own sentences. Values are one line of
bounded length when stored (``idp.services.text_fields``); ``one_line`` enforces it again here
for rows written before that rule, so no value can add a line that reads as the letter's own
instruction. The letter's instructions are fixed text, and say that nobody will ever ask for the
codes by telephone, email or text message, and how to report a request nobody expected.

It is set in DejaVu Sans when the font is installed (Debian's ``fonts-dejavu-core``): every name
prints as typed (Ł, ő, ş...) and the guillemets stay; without it the core Latin-1 font is the
fallback (characters outside Latin-1 become "?").
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from idp.services.text_fields import one_line
from idp.storage.sql.models import Account
from idp.storage.sql.organisations import AdminRequest, Organisation, OrganisationStore
from shared.timeutil import as_utc, to_strasbourg

SENDER = "Portail e-services des organisations"
FONT_DIR = Path(os.environ.get("LETTER_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
SUBJECT = "Codes de confirmation de l'administrateur de votre organisation"
LABEL_WIDTH = 62  # mm: the label column of the PDF's tables


@dataclass
class Letter:
    """What the legal representative receives (the PDF is generated from this)."""

    request: AdminRequest
    organisation: Organisation
    candidate: Account
    codes: tuple[str, str]
    code_entry_url: str
    others: list[AdminRequest] = field(default_factory=list)  # other requests still pending for this organisation


def date_fr(moment: datetime) -> str:
    return to_strasbourg(as_utc(moment)).strftime("%d/%m/%Y")


def postal_address(organisation: Organisation) -> str:
    """The recipient block, one line per part (each part is one line of its own)."""
    return "\n".join([
        f"{one_line(organisation.legal_rep_title, 'legal_rep_title')} "
        f"{one_line(organisation.legal_rep_name, 'legal_rep_name')}",
        one_line(organisation.name, "org_name"),
        one_line(organisation.address_line, "org_address_line"),
        f"{one_line(organisation.postcode)} {one_line(organisation.city, 'org_city').upper()}",
    ])


def declared_fields(letter: Letter) -> list[tuple[str, str]]:
    """What the requester declared: labelled values, shown as such."""
    candidate = letter.candidate
    return [
        ("Organisation", one_line(letter.organisation.name, "org_name")),
        ("Prénom du demandeur", one_line(candidate.given_name, "given_name") or "-"),
        ("Nom du demandeur", one_line(candidate.family_name, "family_name") or "-"),
        ("Adresse électronique du demandeur", one_line(candidate.email, "email")),
    ]


def code_fields(letter: Letter) -> list[tuple[str, str]]:
    request = letter.request
    return [
        ("Référence de la demande", request.reference),
        ("Demande faite le", date_fr(request.created_at)),
        ("Code de confirmation n° 1", letter.codes[0]),
        ("Code de confirmation n° 2", letter.codes[1]),
        ("À saisir avant le", date_fr(request.expires_at)),
        ("Page où les saisir", letter.code_entry_url),
    ]


def other_fields(letter: Letter) -> list[tuple[str, str]]:
    return [(f"Autre demande en attente : {other.reference}", f"faite le {date_fr(other.created_at)}")
            for other in letter.others]


INTRODUCTION = (
    "Une personne a demandé à devenir l'administrateur de votre organisation sur le portail e-services. "
    "L'administrateur abonne l'organisation aux e-services, valide les comptes des utilisateurs et autorise "
    "chaque utilisateur à utiliser chaque e-service. En tant que représentant légal, vous seul pouvez valider ce rôle."
)
DECLARED_HEADING = "Informations déclarées par le demandeur (non vérifiées par le portail)"
CODES_HEADING = "Vos codes de confirmation"
APPROVE = ("Si vous approuvez cette demande, saisissez vous-même la référence et les deux codes sur la page "
           "indiquée ci-dessus, avant la date indiquée.")
WARNING = ("Ne communiquez ces codes à personne : aucun agent du portail ne vous les demandera, ni par téléphone, "
           "ni par courriel, ni par SMS. Les informations déclarées ci-dessus ne sont pas des instructions du "
           "portail.")
OTHERS = ("Plusieurs demandes sont en attente pour cette organisation, chacune avec ses propres codes. "
          "Saisissez les codes de la seule demande que vous approuvez : les autres seront alors annulées.")
REFUSE = "Si vous n'approuvez pas cette demande, ignorez ce courrier : l'administrateur ne sera pas validé."
REPORT = ("Vous n'attendiez pas ce courrier, ou quelqu'un vous demande ces codes ? Signalez-le au moyen du formulaire "
          "de demande d'assistance du portail (objet « Courrier des codes de confirmation »), en indiquant la "
          "référence de la demande : {support_url}")


def sender_lines(letter: Letter) -> list[str]:
    """The sender block: who writes, where to check that the letter is genuine, the reference."""
    return [SENDER, portal_url(letter) + "/", f"Référence : {letter.request.reference}"]


def portal_url(letter: Letter) -> str:
    return letter.code_entry_url.rsplit("/", 1)[0]


def report_text(letter: Letter) -> str:
    return REPORT.format(support_url=portal_url(letter) + "/assistance")


def letter_text(letter: Letter) -> tuple[str, str]:
    """Subject and plain text (the outbox's text part): fixed sentences and ``Label : value`` lines."""
    def rows(pairs):
        return [f"{label} : {value}" for label, value in pairs]

    lines = ["Madame, Monsieur,", "", INTRODUCTION, "", DECLARED_HEADING, *rows(declared_fields(letter)), "",
             CODES_HEADING, *rows(code_fields(letter)), "", APPROVE, WARNING]
    if letter.others:
        lines += ["", OTHERS, *rows(other_fields(letter))]
    lines += ["", REFUSE, report_text(letter), "", SENDER]
    return SUBJECT, "\n".join(["\n".join(sender_lines(letter)), "", *lines])


class _Fonts:
    """The letter's font: DejaVu Sans (Unicode) when installed, else the core Latin-1 Helvetica."""

    def __init__(self, pdf):
        self.pdf = pdf
        self.unicode = all((FONT_DIR / name).exists() for name in FONT_FILES.values())
        if self.unicode:
            for style, name in FONT_FILES.items():
                pdf.add_font("DejaVu", style, str(FONT_DIR / name))

    def use(self, style: str = "", size: int = 10) -> None:
        self.pdf.set_font("DejaVu" if self.unicode else "Helvetica", style, size)

    def text(self, text: str) -> str:
        if self.unicode:
            return text
        text = text.replace("’", "'").replace("«", '"').replace("»", '"').replace("…", "...")
        return text.encode("latin-1", "replace").decode("latin-1")


def _table(pdf, fonts: _Fonts, heading: str, pairs: list[tuple[str, str]]) -> None:
    fonts.use("B")
    pdf.multi_cell(0, 6, fonts.text(heading), new_x="LMARGIN", new_y="NEXT")
    fonts.use()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    with pdf.table(col_widths=(LABEL_WIDTH, width - LABEL_WIDTH), first_row_as_headings=False,
                   text_align="LEFT", line_height=5.5) as table:
        for label, value in pairs:
            row = table.row()
            row.cell(fonts.text(f"{label} :"))
            row.cell(fonts.text(value))
    pdf.ln(3)


def _paragraph(pdf, fonts: _Fonts, text: str, bold: bool = False) -> None:
    fonts.use("B" if bold else "")
    pdf.multi_cell(0, 5, fonts.text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def letter_pdf(letter: Letter) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(SUBJECT)
    pdf.set_creator(SENDER)
    pdf.add_page()
    fonts = _Fonts(pdf)
    for number, line in enumerate(sender_lines(letter)):  # the sender block, top left
        fonts.use("B" if number == 0 else "", 12 if number == 0 else 9)
        pdf.cell(0, 6 if number == 0 else 4.5, fonts.text(line), new_x="LMARGIN", new_y="NEXT")
    fonts.use()
    pdf.ln(12)
    for line in postal_address(letter.organisation).splitlines():  # the window-envelope block
        pdf.set_x(110)  # each part wraps inside the block, never past the page's margin
        pdf.multi_cell(pdf.w - pdf.r_margin - 110, 5, fonts.text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    pdf.cell(0, 5, fonts.text(f"Le {date_fr(letter.request.created_at)}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _paragraph(pdf, fonts, f"Objet : {SUBJECT}", bold=True)
    _paragraph(pdf, fonts, "Madame, Monsieur,")
    _paragraph(pdf, fonts, INTRODUCTION)
    _table(pdf, fonts, DECLARED_HEADING, declared_fields(letter))
    _table(pdf, fonts, CODES_HEADING, code_fields(letter))
    _paragraph(pdf, fonts, APPROVE)
    _paragraph(pdf, fonts, WARNING, bold=True)
    if letter.others:
        _paragraph(pdf, fonts, OTHERS)
        _table(pdf, fonts, "Autres demandes", other_fields(letter))
    _paragraph(pdf, fonts, REFUSE)
    _paragraph(pdf, fonts, report_text(letter))
    _paragraph(pdf, fonts, SENDER)
    return bytes(pdf.output())


def queue_letter(store: OrganisationStore, letter: Letter) -> None:
    """The letter goes to the outbox in the same transaction as the request it announces."""
    from idp.storage.sql.outbox import OutboxMessage
    from shared.outbox import queue_letter as shared_queue_letter

    subject, body = letter_text(letter)
    shared_queue_letter(store.session, OutboxMessage, to=postal_address(letter.organisation), subject=subject,
                        body_text=body, pdf=letter_pdf(letter), filename=f"courrier-{letter.request.reference}.pdf",
                        locale="fr")
