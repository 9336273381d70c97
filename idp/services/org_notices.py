"""Emails about administrator requests that compete for one organisation (seed 002): a new
request never replaces another person's silently. Each email goes to the candidate's own
(verified) address, in their language, and names the organisation (one line) and the requests by
reference and date only: never what another candidate typed.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from idp.services.org_letter import date_fr, one_line
from idp.storage.sql.models import Account
from idp.storage.sql.organisations import AdminRequest, Organisation
from idp.storage.sql.outbox import OutboxMessage
from shared.outbox import queue_email


def _send(session: Session, account: Account | None, subject_and_body) -> None:
    if account is None:
        return
    locale = account.locale if account.locale in ("fr", "en") else "fr"
    with force_locale(locale):
        subject, body = subject_and_body()
        body += "\n\n-- \n" + _("Portail e-services des organisations — ce message est envoyé automatiquement, "
                                "n'y répondez pas.")
    queue_email(session, OutboxMessage, to=account.email, subject=subject, body_text=body, locale=locale)


def competing_request(session: Session, organisation: Organisation, request: AdminRequest, requester: Account,
                      others: list[tuple[AdminRequest, Account | None]]) -> None:
    """A request made while other people's are pending: each of them, and the requester, are told."""
    name = one_line(organisation.name, "org_name")
    for other, candidate in others:
        _send(session, candidate, lambda other=other: (
            _("Une autre demande d'administrateur pour « %(org)s »", org=name),
            _("Bonjour,\n\nUne autre personne a demandé le %(date)s à devenir l'administrateur de « %(org)s ». "
              "Votre demande %(mine)s reste en attente : elle n'est pas annulée.\n\nLe représentant légal a reçu "
              "un courrier pour chaque demande ; il choisit en saisissant les codes de celle qu'il approuve. "
              "Si vous en êtes d'accord, vous pouvez le contacter pour convenir de votre choix.",
              date=date_fr(request.created_at), org=name, mine=other.reference)))
    _send(session, requester, lambda: (
        _("Votre demande d'administrateur pour « %(org)s »", org=name),
        _("Bonjour,\n\nVotre demande %(mine)s est enregistrée et un courrier avec ses codes est envoyé au "
          "représentant légal. D'autres demandes sont déjà en attente pour cette organisation (%(others)s) : "
          "elles ne sont pas annulées. Le représentant légal choisit en saisissant les codes de la demande qu'il "
          "approuve.", mine=request.reference, org=name, others=", ".join(o.reference for o, _c in others))))


def other_request_chosen(session: Session, organisation: Organisation, request: AdminRequest,
                         candidate: Account | None) -> None:
    """The legal representative validated another request: this one's candidate is told."""
    name = one_line(organisation.name, "org_name")
    _send(session, candidate, lambda: (
        _("Votre demande d'administrateur pour « %(org)s »", org=name),
        _("Bonjour,\n\nLe représentant légal de « %(org)s » a validé une autre demande d'administrateur. Votre "
          "demande %(mine)s est donc close. Si vous pensez qu'il s'agit d'une erreur, contactez le représentant "
          "légal de votre organisation.", org=name, mine=request.reference)))
