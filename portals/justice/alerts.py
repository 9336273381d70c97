"""Who is told what, written once: update alerts (email) and hearing reminders (SMS).

The rule, from seed 001:

- A party who consented to electronic communication is alerted by email at every update of the
  case, at the address **the court holds** for that party (shown under "Mes coordonnées" and in
  the settings), never the address an identity provider passed on.
- A person who attached the case through that party may switch its alerts off for that case, or
  for all their cases. Detaching the case changes neither: the choice is kept with the
  (detached) attachment and still applies; re-attaching finds it again.
- A party whose access the court cut is told nothing.
- One address gets one alert per update, one phone one reminder per hearing, however many
  represented parties share them.
- Messages are written in the language of the person who attached the case (the last one they
  used in the space), French when nobody did.
- Beyond the seed, a person may ask for one daily digest instead of one email per update: the
  updates of an address whose party such a person follows wait in ``pending_alerts`` (one row per
  address and case) and leave in one email a day.
- Hearing reminders (three days before) cannot be switched off; a cancelled hearing is not
  reminded, and a moved one is reminded again for its new date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portals.justice.models import Attachment, Case, Event, OutboxMessage, Party, PendingAlert, PersonSettings
from shared.appkit import get_settings
from shared.outbox import queue_email, queue_sms
from shared.timeutil import format_strasbourg, utcnow

REMINDER_BEFORE = timedelta(days=3)


@dataclass
class PartyRule:
    """What the rule says for one party: whether it is alerted, why not, and in which language."""

    party: Party
    alerted: bool
    reason: str = ""   # "" | no_consent | no_email | access_cut | case_off | all_off
    locale: str = "fr"
    daily: bool = False
    subs: list[str] = field(default_factory=list)


def rules_for(session: Session, parties: list[Party]) -> dict[str, PartyRule]:
    """The alert rule applied to ``parties``, keyed by party id (two queries whatever their number)."""
    ids = [p.id for p in parties]
    attachments = list(session.scalars(select(Attachment).where(Attachment.party_id.in_(ids)))) if ids else []
    subs = {a.sub for a in attachments}
    settings = {s.sub: s for s in session.scalars(select(PersonSettings).where(PersonSettings.sub.in_(subs)))} \
        if subs else {}
    rules: dict[str, PartyRule] = {}
    for party in parties:
        mine = sorted((a for a in attachments if a.party_id == party.id), key=lambda a: a.created_at)
        people = [settings.get(a.sub) for a in mine]
        locale = next((p.locale for p in reversed(people) if p is not None and p.locale), "fr")
        rule = PartyRule(party=party, alerted=False, locale=locale, subs=[a.sub for a in mine],
                         daily=any(p is not None and p.digest == "daily" for p in people))
        if party.access_cut:
            rule.reason = "access_cut"
        elif party.consent_at is None:
            rule.reason = "no_consent"
        elif not party.email:
            rule.reason = "no_email"
        elif any(p is not None and not p.alerts for p in people):
            rule.reason = "all_off"
        elif any(not a.alerts for a in mine):
            rule.reason = "case_off"
        else:
            rule.alerted = True
        rules[party.id] = rule
    return rules


def alert(session: Session, case: Case) -> int:
    """An update of ``case``: one email per court-held address whose party the rule alerts (or a
    line in that address's daily digest)."""
    sent: set[str] = set()
    for rule in rules_for(session, list(case.parties)).values():
        if not rule.alerted or rule.party.email.lower() in sent:
            continue
        sent.add(rule.party.email.lower())
        if rule.daily:
            _wait_for_digest(session, rule.party.email.lower(), rule.locale, case)
            continue
        with force_locale(rule.locale):
            subject = _("Votre dossier %(reference)s a été mis à jour", reference=case.reference)
            body = _("Bonjour,\n\nVotre dossier %(reference)s (%(court)s) a été mis à jour. Connectez-vous à votre "
                     "espace personnel pour le consulter :\n%(url)s\n\nVous pouvez désactiver ces alertes dans vos "
                     "paramètres.", reference=case.reference, court=case.court_name,
                     url=get_settings().public_url + "/")
        queue_email(session, OutboxMessage, to=rule.party.email, subject=subject, body_text=body, locale=rule.locale)
    return len(sent)


def _wait_for_digest(session: Session, email: str, locale: str, case: Case) -> None:
    pending = session.scalar(select(PendingAlert).where(PendingAlert.email == email, PendingAlert.case_id == case.id))
    if pending is None:
        session.add(PendingAlert(email=email, locale=locale, case_id=case.id))
    else:
        pending.locale = locale


def send_digests(session: Session) -> int:
    """The daily digest: one email per address listing its cases updated since the last one."""
    by_address: dict[str, list[PendingAlert]] = {}
    for pending in session.scalars(select(PendingAlert).options(joinedload(PendingAlert.case))
                                   .order_by(PendingAlert.created_at)):
        by_address.setdefault(pending.email, []).append(pending)
    for email, rows in by_address.items():
        locale = rows[-1].locale
        lines = "\n".join(f"- {row.case.reference} ({row.case.court_name})" for row in rows)
        with force_locale(locale):
            subject = _("Vos dossiers mis à jour aujourd'hui (%(count)s)", count=len(rows))
            body = _("Bonjour,\n\nCes dossiers ont été mis à jour :\n%(lines)s\n\nConnectez-vous à votre espace "
                     "personnel pour les consulter :\n%(url)s\n\nVous pouvez changer la fréquence de ces alertes "
                     "dans vos paramètres.", lines=lines, url=get_settings().public_url + "/")
        queue_email(session, OutboxMessage, to=email, subject=subject, body_text=body, locale=locale)
        for row in rows:
            session.delete(row)
    return len(by_address)


def send_reminders(session: Session, now: datetime | None = None) -> int:
    """SMS three days before a hearing, once per hearing and phone, to each party with consent."""
    now = now or utcnow()
    hearings = session.scalars(select(Event).where(
        Event.kind == "hearing", Event.status != "cancelled", Event.reminder_sent_at.is_(None), Event.at > now,
        Event.at <= now + REMINDER_BEFORE).options(joinedload(Event.case).joinedload(Case.parties))).unique()
    sent = 0
    for hearing in hearings:
        rules = rules_for(session, list(hearing.case.parties))
        phones: dict[str, str] = {}
        for party in hearing.case.parties:
            if party.consent_at and party.mobile and not party.access_cut:
                phones.setdefault(party.mobile, rules[party.id].locale)
        for phone, locale in phones.items():
            with force_locale(locale):
                text = _("Rappel justice.fr : audience le %(when)s (heure de Paris), %(where)s (dossier "
                         "%(reference)s).", when=format_strasbourg(hearing.at),
                         where=hearing.location or hearing.case.court_name, reference=hearing.case.reference)
            queue_sms(session, OutboxMessage, to=phone, text=text, locale=locale)
            sent += 1
        hearing.reminder_sent_at = now
    return sent
