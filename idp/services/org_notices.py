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


# ---------------------------------------------------------------------------------------------
# Decisions about memberships and grants: the person concerned is always told (seed 002 leaves
# no decision silent). Names of people appear only as the identifier (a-z, digits, hyphens) and
# the names the account holds, one line each; the administrator's free text never reaches them.


def _links() -> dict[str, str]:
    import os

    from flask import has_app_context

    from shared.appkit import get_settings

    # outside an application (the command line, the services' own tests) the issuer of the environment
    issuer = (get_settings().issuer if has_app_context() else os.environ.get("ISSUER", "http://localhost:8000")).rstrip("/")
    return {"mine": issuer + "/organisations/", "console": issuer + "/organisations/console",
            "eservices": os.environ.get("ESERVICES_PUBLIC_URL", "http://localhost:8003").rstrip("/")}


def _person(account: Account) -> str:
    names = " ".join(one_line(part or "", field) for part, field in
                     ((account.given_name, "given_name"), (account.family_name, "family_name")) if part)
    if names and account.username:
        return f"{names} ({account.username})"
    return names or account.username or account.email


def registration_to_validate(session: Session, organisation: Organisation, member: Account,
                             administrators: list[Account]) -> None:
    """A new user registration waits for the administrators' decision: each of them is told."""
    name, links = one_line(organisation.name, "org_name"), _links()
    for administrator in administrators:
        _send(session, administrator, lambda: (
            _("Une inscription à valider pour « %(org)s »", org=name),
            _("Bonjour,\n\n%(person)s demande à être inscrit(e) comme utilisateur de « %(org)s ». Validez ou "
              "invalidez cette inscription dans la console d'administration :\n%(url)s\n\nSi vous ne connaissez "
              "pas cette personne, invalidez l'inscription : son compte n'en est pas affecté.",
              person=_person(member), org=name, url=links["console"])))


def member_validated(session: Session, organisation: Organisation, member: Account) -> None:
    name, links = one_line(organisation.name, "org_name"), _links()
    _send(session, member, lambda: (
        _("Votre inscription à « %(org)s » est validée", org=name),
        _("Bonjour,\n\nL'administrateur de « %(org)s » a validé votre inscription. Il vous accordera ensuite les "
          "e-services que vous utiliserez ; vous recevrez un courriel pour chacun.\n\nPortail e-services : %(url)s",
          org=name, url=links["eservices"])))


def registration_expired(session: Session, organisation: Organisation, member: Account, days: int) -> None:
    """No administrator decided within the period: the registration ends, and may be made again."""
    name, links = one_line(organisation.name, "org_name"), _links()
    _send(session, member, lambda: (
        _("Votre inscription à « %(org)s » a expiré", org=name),
        _("Bonjour,\n\nVotre inscription dans « %(org)s » n'a pas été validée dans les %(days)s jours : elle a "
          "expiré. Votre compte reste actif.\n\nSi vous faites toujours partie de cette organisation, "
          "inscrivez-vous à nouveau depuis « Mes organisations » et prévenez son administrateur :\n%(url)s",
          org=name, days=days, url=links["mine"])))


def member_invalidated(session: Session, organisation: Organisation, member: Account) -> None:
    """The true reason (this organisation's administrator ended this registration) and the way back."""
    name, links = one_line(organisation.name, "org_name"), _links()
    _send(session, member, lambda: (
        _("Votre inscription à « %(org)s » est invalidée", org=name),
        _("Bonjour,\n\nL'administrateur de « %(org)s » a invalidé votre inscription dans cette organisation : vous "
          "ne pouvez plus utiliser ses e-services, et les permissions qu'il vous avait accordées sont retirées.\n\n"
          "Votre compte n'est pas désactivé : vous pouvez toujours vous connecter, à vos autres organisations et "
          "aux autres services.\n\nS'il s'agit d'une erreur, demandez à l'administrateur de « %(org)s » de valider "
          "à nouveau votre inscription (il le peut depuis sa console), ou inscrivez-vous à nouveau depuis "
          "« Mes organisations » :\n%(url)s", org=name, url=links["mine"])))


def _eservice_name(eservice_id: str, locale: str) -> str:
    from idp.services.permissions import load_catalogue

    eservice = load_catalogue().get(eservice_id)
    return eservice.name(locale) if eservice else eservice_id


def _locale(account: Account) -> str:
    return account.locale if account.locale in ("fr", "en") else "fr"


def eservice_granted(session: Session, organisation: Organisation, member: Account, eservice_id: str) -> None:
    name, links, service = one_line(organisation.name, "org_name"), _links(), _eservice_name(eservice_id, _locale(member))
    _send(session, member, lambda: (
        _("Nouvel e-service : « %(service)s »", service=service),
        _("Bonjour,\n\nL'administrateur de « %(org)s » vous a accordé l'e-service « %(service)s ». Il figure "
          "désormais sur votre page d'accueil du portail e-services :\n%(url)s", org=name, service=service,
          url=links["eservices"])))


def eservice_revoked(session: Session, organisation: Organisation, member: Account, eservice_id: str,
                     unsubscribed: bool = False) -> None:
    name, service = one_line(organisation.name, "org_name"), _eservice_name(eservice_id, _locale(member))
    _send(session, member, lambda: (
        _("E-service retiré : « %(service)s »", service=service),
        (_("Bonjour,\n\n« %(org)s » a résilié son abonnement à l'e-service « %(service)s » : vous ne pouvez plus "
           "l'utiliser pour cette organisation.", org=name, service=service) if unsubscribed else
         _("Bonjour,\n\nL'administrateur de « %(org)s » vous a retiré l'e-service « %(service)s » : vous ne pouvez "
           "plus l'utiliser pour cette organisation. Pour toute question, adressez-vous à lui.",
           org=name, service=service))))


def handover_requested(session: Session, organisation: Organisation, request: AdminRequest,
                       candidate: Account, sitting: list[Account]) -> None:
    """Someone asked to become the administrator: the sitting administrator hears it first from us."""
    name = one_line(organisation.name, "org_name")
    for administrator in sitting:
        _send(session, administrator, lambda: (
            _("Demande de changement d'administrateur pour « %(org)s »", org=name),
            _("Bonjour,\n\n%(person)s a demandé le %(date)s à devenir l'administrateur de « %(org)s » (demande "
              "%(ref)s). Un courrier avec des codes de confirmation est envoyé au représentant légal : s'il les "
              "saisit, cette personne deviendra l'administrateur et vous resterez utilisateur de l'organisation, "
              "avec vos permissions.\n\nSi vous n'êtes pas d'accord, prenez contact avec le représentant légal : "
              "sans ses codes, rien ne change.", person=_person(candidate), date=date_fr(request.created_at),
              org=name, ref=request.reference)))


def handover_done(session: Session, organisation: Organisation, administrator: Account,
                  previous: list[Account]) -> None:
    """The legal representative's codes made a new administrator: the new one and the former are told."""
    name, links = one_line(organisation.name, "org_name"), _links()
    _send(session, administrator, lambda: (
        _("Vous êtes l'administrateur de « %(org)s »", org=name),
        _("Bonjour,\n\nLe représentant légal de « %(org)s » a saisi les codes de confirmation : vous êtes désormais "
          "l'administrateur de l'organisation. Votre console d'administration :\n%(url)s\n\nPour utiliser un "
          "e-service, accordez-vous la permission à vous-même : l'administrateur ne la possède pas par défaut.",
          org=name, url=links["console"])))
    for former in previous:
        _send(session, former, lambda: (
            _("Vous n'êtes plus l'administrateur de « %(org)s »", org=name),
            _("Bonjour,\n\nLe représentant légal de « %(org)s » a validé %(person)s comme nouvel administrateur. "
              "Vous restez utilisateur de l'organisation, avec les e-services qui vous étaient accordés ; la console "
              "d'administration n'est plus la vôtre.\n\nSi vous pensez qu'il s'agit d'une erreur, contactez le "
              "représentant légal de votre organisation.", org=name, person=_person(administrator))))
