"""Domain rules of the justice personal space (seed 001): the court feed (cases, parties, consent,
events and their corrections), detaching, the list with search/filters/sort, the hearings to
export, settings, support and visibility. Adding a case by SMS code lives in ``codes``, the alert
rule in ``alerts``, the calendar files in ``calendar``."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, exists, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from portals.justice.alerts import alert
from portals.justice.models import (
    Attachment,
    Case,
    Event,
    HelpAnswer,
    OutboxMessage,
    Party,
    PersonSettings,
    SupportRequest,
)
from portals.justice.search import ESCAPE, contains_pattern
from shared.appkit import get_settings
from shared.outbox import queue_email
from shared.timeutil import as_utc, utcnow

VISIBLE_AFTER_END = timedelta(days=365)
SEARCH_FROM = 5         # the search appears from five attached cases (seed 001)
RECENT = timedelta(days=30)
UPCOMING = timedelta(days=30)


SUPPORT_MESSAGE_LIMIT = 5000
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")  # a dot in the domain: "a@b" is no address


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
    """Consent recorded: a new identification number, emailed to the party (seed 001). The email
    names the party it is for: a parent representing two children gets two numbers."""
    if not party.email or not party.mobile:
        raise Refused("consent_needs_contact")
    number = new_identification_number()
    party.consent_at, party.identification_hash = utcnow(), number_hash(number)
    name = " ".join(part for part in (party.first_name, party.last_name) if part)
    with force_locale(locale):
        subject = _("Votre numéro d'identification pour suivre votre dossier")
        body = _("Bonjour,\n\nLe tribunal a enregistré votre consentement à la communication électronique pour le "
                 "dossier %(reference)s (%(court)s), en tant que : %(role)s — %(name)s.\n\nVotre numéro "
                 "d'identification : %(number)s\n\nPour ajouter ce dossier à votre espace personnel, choisissez "
                 "« Ajouter un dossier » à cette adresse :\n%(url)s\n\nCe numéro est personnel : ne le "
                 "communiquez à personne.", reference=party.case.reference, court=party.case.court_name,
                 role=party.role, name=name, number=number,
                 url=get_settings().public_url + "/")
    queue_email(session, OutboxMessage, to=party.email, subject=subject, body_text=body, locale=locale)
    return number


def add_event(session: Session, case: Case, data: dict) -> Event:
    event = Event(case_id=case.id, kind=data["kind"], label=data["label"], at=data["at"],
                  location=data.get("location", ""), document_kind=data.get("document_kind"),
                  document_pdf=data.get("document_pdf"), new_at=data.get("new_at"), updated_at=utcnow())
    session.add(event)
    case.updated_at = utcnow()
    session.flush()
    alert(session, case)
    return event


CORRECTABLE = ("label", "at", "location", "new_at")


def correct_event(session: Session, case: Case, event_id: str, data: dict) -> Event:
    """The court corrects an event: the timeline, the exports and the calendar feed show the new
    values (same UID, higher SEQUENCE); a hearing moved to another time is reminded again."""
    event = event_of(session, case, event_id)
    if event.status == "cancelled":
        raise Refused("event_cancelled")
    if "at" in data and event.kind == "hearing" and data["at"] != event.at:
        event.reminder_sent_at = None
    for name in CORRECTABLE:
        if name in data:
            setattr(event, name, data[name])
    event.sequence += 1
    event.updated_at = case.updated_at = utcnow()
    session.flush()
    alert(session, case)
    return event


def cancel_event(session: Session, case: Case, event_id: str) -> Event:
    """The court cancels an event: it leaves the timeline, exports and reminders; the calendar
    feed keeps it as STATUS:CANCELLED so subscribed calendars drop it."""
    event = event_of(session, case, event_id)
    if event.status != "cancelled":
        event.status = "cancelled"
        event.sequence += 1
        event.updated_at = case.updated_at = utcnow()
        session.flush()
        alert(session, case)
    return event


def event_of(session: Session, case: Case, event_id: str) -> Event:
    event = session.get(Event, event_id)
    if event is None or event.case_id != case.id:
        raise Refused("unknown_event")
    return event


def cut_access(session: Session, party: Party) -> None:
    party.access_cut = True


# -- adding a case (the number's party) ------------------------------------------------------------

def party_for_number(session: Session, number: str) -> Party:
    party = session.scalar(select(Party).where(Party.identification_hash == number_hash(number))
                           .options(joinedload(Party.case)))
    if party is None or party.consent_at is None or party.access_cut or not visible(party.case):
        raise Refused("unknown_number")
    return party


def detach(session: Session, sub: str, attachment_id: str) -> None:
    """The view goes; consent, alerts and the person's alert choices stay (seed 001)."""
    attachment = attachment_of(session, sub, attachment_id)
    attachment.detached_at = utcnow()


# -- reading ---------------------------------------------------------------------------------------

def attachment_of(session: Session, sub: str, attachment_id: str) -> Attachment:
    """One of the person's current views (a cut one too: its page says access was cut)."""
    attachment = session.scalar(select(Attachment).where(Attachment.id == attachment_id, Attachment.sub == sub,
                                                         Attachment.detached_at.is_(None))
                                .options(joinedload(Attachment.party).joinedload(Party.case)))
    if attachment is None:
        raise Refused("not_found")
    return attachment


def views_of_case(session: Session, sub: str, case_id: str) -> list[Attachment]:
    """The person's views of one case, one per represented party (the switch on its page)."""
    return list(session.scalars(_current(sub).where(Party.case_id == case_id).order_by(Attachment.created_at)
                                .options(joinedload(Attachment.party))))


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


@dataclass
class CaseCard:
    """One card per case, however many parties the person follows it through."""

    case: Case
    views: list[Attachment]


def _current(sub: str):
    """The person's attachments still shown: attached, not detached, access not cut."""
    return (select(Attachment).join(Party, Party.id == Attachment.party_id)
            .where(Attachment.sub == sub, Attachment.detached_at.is_(None), Party.access_cut.is_(False)))


def _visible_case(now: datetime):
    return or_(Case.state != "finished", Case.ended_at.is_(None), Case.ended_at > now - VISIBLE_AFTER_END)


def _matching_cases(sub: str, filters: Filters, now: datetime):
    """The ids of the person's visible cases that match ``filters`` (one per case)."""
    query = (select(Case.id).join(Party, Party.case_id == Case.id).join(Attachment, Attachment.party_id == Party.id)
             .where(Attachment.sub == sub, Attachment.detached_at.is_(None), Party.access_cut.is_(False),
                    _visible_case(now)))
    if filters.name:
        pattern = contains_pattern(filters.name)
        other = Party.__table__.alias("other")
        query = query.where(false() if pattern is None else exists().where(and_(
            other.c.case_id == Case.id, other.c.search_name.like(pattern, escape=ESCAPE))))
    if filters.court:
        pattern = contains_pattern(filters.court)
        query = query.where(false() if pattern is None else Case.court_search.like(pattern, escape=ESCAPE))
    if filters.number:
        query = query.where(Party.identification_hash == number_hash(filters.number))
    if filters.ongoing and not filters.finished:
        query = query.where(Case.state != "finished")
    if filters.finished and not filters.ongoing:
        query = query.where(Case.state == "finished")
    if filters.upcoming:
        query = query.where(exists().where(and_(Event.case_id == Case.id, Event.kind == "hearing",
                                                Event.status != "cancelled", Event.at > now,
                                                Event.at <= now + UPCOMING)))
    if filters.recent:
        query = query.where(exists().where(and_(Event.case_id == Case.id, Event.kind == "document",
                                                Event.status != "cancelled", Event.at >= now - RECENT)))
    return query.distinct()


def list_cases(session: Session, sub: str, filters: Filters, now: datetime | None = None, page: int = 1,
               per_page: int | None = None) -> list[CaseCard]:
    """The person's cases, one card each, filtered, sorted and paged in SQL on indexes."""
    order = {"updated": Case.updated_at.desc(), "reference": Case.reference, "court": Case.court_name,
             "nature": Case.nature}[filters.sort]
    query = select(Case).where(Case.id.in_(_matching_cases(sub, filters, now or utcnow()))).order_by(
        order, Case.reference)
    if per_page:
        query = query.limit(per_page).offset(max(0, page - 1) * per_page)
    cases = list(session.scalars(query))
    views: dict[str, list[Attachment]] = {c.id: [] for c in cases}
    if cases:
        for attachment in session.scalars(_current(sub).where(Party.case_id.in_(list(views)))
                                          .order_by(Attachment.created_at).options(joinedload(Attachment.party))):
            views[attachment.party.case_id].append(attachment)
    return [CaseCard(case, views[case.id]) for case in cases]


def current_views(session: Session, sub: str) -> list[Attachment]:
    """Every view the person has (settings, contact details), in case order."""
    return [view for card in list_cases(session, sub, Filters(sort="reference")) for view in card.views]


def count_cases(session: Session, sub: str, filters: Filters, now: datetime | None = None) -> int:
    query = _matching_cases(sub, filters, now or utcnow())
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def count_attached(session: Session, sub: str) -> int:
    return count_cases(session, sub, Filters())


def upcoming_hearings_count(session: Session, sub: str, now: datetime | None = None) -> int:
    """Upcoming hearings across the person's visible cases, counted once each in SQL (the export banner)."""
    now = now or utcnow()
    return session.scalar(
        select(func.count(func.distinct(Event.id))).where(
            Event.case_id.in_(_matching_cases(sub, Filters(), now)), Event.kind == "hearing", Event.status != "cancelled",
            Event.at > now)) or 0


def future_hearings(case: Case, now: datetime | None = None) -> list[Event]:
    now = now or utcnow()
    return [e for e in case.events if e.kind == "hearing" and e.status != "cancelled" and as_utc(e.at) > now]


def hearings_to_export(session: Session, sub: str, now: datetime | None = None) -> list[Event]:
    """The person's future hearings, each once (a case followed through two parties lists them once)."""
    seen: dict[str, Event] = {}
    for card in list_cases(session, sub, Filters(), now):
        for hearing in future_hearings(card.case, now):
            seen.setdefault(hearing.id, hearing)
    return sorted(seen.values(), key=lambda h: h.at)


def cancelled_hearings(case: Case, now: datetime | None = None) -> list[Event]:
    """Hearings the court cancelled that were still to come: their cancellation can be downloaded
    for a calendar that imported them from a file."""
    now = now or utcnow()
    return [e for e in case.events if e.kind == "hearing" and e.status == "cancelled" and as_utc(e.at) > now]


def timeline(case: Case) -> list[Event]:
    """The "Vie du dossier": what the court did not cancel, most recent first."""
    return [e for e in case.events if e.status != "cancelled"]


# -- settings, the calendar feed and support ------------------------------------------------------------

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


def remember_locale(session: Session, sub: str, locale: str) -> None:
    """The language the person last used: their alerts and reminders are written in it."""
    settings = settings_of(session, sub)
    if settings.locale != locale:
        settings.locale = locale


DIGESTS = ("immediate", "daily")


def save_alert_choices(session: Session, sub: str, all_off: bool, cases_off: set[str],
                       digest: str = "immediate") -> None:
    settings = settings_of(session, sub)
    settings.alerts = not all_off
    settings.digest = digest if digest in DIGESTS else "immediate"
    for view in current_views(session, sub):
        view.alerts = view.id not in cases_off


def new_calendar_token(session: Session, sub: str) -> str:
    """A fresh secret subscription address for the person's hearings; the previous one stops working."""
    token = secrets.token_urlsafe(24)
    settings_of(session, sub).calendar_token_hash = hashlib.sha256(token.encode()).hexdigest()
    return token


def revoke_calendar_token(session: Session, sub: str) -> None:
    settings_of(session, sub).calendar_token_hash = None


def calendar_of(session: Session, token: str, now: datetime | None = None) -> list[Event] | None:
    """The hearings a subscription address shows (cancelled ones included, so calendars drop
    them); None for an unknown or revoked address."""
    if not token or len(token) > 100:
        return None
    settings = session.scalar(select(PersonSettings).where(
        PersonSettings.calendar_token_hash == hashlib.sha256(token.encode()).hexdigest()))
    if settings is None:
        return None
    now = now or utcnow()
    seen: dict[str, Event] = {}
    for card in list_cases(session, settings.sub, Filters(), now):
        for event in card.case.events:
            if event.kind == "hearing" and as_utc(event.at) > now - RECENT:
                seen.setdefault(event.id, event)
    return sorted(seen.values(), key=lambda h: h.at)


def valid_email(email: str) -> bool:
    return bool(EMAIL.fullmatch(email)) and len(email) <= 320


def create_support_request(session: Session, sub: str | None, email: str, topic: str, message: str,
                           locale: str) -> SupportRequest:
    if not valid_email(email.strip()):
        raise Refused("support_email")
    if len(message.strip()) > SUPPORT_MESSAGE_LIMIT:
        raise Refused("support_too_long", limit=SUPPORT_MESSAGE_LIMIT, length=len(message.strip()))
    request = SupportRequest(reference="JUS-" + secrets.token_hex(4).upper(), sub=sub, email=email.strip().lower(),
                             topic=topic, message=message.strip(), locale=locale)
    session.add(request)
    with force_locale(locale):
        queue_email(session, OutboxMessage, to=request.email, locale=locale,
                    subject=_("Votre demande d'assistance %(ref)s", ref=request.reference),
                    body_text=_("Bonjour,\n\nNous avons bien reçu votre demande d'assistance, enregistrée sous la "
                                "référence %(ref)s. Un membre de l'équipe support va vous répondre.",
                                ref=request.reference))
    return request


def support_payload(record: SupportRequest) -> dict:
    """What the IdP's support desk needs to answer the request (shared.support_handover)."""
    return {"reference": record.reference, "email": record.email, "topic": record.topic, "message": record.message,
            "locale": record.locale or "fr"}


def record_help_answer(session: Session, section: str, found: bool) -> None:
    session.add(HelpAnswer(section=section, found=found))


def purge_invisible(session: Session, now: datetime | None = None) -> int:
    """Cases finished more than a year ago are removed (seed 001)."""
    limit = (now or utcnow()) - VISIBLE_AFTER_END
    cases = list(session.scalars(select(Case).where(Case.state == "finished", Case.ended_at < limit)))
    for case in cases:
        session.delete(case)
    return len(cases)
