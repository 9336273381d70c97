"""Every email eComms sends, through the outbox, in the recipient's language, each naming the
application (and the document) and linking straight to it.

Who is told of what:
- the applicant: an application added to their account, a new document from the Court, the
  confirmation of their own filing (with its receipt's figures), the closing of the application;
- the registry's mailbox (``[registry] email``): every filing, and an applicant whose address
  changed (the application is detached and waits to be re-attached).

A notice to the applicant goes only to the address of an attached application: once the account's
address changed (``attachment``), nothing more goes to the old one.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from portals.ecomms import receipt_pdf
from portals.ecomms.models import Application, Document, OutboxMessage
from shared.appkit import get_settings
from shared.outbox import queue_email
from shared.timeutil import format_strasbourg

REGISTRY_EMAIL = "greffe@echr.example"


def registry_email() -> str:
    return str(get_settings().section("registry").get("email", REGISTRY_EMAIL))


def registry_locale() -> str:
    return str(get_settings().section("registry").get("locale", "fr"))


def application_url(application: Application, tab: str = "inbox") -> str:
    return f"{get_settings().public_url}/applications/{application.id}?tab={tab}"


def _footer() -> str:
    return "\n\n" + _("Si vous ne trouvez pas nos courriels, vérifiez votre dossier de courrier indésirable.")


def _to_applicant(session: Session, application: Application, subject: str, body: str) -> None:
    if application.applicant_sub is None or application.detached_at is not None:
        return  # detached: the address is no longer the account's
    queue_email(session, OutboxMessage, to=application.applicant_email, subject=subject, body_text=body,
                locale=application.applicant_locale)


def new_application(session: Session, application: Application) -> None:
    with force_locale(application.applicant_locale):
        subject = _("Une requête a été ajoutée à votre compte eComms")
        body = _("Bonjour,\n\nLa Cour a ajouté la requête n° %(number)s à votre liste de requêtes dans eComms. "
                 "Toute correspondance se fera désormais par voie électronique.\n\nAccéder à la requête : %(url)s",
                 number=application.number, url=application_url(application)) + _footer()
        _to_applicant(session, application, subject, body)


def new_documents(session: Session, application: Application, documents: Sequence[Document]) -> None:
    with force_locale(application.applicant_locale):
        names = "\n".join(f"- {d.stored_name}" for d in documents)
        subject = _("Un nouveau document est disponible dans eComms (requête n° %(number)s)",
                    number=application.number)
        body = _("Bonjour,\n\nLa Cour a déposé dans votre Boîte de réception eComms, pour la requête n° %(number)s :"
                 "\n%(names)s\n\nOuvrir la Boîte de réception : %(url)s",
                 number=application.number, names=names, url=application_url(application)) + _footer()
        _to_applicant(session, application, subject, body)


def _file_lines(documents: Sequence[Document]) -> str:
    return "\n".join(f"- {d.stored_name} ({d.size} o, SHA-256 {d.sha256}) — "
                     f"{format_strasbourg(d.created_at, with_seconds=True)}" for d in documents)


def filing(session: Session, application: Application, documents: Sequence[Document]) -> None:
    """The filer's confirmation (its receipt's figures) and the registry's notice of the filing."""
    receipt_url = "{}/documents/{}/receipt.pdf".format(get_settings().public_url, documents[0].id)
    with force_locale(application.applicant_locale):
        subject = _("Confirmation de votre envoi à la Cour (requête n° %(number)s)", number=application.number)
        body = _("Bonjour,\n\nLa Cour a bien reçu votre envoi pour la requête n° %(number)s, horodaté à l'heure de "
                 "Strasbourg :\n%(files)s\n\nVotre accusé de dépôt signé (PDF), %(receipt)s : %(receipt_url)s\n"
                 "Il est aussi dans Éléments envoyés : %(url)s", number=application.number, files=_file_lines(documents),
                 receipt=receipt_pdf.file_name(application, documents),
                 receipt_url=receipt_url,
                 url=application_url(application, "sent")) + _footer()
        _to_applicant(session, application, subject, body)
    with force_locale(registry_locale()):
        queue_email(session, OutboxMessage, to=registry_email(), locale=registry_locale(),
                    subject=_("Nouveau dépôt du requérant — requête n° %(number)s", number=application.number),
                    body_text=_("Le requérant a déposé pour la requête n° %(number)s :\n%(files)s\n\nOuvrir la "
                                "requête : %(url)s", number=application.number, files=_file_lines(documents),
                                url=application_url(application, "sent")))


def closed(session: Session, application: Application, purge_text: str | None) -> None:
    with force_locale(application.applicant_locale):
        subject = _("La requête n° %(number)s a été close par la Cour", number=application.number)
        if purge_text:
            kept = _("Vous pouvez télécharger ses documents jusqu'au %(date)s (heure de Strasbourg) ; ils seront "
                     "ensuite supprimés d'eComms : %(url)s", date=purge_text, url=application_url(application))
        else:
            kept = _("Ses documents ont été supprimés d'eComms.")
        body = _("Bonjour,\n\nLa Cour a clos la requête n° %(number)s.", number=application.number) + " " + kept
        _to_applicant(session, application, subject, body + _footer())


def detached(session: Session, application: Application, old_email: str) -> None:
    with force_locale(registry_locale()):
        queue_email(session, OutboxMessage, to=registry_email(), locale=registry_locale(),
                    subject=_("Requête n° %(number)s : le requérant a changé d'adresse électronique",
                              number=application.number),
                    body_text=_("Le compte ECHR Services de %(email)s a changé d'adresse électronique : la requête "
                                "n° %(number)s n'est plus rattachée à ce compte et plus aucun courriel n'est envoyé à "
                                "l'ancienne adresse. Rattachez la requête à la nouvelle adresse du requérant : %(url)s",
                                email=old_email, number=application.number, url=application_url(application)))
