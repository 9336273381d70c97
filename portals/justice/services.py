"""Flows of the justice personal space (seed 001): the court feed, adding a case with an
identification number and an SMS code, detaching, the list with search/filters/sort, exports,
alerts and reminders, visibility."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar
from icalendar import Event as IcsEvent
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from portals.justice.models import (
    Attachment,
    Case,
    Event,
    OutboxMessage,
    Party,
    PersonSettings,
    SupportRequest,
)
from shared.appkit import get_redis, get_settings
from shared.outbox import queue_email, queue_sms
from shared.timeutil import as_utc, format_strasbourg, to_strasbourg, utcnow

CODE_TTL = 600          # an SMS code is valid 10 minutes
CODE_ATTEMPTS = 5       # wrong codes before a new one is needed
RESEND_AFTER = 60       # seconds between two SMS for one number
VISIBLE_AFTER_END = timedelta(days=365)
REMINDER_BEFORE = timedelta(days=3)
SEARCH_FROM = 5         # the search appears from five attached cases (seed 001)
RECENT = timedelta(days=30)
UPCOMING = timedelta(days=30)


class Refused(Exception):
    def __init__(self, code: str, **detail):
        super().__init__(code)
        self.code, self.detail = code, detail


def _pepper() -> bytes:
    return get_settings().secret_key.encode()


def number_hash(number: str) -> str:
    """Identification numbers are looked up by keyed hash: a database copy reveals none."""
    normalised = "".join(ch for ch in number.upper() if ch.isalnum())
    return hmac.new(_pepper(), normalised.encode(), hashlib.sha256).hexdigest()


def new_identification_number() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def masked_phone(e164: str | None) -> str:
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return "•" * 6
    digits = [i for i, ch in enumerate(national) if ch.isdigit()]
    keep = set(digits[-2:])
    return "".join(ch if (i in keep or not ch.isdigit()) else "•" for i, ch in enumerate(national))


def normalise_phone(raw: str | None, region: str = "FR") -> str | None:
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise Refused("phone") from error
    if not phonenumbers.is_valid_number(number):
        raise Refused("phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# -- visibility --------------------------------------------------------------------------------------

def visible(case: Case, now: datetime | None = None) -> bool:
    """Visible while open and one year after it ended (seed 001)."""
    if case.state != "finished" or case.ended_at is None:
        return True
    return as_utc(case.ended_at) + VISIBLE_AFTER_END > (now or utcnow())


# -- the court feed ------------------------------------------------------------------------------------

def upsert_case(session: Session, reference: str, data: dict) -> tuple[Case, bool]:
    case = session.scalar(select(Case).where(Case.reference == reference))
    created = case is None
    if created:
        case = Case(reference=reference, nature=data["nature"], court_name=data["court"]["name"])
        session.add(case)
    for field in ("nature", "state_label", "updating"):
        if field in data:
            setattr(case, field, data[field])
    if "state" in data:
        case.state = data["state"]
        case.ended_at = utcnow() if data["state"] == "finished" else None
    court = data.get("court") or {}
    for field in ("name", "address", "phone", "email"):
        if field in court:
            setattr(case, f"court_{field}", court[field])
    case.updated_at = utcnow()
    session.flush()
    if not created:
        alert(session, case)
    return case, created


def add_party(session: Session, case: Case, data: dict) -> Party:
    party = Party(case_id=case.id, role=data["role"], last_name=data["last_name"],
                  first_name=data.get("first_name", ""), email=(data.get("email") or "").lower() or None,
                  mobile=normalise_phone(data.get("mobile")))
    session.add(party)
    session.flush()
    return party


def record_consent(session: Session, party: Party, locale: str = "fr") -> str:
    """Consent recorded: a new identification number, emailed to the party (seed 001)."""
    if not party.email or not party.mobile:
        raise Refused("consent_needs_contact")
    number = new_identification_number()
    party.consent_at, party.identification_hash = utcnow(), number_hash(number)
    with force_locale(locale):
        subject = _("Votre numéro d'identification pour suivre votre dossier")
        body = _("Bonjour,\n\nLe tribunal a enregistré votre consentement à la communication électronique pour le "
                 "dossier %(reference)s (%(court)s).\n\nVotre numéro d'identification : %(number)s\n\nPour ajouter ce "
                 "dossier à votre espace personnel : %(url)s, « Ajouter un dossier ». Ce numéro est personnel : "
                 "ne le communiquez à personne.", reference=party.case.reference, court=party.case.court_name,
                 number=number, url=get_settings().public_url + "/")
    queue_email(session, OutboxMessage, to=party.email, subject=subject, body_text=body, locale=locale)
    return number


def add_event(session: Session, case: Case, data: dict) -> Event:
    event = Event(case_id=case.id, kind=data["kind"], label=data["label"], at=data["at"],
                  location=data.get("location", ""), document_kind=data.get("document_kind"),
                  document_pdf=data.get("document_pdf"))
    session.add(event)
    case.updated_at = utcnow()
    session.flush()
    alert(session, case)
    return event


def alert(session: Session, case: Case) -> int:
    """Every update sends an alert email to each attached person who did not switch it off."""
    rows = session.execute(
        select(Attachment, PersonSettings.alerts).join(Party, Party.id == Attachment.party_id)
        .outerjoin(PersonSettings, PersonSettings.sub == Attachment.sub)
        .where(Party.case_id == case.id, Party.access_cut.is_(False))).all()
    sent = 0
    for attachment, global_alerts in rows:
        if not attachment.alerts or global_alerts is False or not attachment.email:
            continue
        with force_locale("fr"):  # the court knows no language preference; French is the portal's
            subject = _("Votre dossier %(reference)s a été mis à jour", reference=case.reference)
            body = _("Bonjour,\n\nVotre dossier %(reference)s (%(court)s) a été mis à jour. Connectez-vous à votre "
                     "espace personnel pour le consulter : %(url)s\n\nVous pouvez désactiver ces alertes dans vos "
                     "paramètres.", reference=case.reference, court=case.court_name,
                     url=get_settings().public_url + "/")
        queue_email(session, OutboxMessage, to=attachment.email, subject=subject, body_text=body)
        sent += 1
    return sent


def send_reminders(session: Session, now: datetime | None = None) -> int:
    """SMS three days before a hearing, once, to each party with consent (not switchable)."""
    now = now or utcnow()
    hearings = session.scalars(select(Event).where(
        Event.kind == "hearing", Event.reminder_sent_at.is_(None), Event.at > now,
        Event.at <= now + REMINDER_BEFORE).options(joinedload(Event.case).joinedload(Case.parties))).unique()
    sent = 0
    for hearing in hearings:
        for party in hearing.case.parties:
            if party.consent_at and party.mobile and not party.access_cut:
                with force_locale("fr"):
                    text = _("Rappel justice.fr : audience le %(when)s, %(where)s (dossier %(reference)s).",
                             when=format_strasbourg(hearing.at), where=hearing.location or hearing.case.court_name,
                             reference=hearing.case.reference)
                queue_sms(session, OutboxMessage, to=party.mobile, text=text)
                sent += 1
        hearing.reminder_sent_at = now
    return sent


# -- adding a case (number → SMS code → attached) ---------------------------------------------------

def party_for_number(session: Session, number: str) -> Party:
    party = session.scalar(select(Party).where(Party.identification_hash == number_hash(number))
                           .options(joinedload(Party.case)))
    if party is None or party.consent_at is None or party.access_cut or not visible(party.case):
        raise Refused("unknown_number")
    return party


def send_code(session: Session, sub: str, number: str) -> tuple[str, str]:
    """Send a 6-digit code to the phone the court holds; returns (challenge id, masked phone)."""
    party = party_for_number(session, number)
    redis = get_redis()
    if not redis.set(f"justice:sms-sent:{party.id}", "1", nx=True, ex=RESEND_AFTER):
        raise Refused("resend_too_soon", seconds=max(1, redis.ttl(f"justice:sms-sent:{party.id}")))
    code = f"{secrets.randbelow(1_000_000):06d}"
    challenge = secrets.token_urlsafe(16)
    redis.set(f"justice:sms-code:{challenge}", json.dumps({
        "sub": sub, "party": party.id, "code": hashlib.sha256(code.encode()).hexdigest(), "attempts": 0}),
        ex=CODE_TTL)
    queue_sms(session, OutboxMessage, to=party.mobile,
              text=_("justice.fr : votre code pour ajouter le dossier %(reference)s est %(code)s. Il expire dans "
                     "10 minutes.", reference=party.case.reference, code=code))
    return challenge, masked_phone(party.mobile)


def confirm_code(session: Session, sub: str, email: str | None, challenge: str, code: str) -> Attachment:
    redis = get_redis()
    key = f"justice:sms-code:{challenge}"
    raw = redis.get(key)
    if not raw:
        raise Refused("code_expired")
    data = json.loads(raw)
    if data["sub"] != sub:
        raise Refused("code_expired")
    expected = data["code"]
    if not hmac.compare_digest(expected, hashlib.sha256(code.strip().encode()).hexdigest()):
        data["attempts"] += 1
        if data["attempts"] >= CODE_ATTEMPTS:
            redis.delete(key)
            raise Refused("too_many_attempts")
        redis.set(key, json.dumps(data), keepttl=True)
        raise Refused("wrong_code", left=CODE_ATTEMPTS - data["attempts"])
    if not redis.delete(key):  # single use, even under two simultaneous submissions
        raise Refused("code_expired")
    attachment = session.scalar(select(Attachment).where(Attachment.sub == sub, Attachment.party_id == data["party"]))
    if attachment is None:
        attachment = Attachment(sub=sub, party_id=data["party"], email=email)
        session.add(attachment)
        session.flush()
    return attachment


def detach(session: Session, sub: str, attachment_id: str) -> None:
    attachment = attachment_of(session, sub, attachment_id)
    session.delete(attachment)


# -- reading ---------------------------------------------------------------------------------------

def attachment_of(session: Session, sub: str, attachment_id: str) -> Attachment:
    attachment = session.scalar(select(Attachment).where(Attachment.id == attachment_id, Attachment.sub == sub)
                                .options(joinedload(Attachment.party).joinedload(Party.case)))
    if attachment is None:
        raise Refused("not_found")
    return attachment


@dataclass
class Filters:
    name: str = ""
    court: str = ""
    number: str = ""
    upcoming: bool = False
    recent: bool = False
    ongoing: bool = False
    finished: bool = False
    sort: str = "updated"

    @classmethod
    def from_args(cls, args) -> Filters:
        return cls(name=args.get("name", "").strip()[:100], court=args.get("court", "").strip()[:100],
                   number=args.get("number", "").strip()[:40], upcoming=args.get("upcoming") == "1",
                   recent=args.get("recent") == "1", ongoing=args.get("ongoing") == "1",
                   finished=args.get("finished") == "1",
                   sort=args.get("sort") if args.get("sort") in ("updated", "reference", "court", "nature") else "updated")


def list_cases(session: Session, sub: str, filters: Filters, now: datetime | None = None, page: int = 1,
               per_page: int | None = None) -> list[Attachment]:
    """The person's attached cases (one row per attachment), filtered, sorted and paged in SQL on indexes."""
    query = _filtered(sub, filters, now or utcnow()).options(joinedload(Attachment.party).joinedload(Party.case))
    return _ordered_page(query, filters, page, per_page, session)


def _filtered(sub: str, filters: Filters, now: datetime):
    query = (select(Attachment).join(Party, Party.id == Attachment.party_id).join(Case, Case.id == Party.case_id)
             .where(Attachment.sub == sub,
                    or_(Case.state != "finished", Case.ended_at.is_(None), Case.ended_at > now - VISIBLE_AFTER_END)))
    if filters.name:
        pattern = f"%{filters.name.lower()}%"
        other = Party.__table__.alias("other")
        query = query.where(exists().where(and_(other.c.case_id == Case.id, or_(
            func.lower(other.c.last_name).like(pattern), func.lower(other.c.first_name).like(pattern)))))
    if filters.court:
        query = query.where(func.lower(Case.court_name).like(f"%{filters.court.lower()}%"))
    if filters.number:
        query = query.where(Party.identification_hash == number_hash(filters.number))
    if filters.ongoing and not filters.finished:
        query = query.where(Case.state != "finished")
    if filters.finished and not filters.ongoing:
        query = query.where(Case.state == "finished")
    if filters.upcoming:
        query = query.where(exists().where(and_(Event.case_id == Case.id, Event.kind == "hearing", Event.at > now,
                                                Event.at <= now + UPCOMING)))
    if filters.recent:
        query = query.where(exists().where(and_(Event.case_id == Case.id, Event.kind == "document",
                                                Event.at >= now - RECENT)))
    return query


def _ordered_page(query, filters: Filters, page: int, per_page: int | None, session: Session) -> list[Attachment]:
    order = {"updated": Case.updated_at.desc(), "reference": Case.reference, "court": Case.court_name,
             "nature": Case.nature}[filters.sort]
    query = query.order_by(order, Attachment.created_at)
    if per_page:
        query = query.limit(per_page).offset(max(0, page - 1) * per_page)
    return list(session.scalars(query).unique())


def count_cases(session: Session, sub: str, filters: Filters, now: datetime | None = None) -> int:
    query = _filtered(sub, filters, now or utcnow())
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def upcoming_hearings_count(session: Session, sub: str, now: datetime | None = None) -> int:
    """Upcoming hearings across the person's visible cases, counted in SQL (the export banner)."""
    now = now or utcnow()
    return session.scalar(
        select(func.count(func.distinct(Event.id))).select_from(Attachment)
        .join(Party, Party.id == Attachment.party_id).join(Event, Event.case_id == Party.case_id)
        .where(Attachment.sub == sub, Party.access_cut.is_(False), Event.kind == "hearing", Event.at > now)) or 0


def count_attached(session: Session, sub: str) -> int:
    return session.scalar(select(func.count(Attachment.id)).where(Attachment.sub == sub)) or 0


def future_hearings(case: Case, now: datetime | None = None) -> list[Event]:
    now = now or utcnow()
    return [e for e in case.events if e.kind == "hearing" and as_utc(e.at) > now]


# -- exports -----------------------------------------------------------------------------------------

def export_ics(hearings: list[Event]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//justice personal space//civic-idp//FR")
    calendar.add("version", "2.0")
    for hearing in hearings:
        event = IcsEvent()
        event.add("uid", f"{hearing.id}@justice.civic-idp")
        event.add("dtstamp", utcnow())
        event.add("dtstart", to_strasbourg(hearing.at))
        event.add("dtend", to_strasbourg(hearing.at) + timedelta(hours=1))
        event.add("summary", f"{hearing.label} — {hearing.case.reference}")
        event.add("location", hearing.location or hearing.case.court_name)
        calendar.add_component(event)
    return calendar.to_ical()


def export_csv(hearings: list[Event]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Subject", "Start Date", "Start Time", "Location", "Description"])
    for hearing in hearings:
        local = to_strasbourg(hearing.at)
        writer.writerow([f"{hearing.label} — {hearing.case.reference}", local.strftime("%d/%m/%Y"),
                         local.strftime("%H:%M"), hearing.location or hearing.case.court_name,
                         hearing.case.court_name])
    return buffer.getvalue().encode("utf-8-sig")


# -- settings and support --------------------------------------------------------------------------

def settings_of(session: Session, sub: str) -> PersonSettings:
    """The person's settings, created at the first visit; two first visits at once (two tabs)
    create one row: the second finds the first's."""
    settings = session.get(PersonSettings, sub)
    if settings is not None:
        return settings
    try:
        with session.begin_nested():
            settings = PersonSettings(sub=sub, alerts=True)
            session.add(settings)
    except IntegrityError:
        settings = session.get(PersonSettings, sub, populate_existing=True)
    return settings


def create_support_request(session: Session, sub: str | None, email: str, topic: str, message: str,
                           locale: str) -> SupportRequest:
    request = SupportRequest(reference="JUS-" + secrets.token_hex(4).upper(), sub=sub, email=email.strip().lower(),
                             topic=topic, message=message.strip()[:5000])
    session.add(request)
    with force_locale(locale):
        queue_email(session, OutboxMessage, to=request.email, locale=locale,
                    subject=_("Votre demande d'assistance %(ref)s", ref=request.reference),
                    body_text=_("Bonjour,\n\nNous avons bien reçu votre demande d'assistance, enregistrée sous la "
                                "référence %(ref)s. Un membre de l'équipe support va vous répondre.",
                                ref=request.reference))
    return request


def purge_invisible(session: Session, now: datetime | None = None) -> int:
    """Cases finished more than a year ago are removed (seed 001)."""
    limit = (now or utcnow()) - VISIBLE_AFTER_END
    cases = list(session.scalars(select(Case).where(Case.state == "finished", Case.ended_at < limit)))
    for case in cases:
        session.delete(case)
    return len(cases)
