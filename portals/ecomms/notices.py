"""Every email eComms sends, through the outbox, in the recipient's language, each naming the
application (and the document) and linking straight to it.

Who is told of what:
- every person attached to the application (its applicant and representatives, each in their own
  language): the application added to their account, a new document from the Court, the
  confirmation of a filing (with its receipt's figures), the closing of the application;
- the registry's mailbox (``[registry] email``): every filing (at once, or in one daily digest with
  ``[registry] filing_notices = "daily"``), and a person whose address changed (the application is
  detached and waits to be re-attached).

A notice goes only to the address of an attached person: once the account's address changed
(``attachment``) or the registry removed the person, nothing more goes there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portals.ecomms import receipt_pdf
from portals.ecomms.models import Application, Document, OutboxMessage, Party
from shared.appkit import get_settings
from shared.outbox import queue_email
from shared.timeutil import format_strasbourg, to_strasbourg, utcnow

REGISTRY_EMAIL = "greffe@echr.example"


def registry_email() -> str:
    return str(get_settings().section("registry").get("email", REGISTRY_EMAIL))


def registry_locale() -> str:
    return str(get_settings().section("registry").get("locale", "fr"))


def application_url(application: Application, tab: str = "inbox") -> str:
    return f"{get_settings().public_url}/applications/{application.id}?tab={tab}"


def _footer() -> str:
    return "\n\n" + _("Si vous ne trouvez pas nos courriels, vérifiez votre dossier de courrier indésirable.")


def _to_people(session: Session, application: Application, write, only: Party | None = None) -> None:
    """One email to each attached person (or to ``only``), written by ``write()`` in their language."""
    for party in [only] if only else application.attached:
        if not party.is_attached:
            continue  # detached: the address is no longer the account's
        with force_locale(party.locale):
            subject, body = write()
        queue_email(session, OutboxMessage, to=party.email, subject=subject, body_text=body, locale=party.locale)


def new_application(session: Session, application: Application, party: Party | None = None) -> None:
    """The application added to the account of ``party`` (else of every attached person)."""
    def write():
        return (_("Une requête a été ajoutée à votre compte eComms"),
                _("Bonjour,\n\nLa Cour a ajouté la requête n° %(number)s à votre liste de requêtes dans eComms. "
                  "Toute correspondance se fera désormais par voie électronique.\n\nAccéder à la requête : %(url)s",
                  number=application.number, url=application_url(application)) + _footer())
    _to_people(session, application, write, party)


def new_documents(session: Session, application: Application, documents: Sequence[Document]) -> None:
    names = "\n".join(f"- {d.stored_name}" for d in documents)

    def write():
        return (_("Un nouveau document est disponible dans eComms (requête n° %(number)s)", number=application.number),
                _("Bonjour,\n\nLa Cour a déposé dans votre Boîte de réception eComms, pour la requête n° %(number)s :"
                  "\n%(names)s\n\nOuvrir la Boîte de réception : %(url)s",
                  number=application.number, names=names, url=application_url(application)) + _footer())
    _to_people(session, application, write)


def _file_lines(documents: Sequence[Document]) -> str:
    return "\n".join(f"- {d.stored_name} ({d.size} o, SHA-256 {d.sha256}) — "
                     f"{format_strasbourg(d.created_at, with_seconds=True)}" for d in documents)


def filing(session: Session, application: Application, documents: Sequence[Document]) -> None:
    """The confirmation to every attached person (the receipt's figures, a link to the signed PDF
    receipt) and the registry's notice of the filing (at once, or kept for the day's digest)."""
    receipt_url = "{}/documents/{}/receipt.pdf".format(get_settings().public_url, documents[0].id)

    def write():
        return (_("Confirmation de votre envoi à la Cour (requête n° %(number)s)", number=application.number),
                _("Bonjour,\n\nLa Cour a bien reçu votre envoi pour la requête n° %(number)s, horodaté à l'heure de "
                  "Strasbourg :\n%(files)s\n\nVotre accusé de dépôt signé (PDF), %(receipt)s : %(receipt_url)s\n"
                  "Il est aussi dans Éléments envoyés : %(url)s", number=application.number,
                  files=_file_lines(documents), receipt=receipt_pdf.file_name(application, documents),
                  receipt_url=receipt_url, url=application_url(application, "sent")) + _footer())
    _to_people(session, application, write)
    if filing_notices() == "daily":
        return  # daily_digest tells the registry
    with force_locale(registry_locale()):
        queue_email(session, OutboxMessage, to=registry_email(), locale=registry_locale(),
                    subject=_("Nouveau dépôt du requérant — requête n° %(number)s", number=application.number),
                    body_text=_("Le requérant a déposé pour la requête n° %(number)s :\n%(files)s\n\nOuvrir la "
                                "requête : %(url)s", number=application.number, files=_file_lines(documents),
                                url=application_url(application, "sent")))
    for document in documents:
        document.registry_notified_at = utcnow()


def filing_notices() -> str:
    """``[registry] filing_notices``: "immediate" (one email per filing, the default) or "daily"."""
    chosen = str(get_settings().section("registry").get("filing_notices", "immediate"))
    return chosen if chosen in ("immediate", "daily") else "immediate"


def digest_hour() -> int:
    """``[registry] digest_hour``: the Strasbourg hour from which the day's digest goes (8 by default)."""
    return min(23, max(0, int(get_settings().section("registry").get("digest_hour", 8))))


def daily_digest(session: Session, now: datetime | None = None) -> int:
    """Once a day, from ``digest_hour`` (Strasbourg), one email to the registry listing every filing it
    was not yet told of, application by application; returns how many filings it named."""
    now = now or utcnow()
    local = to_strasbourg(now)
    if local.hour < digest_hour():
        return 0
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    told_today = session.scalar(select(Document.id).where(Document.registry_notified_at >= day_start).limit(1))
    pending = list(session.scalars(select(Document).where(Document.direction == "to_court",
                                                          Document.registry_notified_at.is_(None))
                                   .order_by(Document.application_id, Document.created_at)))
    if told_today or not pending:
        return 0
    by_application: dict[str, list[Document]] = {}
    for document in pending:
        by_application.setdefault(document.application_id, []).append(document)
    queue_url = f"{get_settings().public_url}/registry/queue"
    with force_locale(registry_locale()):
        sections = [_("Requête n° %(number)s (%(url)s) :", number=docs[0].application.number,
                      url=application_url(docs[0].application, "sent")) + "\n" + _file_lines(docs)
                    for docs in by_application.values()]
        queue_email(session, OutboxMessage, to=registry_email(), locale=registry_locale(),
                    subject=_("eComms : %(count)s nouveau(x) dépôt(s) depuis le dernier résumé", count=len(pending)),
                    body_text=_("Dépôts reçus depuis le dernier résumé quotidien :") + "\n\n" + "\n\n".join(sections)
                    + "\n\n" + _("File de travail du greffe : %(url)s", url=queue_url))
    for document in pending:
        document.registry_notified_at = now
    return len(pending)


def closed(session: Session, application: Application, purge_text: str | None) -> None:
    def write():
        if purge_text:
            kept = _("Vous pouvez télécharger ses documents jusqu'au %(date)s (heure de Strasbourg) ; ils seront "
                     "ensuite supprimés d'eComms : %(url)s", date=purge_text, url=application_url(application))
        else:
            kept = _("Ses documents ont été supprimés d'eComms.")
        body = _("Bonjour,\n\nLa Cour a clos la requête n° %(number)s.", number=application.number) + " " + kept
        return _("La requête n° %(number)s a été close par la Cour", number=application.number), body + _footer()
    _to_people(session, application, write)


def detached(session: Session, application: Application, old_email: str) -> None:
    with force_locale(registry_locale()):
        queue_email(session, OutboxMessage, to=registry_email(), locale=registry_locale(),
                    subject=_("Requête n° %(number)s : le requérant a changé d'adresse électronique",
                              number=application.number),
                    body_text=_("Le compte ECHR Services de %(email)s a changé d'adresse électronique : la requête "
                                "n° %(number)s n'est plus rattachée à ce compte et plus aucun courriel n'est envoyé à "
                                "l'ancienne adresse. Rattachez la requête à la nouvelle adresse du requérant : %(url)s",
                                email=old_email, number=application.number, url=application_url(application)))
