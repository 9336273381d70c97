"""Organisations, memberships and the administrator's validation by the legal representative
(seed 002). No Flask here: callers pass an ``OrganisationStore`` (one transaction) and ``now``.

Who does what (seed 002, "Qui fait quoi ?"):
- anyone registers as a *user* of an organisation (membership pending) or as its
  *administrator* (membership pending + an ``AdminRequest``);
- an administrator request produces two confirmation codes, stored hashed and expiring, printed
  on a postal letter (PDF in the outbox, channel ``letter``) addressed to the legal
  representative at the organisation's address; an existing user may ask to become the new
  administrator the same way; a new request supersedes an unvalidated one;
- the legal representative types both codes on the portal: only then is the administrator
  operational (the previous administrator, if any, becomes a user);
- the administrator validates or invalidates user registrations, subscribes the organisation to
  e-services, and grants or revokes each e-service per member, himself included. A membership is
  not an account: invalidating ends that membership and its grants, never the account, which the
  person keeps for their other organisations and the other portals (eComms' court file...);
- every decision is told by email to the person it concerns (``org_notices``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from idp.services import org_notices, text_fields
from idp.services.identifiers import make_identifier
from idp.services.org_letter import Letter, queue_letter
from idp.services.permissions import (
    KINDS,
    NotAllowed,
    NotFound,
    granted_eservices,
    load_catalogue,
    require_administrator,
)
from idp.storage.sql.models import Account, AuditEvent
from idp.storage.sql.organisations import (
    AdminRequest,
    Grant,
    Membership,
    Organisation,
    OrganisationStore,
    Subscription,
)
from shared.appkit import get_settings
from shared.config import load_toml

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: typed from paper
CODE_LENGTH = 8
CODE_VALIDITY = timedelta(days=30)
MAX_CODE_ATTEMPTS = 5
SUPPORT_AFTER_WORKING_DAYS = 5
INVALIDATION_REASON = "invalidated_by_organisation"


# ---------------------------------------------------------------------------------------------
# Organisations


ORG_FIELDS = ("org_name", "org_kind", "org_siren", "org_rna", "org_address_line", "org_postcode", "org_city",
              "legal_rep_name", "legal_rep_title")
ORG_REQUIRED = ("org_name", "org_kind", "org_address_line", "org_postcode", "org_city",
                "legal_rep_name", "legal_rep_title")


ORG_TEXT_FIELDS = ("org_name", "org_address_line", "org_city", "legal_rep_name", "legal_rep_title")


class InvalidInput(ValueError):
    """A new organisation's fields that are not what they hold: ``errors`` maps field → code."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(f"{name}: {code}" for name, code in errors.items()))
        self.errors = errors


def check_organisation_input(data: dict[str, str]) -> dict[str, str]:
    """Error codes per field for a new organisation (the web layer words them): every text field
    one line of bounded length without control characters (they are printed on official letters)."""
    errors = {name: "required" for name in ORG_REQUIRED if not (data.get(name) or "").strip()}
    errors.update({name: code for name, code in text_fields.check(data, ORG_TEXT_FIELDS).items()
                   if name not in errors})
    if data.get("org_kind") and data["org_kind"] not in KINDS:
        errors["org_kind"] = "invalid"
    if code := siren_problem(data.get("org_siren")):
        errors["org_siren"] = code
    if code := rna_problem(data.get("org_rna")):
        errors["org_rna"] = code
    postcode = (data.get("org_postcode") or "").strip()
    if postcode and (len(postcode) != 5 or not postcode.isdigit()):
        errors["org_postcode"] = "invalid"
    return errors


def compact(value: str | None) -> str:
    """An identifier as typed, without spaces (``216 801 803`` → ``216801803``), upper-cased."""
    return "".join((value or "").split()).upper()


def luhn_valid(digits: str) -> bool:
    """The Luhn key (ISO/IEC 7812) that INSEE puts in the last digit of every SIREN."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = int(character) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def siren_problem(value: str | None) -> str | None:
    """``invalid`` (not 9 digits), ``checksum`` (9 digits that no SIREN has: a typo), or None."""
    siren = compact(value)
    if not siren:
        return None
    if len(siren) != 9 or not siren.isdigit():
        return "invalid"
    return None if luhn_valid(siren) else "checksum"


def rna_problem(value: str | None) -> str | None:
    """An association's number in the Répertoire national des associations: W and 9 digits."""
    rna = compact(value)
    return None if not rna or re.fullmatch(r"W[0-9]{9}", rna) else "invalid"


def normalised_name(name: str) -> str:
    """The name two look-alike registrations share: no accents, case, punctuation or spacing."""
    folded = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in folded).split())


def existing_twin(store: OrganisationStore, data: dict[str, str]) -> Organisation | None:
    """An organisation already registered as this one: the same SIREN, or the same normalised name
    at the same postcode (a look-alike duplicate would split its members and its letters)."""
    siren = compact(data.get("org_siren"))
    if siren and (same := store.organisation_by_siren(siren)) is not None:
        return same
    rna = compact(data.get("org_rna"))
    if rna and (same := store.organisation_by_rna(rna)) is not None:
        return same
    name, postcode = normalised_name(data.get("org_name", "")), (data.get("org_postcode") or "").strip()
    return next((o for o in store.organisations() if o.postcode == postcode and normalised_name(o.name) == name), None)


def create_organisation(store: OrganisationStore, data: dict[str, str]) -> Organisation:
    """A new organisation; InvalidInput when a field is not what it holds (whoever calls)."""
    errors = check_organisation_input(data)
    if errors:
        raise InvalidInput(errors)
    siren, rna = compact(data.get("org_siren")) or None, compact(data.get("org_rna")) or None
    clean = text_fields.clean
    organisation = Organisation(
        name=clean(data["org_name"]), kind=data["org_kind"], siren=siren, rna=rna,
        address_line=clean(data["org_address_line"]), postcode=data["org_postcode"].strip(),
        city=clean(data["org_city"]), legal_rep_name=clean(data["legal_rep_name"]),
        legal_rep_title=clean(data["legal_rep_title"]),
    )
    store.add(organisation)
    return organisation


# ---------------------------------------------------------------------------------------------
# Accounts created by an organisation registration


def new_person_account(store: OrganisationStore, given_name: str, family_name: str, email: str,
                       password_hash: str, locale: str = "fr") -> Account:
    """A new account whose identifier (``username``) is built from the names (seed 002); BadText
    when a name or the address is not one line of bounded length without control characters."""
    errors = text_fields.check({"given_name": given_name, "family_name": family_name, "email": email},
                               ("given_name", "family_name", "email"), required=("given_name", "family_name", "email"))
    if errors:
        raise text_fields.BadText(errors)
    given_name, family_name = text_fields.clean(given_name), text_fields.clean(family_name)
    username = make_identifier(given_name, family_name, store.username_taken)
    account = Account(email=email.strip().lower(), username=username, password_hash=password_hash,
                      status="pending", given_name=given_name, family_name=family_name,
                      locale=locale, roles=[])
    store.add(account)
    audit(store, "org.account_registered", account.id, {"username": username})
    return account


def give_names(store: OrganisationStore, account: Account, given_name: str, family_name: str) -> None:
    """Names and identifier for an account that has none yet (made by the generic registration);
    names an account already holds are kept: whoever registers again has not proven the address."""
    if account.username:
        return
    names = text_fields.require(given_name=given_name, family_name=family_name)
    account.given_name, account.family_name = names["given_name"], names["family_name"]
    account.username = make_identifier(account.given_name, account.family_name, store.username_taken)


def audit(store: OrganisationStore, kind: str, account_id: str | None, detail: dict) -> None:
    store.session.add(AuditEvent(kind=kind, account_id=account_id, detail=detail))


# ---------------------------------------------------------------------------------------------
# Joining an organisation, administrator requests and codes


def join_organisation(store: OrganisationStore, account: Account, organisation: Organisation, role: str,
                      now: datetime, code_entry_url: str,
                      limits: LetterLimits | None = None) -> tuple[Membership, Letter | None]:
    """Register ``account`` in ``organisation`` as user or administrator (membership pending).

    Registering again in an organisation where a membership exists reuses it: an invalidated
    one becomes pending again (the administrator decides), an active one is left as it is.
    An administrator registration sends the letter only for an activated account; a new account's
    request waits until its owner has activated it and signs in (``ask_to_administer``).
    """
    if role not in ("user", "administrator"):
        raise ValueError(role)
    if role == "administrator" and account.status == "active":
        check_letter_allowed(store, account.id, organisation.id, now, limits)  # before anything is written
    membership = store.membership_of(account.id, organisation.id)
    if membership is None:
        membership = Membership(account_id=account.id, organisation_id=organisation.id, role="user",
                                status="pending")
        store.add(membership)
    elif membership.status in ("invalidated", "expired"):  # registering again: the administrator decides anew
        membership.status, membership.decided_at, membership.decided_by = "pending", None, None
        membership.created_at = now  # and the time to decide starts again
    audit(store, "org.registration", account.id, {"organisation": organisation.id, "role": role})
    if role == "user" and membership.status == "pending" and account.status == "active":
        tell_administrators_of_registration(store, organisation.id, account)
    letter = None
    if role == "administrator":
        if membership.status == "pending":
            membership.role = "administrator"
        if account.status == "active":
            letter = request_administrator(store, account, organisation, now, code_entry_url, limits)
    return membership, letter


def tell_administrators_of_registration(store: OrganisationStore, organisation_id: str, account: Account) -> None:
    """The organisation's active administrators hear of a registration waiting for them (only
    once the address is proven: an unactivated registration never reaches them)."""
    administrators = [a for m, a in store.members(organisation_id)
                      if m.role == "administrator" and m.status == "active" and a.id != account.id]
    if administrators:
        org_notices.registration_to_validate(store.session, store.organisation(organisation_id), account,
                                             administrators)


def registrations_activated(store: OrganisationStore, account: Account) -> None:
    """The account's address was just proven: its pending user registrations reach their administrators
    (hook of the account lifecycle's activation)."""
    for membership, organisation in store.memberships_of_account(account.id):
        if membership.status == "pending" and membership.role == "user":
            tell_administrators_of_registration(store, organisation.id, account)


def ask_to_administer(store: OrganisationStore, account_id: str, organisation_id: str, now: datetime,
                      code_entry_url: str, limits: LetterLimits | None = None) -> Letter:
    """A signed-in member asks for the letter: an active user who wants to become the new
    administrator, or a person whose administrator registration waited for the account's activation.
    Asking again (a letter lost in the post) replaces one's own request, within the letter limits."""
    membership = store.membership_of(account_id, organisation_id)
    if membership is None or membership.status == "invalidated":
        raise NotFound("no membership in this organisation")
    if membership.role == "administrator" and membership.status == "active":
        raise NotAllowed("already the administrator")
    return request_administrator(store, store.account(account_id), store.organisation(organisation_id), now,
                                 code_entry_url, limits)


def _hash_code(request_id: str, code: str) -> str:
    normalised = "".join(code.split()).upper()
    return hashlib.sha256(f"{request_id}:{normalised}".encode()).hexdigest()


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True)
class LetterLimits:
    """How many letters the legal representative may receive: at most ``per_organisation`` for one
    organisation and ``per_requester`` asked by one person, in any ``period`` (config/idp.toml
    ``[organisations]``: ``letter_period_days``, ``letters_per_organisation``, ``letters_per_requester``)."""

    period: timedelta = timedelta(days=7)
    per_organisation: int = 1
    per_requester: int = 1

    @classmethod
    def configured(cls) -> LetterLimits:
        section = load_toml("idp.toml").get("organisations", {})
        return cls(period=timedelta(days=float(section.get("letter_period_days", 7))),
                   per_organisation=int(section.get("letters_per_organisation", 1)),
                   per_requester=int(section.get("letters_per_requester", 1)))


def portal_client_id() -> str | None:
    """The client of the organisations' portal, whose brand the organisations pages wear
    (``[organisations] portal_client``; None: the IdP's own look)."""
    return get_settings().section("organisations").get("portal_client") or None


class LetterTooSoon(Exception):
    """No letter now: ``reason`` is ``organisation`` (this organisation's legal representative was
    written to lately) or ``requester`` (this person asked for a letter lately); ``last`` is when,
    ``next_allowed`` when a request can be made again."""

    def __init__(self, reason: str, last: datetime, next_allowed: datetime):
        super().__init__(f"{reason}: next letter from {next_allowed.isoformat()}")
        self.reason, self.last, self.next_allowed = reason, last, next_allowed


def check_letter_allowed(store: OrganisationStore, account_id: str, organisation_id: str | None,
                         now: datetime, limits: LetterLimits | None = None) -> None:
    """Raise LetterTooSoon when a new letter would exceed the limits (every request counts,
    whatever became of it: the letter was posted)."""
    limits = limits or LetterLimits.configured()
    since = now - limits.period
    for reason, sent, allowed in (
            ("organisation", store.admin_requests_since(since, organisation_id=organisation_id)
             if organisation_id else [], limits.per_organisation),
            ("requester", store.admin_requests_since(since, account_id=account_id), limits.per_requester)):
        if len(sent) >= allowed:
            oldest_counted = sorted(_aware(r.created_at) for r in sent)[len(sent) - allowed]
            last = max(_aware(r.created_at) for r in sent)
            raise LetterTooSoon(reason, last, oldest_counted + limits.period)


def request_administrator(store: OrganisationStore, account: Account, organisation: Organisation,
                          now: datetime, code_entry_url: str, limits: LetterLimits | None = None) -> Letter:
    """A new administrator request from an activated account, within the letter limits: its codes
    and its letter. The requester's own earlier request is replaced; another person's stays
    pending (the legal representative chooses between them by the codes he types) and both
    people are told by email."""
    if account is None or account.status != "active":
        raise NotAllowed("an administrator request needs an activated account")
    store.lock_organisation(organisation.id)  # two requests at once: one waits for the other's count
    check_letter_allowed(store, account.id, organisation.id, now, limits)
    others = []
    for previous in store.pending_admin_requests(organisation.id):
        if previous.account_id == account.id:
            supersede(store, previous, now, replacing_account_id=account.id)
        elif _aware(previous.expires_at) > now:
            others.append(previous)
    request = AdminRequest(organisation_id=organisation.id, account_id=account.id,
                           reference=_new_reference(store), code_hash_1="", code_hash_2="",
                           created_at=now, expires_at=now + CODE_VALIDITY)
    store.add(request)
    codes = (_new_code(), _new_code())
    request.code_hash_1, request.code_hash_2 = _hash_code(request.id, codes[0]), _hash_code(request.id, codes[1])
    membership = store.membership_of(account.id, organisation.id)
    if membership is None:
        store.add(Membership(account_id=account.id, organisation_id=organisation.id, role="administrator",
                             status="pending"))
    audit(store, "org.admin_requested", account.id, {"organisation": organisation.id, "reference": request.reference,
                                                      "others_pending": [o.reference for o in others]})
    letter = Letter(request, organisation, account, codes, code_entry_url, others)
    queue_letter(store, letter)
    if others:
        org_notices.competing_request(store.session, organisation, request, account,
                                      [(o, store.account(o.account_id)) for o in others])
    sitting = [a for m, a in store.members(organisation.id)
               if m.role == "administrator" and m.status == "active" and a.id != account.id]
    if sitting:
        org_notices.handover_requested(store.session, organisation, request, account, sitting)
    return letter


def _new_reference(store: OrganisationStore) -> str:
    while True:
        reference = "ADM-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        if store.admin_request_by_reference(reference) is None:
            return reference


def supersede(store: OrganisationStore, request: AdminRequest, now: datetime,
              replacing_account_id: str | None = None) -> None:
    request.status, request.decided_at = "superseded", now
    if request.account_id == replacing_account_id:  # the same person asked again: new codes only
        audit(store, "org.admin_request_superseded", request.account_id, {"reference": request.reference})
        return
    membership = store.membership_of(request.account_id, request.organisation_id)
    # A person who registered *as administrator* and was never validated keeps nothing; an
    # existing user who asked to become administrator stays the user he was.
    if membership is not None and membership.status == "pending" and membership.role == "administrator":
        membership.status, membership.decided_at = "invalidated", now
    audit(store, "org.admin_request_superseded", request.account_id, {"reference": request.reference})


class Confirmation(str, Enum):
    VALIDATED = "validated"
    WRONG = "wrong"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    ALREADY = "already"
    LOCKED = "locked"
    UNKNOWN = "unknown"


def confirm_admin_request(store: OrganisationStore, reference: str, code_1: str, code_2: str,
                          now: datetime) -> Confirmation:
    """The legal representative's codes. Both must match; few attempts; expired or superseded refused."""
    request = store.admin_request_by_reference((reference or "").strip().upper())
    if request is None:
        return Confirmation.UNKNOWN
    if request.status == "superseded":
        return Confirmation.SUPERSEDED
    if request.status == "validated":
        return Confirmation.ALREADY
    if _aware(request.expires_at) <= now:
        return Confirmation.EXPIRED
    if request.attempts >= MAX_CODE_ATTEMPTS:
        return Confirmation.LOCKED
    ok_1 = hmac.compare_digest(request.code_hash_1, _hash_code(request.id, code_1 or ""))
    ok_2 = hmac.compare_digest(request.code_hash_2, _hash_code(request.id, code_2 or ""))
    if not (ok_1 and ok_2):
        request.attempts += 1
        audit(store, "org.admin_codes_wrong", request.account_id, {"reference": request.reference})
        return Confirmation.LOCKED if request.attempts >= MAX_CODE_ATTEMPTS else Confirmation.WRONG
    request.status, request.decided_at = "validated", now
    for other in store.pending_admin_requests(request.organisation_id):  # the legal representative chose
        if other.id != request.id:
            supersede(store, other, now)
            org_notices.other_request_chosen(store.session, store.organisation(request.organisation_id), other,
                                             store.account(other.account_id))
    former = []
    for previous, previous_account in store.members(request.organisation_id):
        if previous.role == "administrator" and previous.account_id != request.account_id:
            previous.role = "user"  # one administrator at a time: the new one replaces the old
            if previous.status == "active":
                former.append(previous_account)
                audit(store, "org.admin_replaced", previous.account_id,
                      {"organisation": request.organisation_id, "reference": request.reference})
    membership = store.membership_of(request.account_id, request.organisation_id)
    membership.role, membership.status, membership.decided_at = "administrator", "active", now
    audit(store, "org.admin_validated", request.account_id, {"reference": request.reference,
                                                              "organisation": request.organisation_id})
    org_notices.handover_done(store.session, store.organisation(request.organisation_id),
                              store.account(request.account_id), former)
    return Confirmation.VALIDATED


def validated_request_summary(store: OrganisationStore, reference: str) -> dict[str, str] | None:
    """Whom the legal representative has just validated (shown once the codes were right): the
    organisation and the administrator's names and identifier, one line each."""
    request = store.admin_request_by_reference((reference or "").strip().upper())
    if request is None or request.status != "validated":
        return None
    account = store.account(request.account_id)
    names = " ".join(text_fields.one_line(v, f) for v, f in ((account.given_name, "given_name"),
                                                            (account.family_name, "family_name")) if v)
    person = f"{names} ({account.username})" if names and account.username else (names or account.username
                                                                                  or account.email)
    return {"organisation": text_fields.one_line(store.organisation(request.organisation_id).name, "org_name"),
            "administrator": person}


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def working_days_between(start: datetime, end: datetime) -> int:
    """Monday-to-Friday days elapsed after ``start`` up to ``end`` (the day of the request not counted)."""
    day, count = _aware(start).date(), 0
    last = _aware(end).date()
    while day < last:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count += 1
    return count


def my_admin_requests(store: OrganisationStore, account_id: str, now: datetime) -> list[dict]:
    """The account's administrator requests, with what the interface must say about each."""
    result = []
    for request in store.admin_requests_of_account(account_id):
        organisation = store.organisation(request.organisation_id)
        status = request.status
        if status == "pending" and _aware(request.expires_at) <= now:
            status = "expired"
        result.append({
            "reference": request.reference, "organisation": organisation, "status": status,
            "created_at": request.created_at, "expires_at": request.expires_at,
            "point_to_support": status == "pending"
            and working_days_between(request.created_at, now) >= SUPPORT_AFTER_WORKING_DAYS,
        })
    return result


# ---------------------------------------------------------------------------------------------
# The administrator's console


def _member_in(store: OrganisationStore, organisation_id: str, membership_id: str) -> Membership:
    membership = store.membership(membership_id)
    if membership is None or membership.organisation_id != organisation_id:
        raise NotFound("no such member in this organisation")
    return membership


def console(store: OrganisationStore, actor_id: str, organisation_id: str) -> dict:
    """Everything the administrator's console shows, for this organisation only."""
    require_administrator(store, actor_id, organisation_id)
    organisation = store.organisation(organisation_id)
    subscribed = [s.eservice_id for s in store.subscriptions(organisation_id)]
    members = []
    for membership, account in store.members(organisation_id):
        members.append({
            "membership": membership, "account": account,
            "grants": [g.eservice_id for g in store.grants_of_membership(membership.id)],
        })
    return {"organisation": organisation, "members": members, "subscribed": subscribed,
            "catalogue": load_catalogue(),
            "pending": [m for m in members if m["membership"].status == "pending"
                        and m["membership"].role == "user"]}


def why_no_console(store: OrganisationStore, actor_id: str, organisation_id: str) -> dict:
    """What a member who is not the administrator is told at the console's door: the organisation,
    who administers it now, and whether the actor was its administrator until a handover."""
    administrators = [a for m, a in store.members(organisation_id) if m.role == "administrator" and m.status == "active"]
    replaced = store.last_event("org.admin_replaced", actor_id)
    was_replaced = replaced is not None and (replaced.detail or {}).get("organisation") == organisation_id
    return {"organisation": store.organisation(organisation_id), "administrators": administrators,
            "replaced_at": replaced.at if was_replaced else None}


HISTORY_KINDS = ("org.registration", "org.admin_requested", "org.admin_validated", "org.admin_replaced",
                 "org.member_validated", "org.member_invalidated", "org.granted", "org.revoked", "org.subscribed",
                 "org.unsubscribed", "org.registration_expired")


# ---------------------------------------------------------------------------------------------
# Expiry: what nobody decides does not stay forever (housekeeping job)


@dataclass(frozen=True)
class ExpiryPeriods:
    """``[organisations]`` of config/idp.toml: ``pending_registration_days`` (a registration no
    administrator decided), ``unvalidated_organisation_days`` (an organisation whose administrator
    the legal representative never validated, with no letter's codes still valid)."""

    registration: timedelta = timedelta(days=60)
    organisation: timedelta = timedelta(days=90)

    @classmethod
    def configured(cls) -> ExpiryPeriods:
        section = load_toml("idp.toml").get("organisations", {})
        return cls(registration=timedelta(days=float(section.get("pending_registration_days", 60))),
                   organisation=timedelta(days=float(section.get("unvalidated_organisation_days", 90))))


def expire_undecided(store: OrganisationStore, now: datetime, periods: ExpiryPeriods | None = None) -> dict[str, int]:
    """Pending registrations older than their period become ``expired`` (the person is told, and may
    register again); organisations never validated are removed with their registrations. An
    administrator registration whose letter's codes are still valid waits for them. Each expiry is
    in the organisation's history with its reason."""
    periods = periods or ExpiryPeriods.configured()
    days = periods.registration.days
    registrations = 0
    for membership in store.pending_memberships_created_before(now - periods.registration):
        if store.live_admin_request(membership.account_id, membership.organisation_id, now):
            continue
        membership.status, membership.decided_at = "expired", now
        audit(store, "org.registration_expired", membership.account_id,
              {"organisation": membership.organisation_id, "reason": f"no decision within {days} days"})
        org_notices.registration_expired(store.session, store.organisation(membership.organisation_id),
                                         store.account(membership.account_id), days)
        registrations += 1
    organisations = 0
    for organisation in store.organisations_created_before(now - periods.organisation):
        members = store.members(organisation.id)
        if any(m.role == "administrator" and m.status == "active" for m, _a in members) or \
                store.live_admin_request(None, organisation.id, now) or \
                any(m.decided_at is not None and m.status != "expired" for m, _a in members):
            continue
        audit(store, "org.expired", None, {"organisation": organisation.id, "name": organisation.name,
                                           "reason": f"no administrator validated within {periods.organisation.days} days"})
        store.remove_organisation(organisation)
        organisations += 1
    return {"registrations_expired": registrations, "organisations_expired": organisations}


def history(store: OrganisationStore, actor_id: str, organisation_id: str, limit: int = 50) -> list[dict]:
    """Who validated, granted, revoked or invalidated what and when (with the reason given), for this
    organisation's administrator only, newest first."""
    require_administrator(store, actor_id, organisation_id)
    people: dict[str, Account | None] = {}

    def person(account_id: str | None) -> Account | None:
        if account_id and account_id not in people:
            people[account_id] = store.account(account_id)
        return people.get(account_id) if account_id else None

    rows = []
    for event in store.organisation_events(organisation_id, limit=limit):
        if event.kind not in HISTORY_KINDS:
            continue
        detail = event.detail or {}
        by = detail.get("by") or (event.account_id if event.kind in ("org.subscribed", "org.unsubscribed") else None)
        rows.append({"at": event.at, "kind": event.kind, "by": person(by),
                     "member": None if event.kind in ("org.subscribed", "org.unsubscribed") else person(event.account_id),
                     "eservice": detail.get("eservice"), "reason": detail.get("reason") or "",
                     "reference": detail.get("reference")})
    return rows


def validate_member(store: OrganisationStore, actor_id: str, organisation_id: str, membership_id: str,
                    now: datetime) -> Membership:
    require_administrator(store, actor_id, organisation_id)
    membership = _member_in(store, organisation_id, membership_id)
    if membership.role == "administrator" and membership.status == "pending":
        raise NotAllowed("an administrator is validated by the legal representative's codes")
    if membership.status == "active":
        return membership  # already validated (a second click): nothing to decide, nobody to tell
    membership.status, membership.decided_at, membership.decided_by = "active", now, actor_id
    account = store.account(membership.account_id)
    if account.status == "deactivated" and account.deactivation_reason == INVALIDATION_REASON:
        reactivate(store, account)  # deactivated by an invalidation before memberships and accounts were apart
    audit(store, "org.member_validated", membership.account_id,
          {"organisation": organisation_id, "by": actor_id})
    org_notices.member_validated(store.session, store.organisation(organisation_id), account)
    return membership


def invalidation_preview(store: OrganisationStore, actor_id: str, organisation_id: str,
                         membership_id: str) -> dict:
    """What an invalidation would end, for the confirmation page: this membership and its grants only."""
    require_administrator(store, actor_id, organisation_id)
    membership = _member_in(store, organisation_id, membership_id)
    if membership.account_id == actor_id:
        raise NotAllowed("an administrator does not invalidate himself")
    if membership.status == "invalidated":
        raise NotAllowed("already invalidated")
    return {"membership": membership, "account": store.account(membership.account_id),
            "organisation": store.organisation(organisation_id),
            "grants": [g.eservice_id for g in store.grants_of_membership(membership.id)]}


def invalidate_member(store: OrganisationStore, actor_id: str, organisation_id: str, membership_id: str,
                      now: datetime, reason: str = "") -> Membership:
    """End this registration and its grants, in this organisation only; the account stays as it is
    (usable for the person's other organisations and every other service). The person is told why
    and how to come back; the administrator's ``reason`` (one line) goes to the history only."""
    require_administrator(store, actor_id, organisation_id)
    membership = _member_in(store, organisation_id, membership_id)
    if membership.account_id == actor_id:
        raise NotAllowed("an administrator does not invalidate himself")
    if membership.status == "invalidated":
        return membership
    membership.status, membership.decided_at, membership.decided_by = "invalidated", now, actor_id
    grants = store.grants_of_membership(membership.id)
    for grant in grants:
        store.delete(grant)
    audit(store, "org.member_invalidated", membership.account_id,
          {"organisation": organisation_id, "by": actor_id, "grants": [g.eservice_id for g in grants],
           "reason": text_fields.one_line(reason or "", "reason")})
    org_notices.member_invalidated(store.session, store.organisation(organisation_id),
                                   store.account(membership.account_id))
    return membership


def reactivate(store: OrganisationStore, account: Account) -> None:
    """An account deactivated by an organisation's invalidation (what invalidating did before) comes back."""
    account.status = "active" if account.password_hash else "pending"
    account.deactivation_reason = None
    audit(store, "account.reactivated", account.id, {"reason": "validated_by_organisation"})


def _check_eservice(organisation: Organisation, eservice_id: str) -> None:
    eservice = load_catalogue().get(eservice_id)
    if eservice is None:
        raise NotFound("no such e-service")
    if organisation.kind not in eservice.kinds:
        raise NotAllowed("this e-service is not offered to this kind of organisation")


def subscribe(store: OrganisationStore, actor_id: str, organisation_id: str, eservice_id: str) -> None:
    require_administrator(store, actor_id, organisation_id)
    _check_eservice(store.organisation(organisation_id), eservice_id)
    if store.subscription(organisation_id, eservice_id) is None:
        store.add(Subscription(organisation_id=organisation_id, eservice_id=eservice_id, subscribed_by=actor_id))
        audit(store, "org.subscribed", actor_id, {"organisation": organisation_id, "eservice": eservice_id})


def unsubscription_preview(store: OrganisationStore, actor_id: str, organisation_id: str, eservice_id: str) -> dict:
    """What ending a subscription would end, for the confirmation page: every member's grant of it."""
    require_administrator(store, actor_id, organisation_id)
    if store.subscription(organisation_id, eservice_id) is None:
        raise NotFound("not subscribed")
    holders = []
    for grant in store.grants_of_organisation(organisation_id, eservice_id):
        membership = store.membership(grant.membership_id)
        holders.append(store.account(membership.account_id))
    return {"organisation": store.organisation(organisation_id), "eservice_id": eservice_id, "holders": holders}


def unsubscribe(store: OrganisationStore, actor_id: str, organisation_id: str, eservice_id: str,
                reason: str = "") -> None:
    require_administrator(store, actor_id, organisation_id)
    subscription = store.subscription(organisation_id, eservice_id)
    if subscription is None:
        raise NotFound("not subscribed")
    organisation = store.organisation(organisation_id)
    for grant in store.grants_of_organisation(organisation_id, eservice_id):
        member = store.membership(grant.membership_id)
        store.delete(grant)
        if member is not None:
            org_notices.eservice_revoked(store.session, organisation, store.account(member.account_id), eservice_id,
                                         unsubscribed=True)
    store.delete(subscription)
    audit(store, "org.unsubscribed", actor_id, {"organisation": organisation_id, "eservice": eservice_id,
                                                "reason": text_fields.clean(reason)[:200]})


def grant(store: OrganisationStore, actor_id: str, organisation_id: str, membership_id: str,
          eservice_id: str) -> None:
    require_administrator(store, actor_id, organisation_id)
    membership = _member_in(store, organisation_id, membership_id)
    if membership.status != "active":
        raise NotAllowed("validate the registration before granting e-services")
    if store.subscription(organisation_id, eservice_id) is None:
        raise NotAllowed("subscribe the organisation to this e-service first")
    if store.grant(membership.id, eservice_id) is None:
        store.add(Grant(membership_id=membership.id, eservice_id=eservice_id, granted_by=actor_id))
        audit(store, "org.granted", membership.account_id,
              {"organisation": organisation_id, "eservice": eservice_id, "by": actor_id})
        if membership.account_id != actor_id:  # an administrator granting himself needs no email
            org_notices.eservice_granted(store.session, store.organisation(organisation_id),
                                         store.account(membership.account_id), eservice_id)


def revoke(store: OrganisationStore, actor_id: str, organisation_id: str, membership_id: str,
           eservice_id: str) -> None:
    require_administrator(store, actor_id, organisation_id)
    membership = _member_in(store, organisation_id, membership_id)
    existing = store.grant(membership.id, eservice_id)
    if existing is not None:
        store.delete(existing)
        audit(store, "org.revoked", membership.account_id,
              {"organisation": organisation_id, "eservice": eservice_id, "by": actor_id})
        if membership.account_id != actor_id:
            org_notices.eservice_revoked(store.session, store.organisation(organisation_id),
                                         store.account(membership.account_id), eservice_id)


def member_summary(store: OrganisationStore, membership: Membership, account: Account) -> dict:
    """A member as the management API shows it."""
    return {
        "membership_id": membership.id, "account_id": account.id, "username": account.username,
        "email": account.email, "given_name": account.given_name, "family_name": account.family_name,
        "role": membership.role, "status": membership.status,
        "grants": [g.eservice_id for g in store.grants_of_membership(membership.id)],
        "eservices": granted_eservices(store, account.id, membership.organisation_id),
    }


__all__ = [
    "Confirmation", "Letter", "NotAllowed", "NotFound", "check_organisation_input", "confirm_admin_request",
    "LetterLimits", "LetterTooSoon", "ask_to_administer", "check_letter_allowed",
    "console", "create_organisation", "grant", "invalidate_member", "join_organisation", "my_admin_requests",
    "new_person_account", "request_administrator", "revoke", "subscribe", "unsubscribe", "validate_member",
]


# ---------------------------------------------------------------------------------------------
# Demo data (called by scripts/demo_seed.py)

DEMO_ORGANISATIONS = [
    {"org_name": "Mairie de Sainte-Croix-aux-Mines", "org_kind": "commune", "org_siren": "216804302",
     "org_address_line": "1 place de la Mairie", "org_postcode": "68160", "org_city": "Sainte-Croix-aux-Mines",
     "legal_rep_name": "Jeanne KELLER", "legal_rep_title": "Madame la Maire"},
    {"org_name": "Association Les Amis du Val d'Argent", "org_kind": "association", "org_rna": "W683000123",
     "org_address_line": "12 rue du Temple", "org_postcode": "68160", "org_city": "Sainte-Marie-aux-Mines",
     "legal_rep_name": "Marc WEBER", "legal_rep_title": "Monsieur le Président"},
    {"org_name": "Communauté de communes du Val d'Argent", "org_kind": "intercommunalite",
     "org_siren": "246800619", "org_address_line": "11A rue Maurice Burrus", "org_postcode": "68160",
     "org_city": "Sainte-Marie-aux-Mines", "legal_rep_name": "Pierre HERRMANN",
     "legal_rep_title": "Monsieur le Président"},
]


def seed_demo(database_url: str | None = None, password: str = "Demo-Passw0rd",  # noqa: S107 (demo only)
              code_entry_url: str | None = None) -> list[str]:
    """Two organisations with an administrator of both, users, grants; a third organisation whose
    administrator waits for the legal representative's codes. Idempotent. Returns lines to print."""
    import os

    from idp.services.passwords import hash_password
    from shared.config import load_settings
    from shared.storage import Database
    from shared.timeutil import utcnow

    url = database_url or load_settings("idp", {"_quiet": True}).database_url
    code_entry_url = code_entry_url or (
        os.environ.get("ESERVICES_PUBLIC_URL", "http://localhost:8003").rstrip("/") + "/representant-legal")
    database = Database(url)
    now = utcnow()
    lines: list[str] = []
    try:
        with database.session() as session:
            store = OrganisationStore(session)
            if store.organisation_by_siren(DEMO_ORGANISATIONS[0]["org_siren"]) is not None:
                return ["e-services: demo organisations already seeded (see README for the accounts)"]
            mairie, association, communaute = (create_organisation(store, data) for data in DEMO_ORGANISATIONS)
            password_hash = hash_password(password)

            def person(given: str, family: str, email: str) -> Account:
                account = new_person_account(store, given, family, email, password_hash)
                account.status, account.email_verified = "active", True
                return account

            claire = person("Claire", "MARTIN", "claire.martin@example.org")
            frederic = person("Frédéric", "DUPONT DURAND", "frederic.dupont@example.org")
            lea = person("Léa", "MULLER", "lea.muller@example.org")
            paul = person("Paul", "SCHMITT", "paul.schmitt@example.org")
            hugo = person("Hugo", "BERNARD", "hugo.bernard@example.org")
            for organisation in (mairie, association):
                store.add(Membership(account_id=claire.id, organisation_id=organisation.id,
                                     role="administrator", status="active", decided_at=now))
            for organisation, eservices in ((mairie, ("etat-civil", "listes-electorales", "subventions")),
                                            (association, ("subventions",))):
                for eservice_id in eservices:
                    subscribe(store, claire.id, organisation.id, eservice_id)
            frederic_m = Membership(account_id=frederic.id, organisation_id=mairie.id, role="user", status="active")
            lea_m = Membership(account_id=lea.id, organisation_id=association.id, role="user", status="active")
            store.add(frederic_m)
            store.add(lea_m)
            store.add(Membership(account_id=paul.id, organisation_id=mairie.id, role="user", status="pending"))
            claire_mairie = store.membership_of(claire.id, mairie.id)
            for membership, eservice_id in ((frederic_m, "etat-civil"), (frederic_m, "listes-electorales"),
                                            (lea_m, "subventions"), (claire_mairie, "subventions")):
                store.add(Grant(membership_id=membership.id, eservice_id=eservice_id, granted_by=claire.id))
            _membership, letter = join_organisation(store, hugo, communaute, "administrator", now, code_entry_url)
            lines += [
                f"e-services (password for every account: {password}; sign in with the email or the identifier):",
                f"  administrator of 2 organisations: {claire.email} / {claire.username}",
                f"  user at the town hall (état civil, listes électorales): {frederic.email} / {frederic.username}",
                f"  user at the association (subventions): {lea.email} / {lea.username}",
                f"  registration waiting for the administrator's validation: {paul.email}",
                f"  administrator waiting for the legal representative: {hugo.email}",
                f"  legal representative's codes for {communaute.name}: reference {letter.request.reference}, "
                f"codes {letter.codes[0]} and {letter.codes[1]} (letter in the dev inbox) at {code_entry_url}",
            ]
    finally:
        database.dispose()
    return lines


# ---------------------------------------------------------------------------------------------
# Command line (``idp orgs …``), registered in idp/cli.py EXTENSIONS

import click  # noqa: E402


@click.group("orgs")
def cli() -> None:
    """Organisations and delegated permissions (seed 002)."""


@cli.command("list")
def cli_list() -> None:
    """Every organisation with its administrators, members and pending administrator request."""
    import json

    from shared.config import load_settings
    from shared.storage import Database

    database = Database(load_settings("idp", {"_quiet": True}).database_url)
    try:
        with database.session() as session:
            store = OrganisationStore(session)
            rows = []
            for organisation in store.organisations():
                members = store.members(organisation.id)
                rows.append({
                    "id": organisation.id, "name": organisation.name, "kind": organisation.kind,
                    "legal_representative": f"{organisation.legal_rep_title} {organisation.legal_rep_name}",
                    "administrators": [a.username for m, a in members if m.role == "administrator" and m.status == "active"],
                    "members": {status: sum(1 for m, _a in members if m.status == status)
                                for status in ("pending", "active", "invalidated")},
                    "subscriptions": [s.eservice_id for s in store.subscriptions(organisation.id)],
                    "pending_admin_requests": [r.reference for r in store.pending_admin_requests(organisation.id)],
                })
        click.echo(json.dumps(rows, ensure_ascii=False))
    finally:
        database.dispose()


@cli.command("seed-demo")
@click.option("--password", default="Demo-Passw0rd", show_default=True)
def cli_seed_demo(password: str) -> None:
    """Demo organisations, people and grants (idempotent); prints the demo credentials."""
    for line in seed_demo(password=password):
        click.echo(line)
