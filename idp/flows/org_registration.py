"""Registration in an organisation (seed 002, "Inscription"), as a user or as its administrator.

States of one registration (what the person waits for), written down as in the other flows::

    FORM ──submit(errors)──► FORM
    FORM ──submit(ok, new account)────────► AWAITING_ACTIVATION ──(activation link)──┐
    FORM ──submit(ok, signed-in account)──┐                                          │
                                          ▼                                          ▼
                         role user:  AWAITING_ADMINISTRATOR  ──(administrator validates)──► ACTIVE
                         role admin: AWAITING_LEGAL_REPRESENTATIVE ──(codes entered)─────► ACTIVE

The form: required fields marked ``*``, the terms checkbox, the "Valider" button. A person who is
not signed in gives names and email (the identifier is built from the names) and chooses the
password on the activation link's page, once the address is proven (no account holds a password
before: account pre-hijacking); a signed-in person only chooses the organisation and the role,
and gives names when the account has none yet (an account made before names were asked
everywhere, or through a federation that gave none): no member reaches a console nameless.
The legal representative's letter goes out only for a signed-in (so activated) account and within
the letter limits (``orgs.LetterLimits``): a new account's administrator request waits for its
activation, then is sent from "Mes organisations" (``orgs.ask_to_administer``). An address that already has an
account gets the same answer as a new one (no enumeration) and an email telling its owner to
sign in and register from "Mes organisations"; an address whose account was never activated
(or went dormant) gets a new activation link instead: registering again is the seed's way back
for a lost confirmation email ("renouvelez votre inscription"), and the registration is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from idp.services import organisations as orgs
from idp.services import text_fields
from idp.storage.sql.organisations import OrganisationStore
from shared.timeutil import utcnow


class State(str, Enum):
    FORM = "form"
    AWAITING_ACTIVATION = "awaiting_activation"
    AWAITING_ADMINISTRATOR = "awaiting_administrator"
    AWAITING_LEGAL_REPRESENTATIVE = "awaiting_legal_representative"
    ACTIVE = "active"


TRANSITIONS: dict[State, tuple[State, ...]] = {
    State.FORM: (State.FORM, State.AWAITING_ACTIVATION, State.AWAITING_ADMINISTRATOR,
                 State.AWAITING_LEGAL_REPRESENTATIVE),
    State.AWAITING_ACTIVATION: (State.AWAITING_ADMINISTRATOR, State.AWAITING_LEGAL_REPRESENTATIVE),
    State.AWAITING_ADMINISTRATOR: (State.ACTIVE,),
    State.AWAITING_LEGAL_REPRESENTATIVE: (State.ACTIVE,),
    State.ACTIVE: (),
}

PERSON_FIELDS = ("given_name", "family_name", "email")


@dataclass
class Result:
    state: State
    errors: dict[str, str] = field(default_factory=dict)  # field → error code (the page words it)
    password_rules: list[str] = field(default_factory=list)
    role: str = "user"
    organisation_name: str = ""
    username: str | None = None
    new_account: bool = False
    letter_sent: bool = False  # the legal representative's letter went out (administrator, activated account)
    retry_on: datetime | None = None  # errors["organisation_id"] == "letter_too_soon_*": when to ask again


def start() -> Result:
    return Result(State.FORM)


def check(form: dict[str, str], signed_in: bool, needs_names: bool = False) -> tuple[dict[str, str], list[str]]:
    """Field → error code, and the unmet password rules."""
    errors: dict[str, str] = {}
    rules: list[str] = []
    role = form.get("role", "")
    if role not in ("user", "administrator"):
        errors["role"] = "required"
    organisation_id = form.get("organisation_id", "")
    if not organisation_id:
        errors["organisation_id"] = "required"
    elif organisation_id == "new":
        if role == "user":
            errors["organisation_id"] = "new_needs_administrator"
        errors.update(orgs.check_organisation_input(form))
    if not signed_in or needs_names:
        for name in PERSON_FIELDS if not signed_in else ("given_name", "family_name"):
            if not (form.get(name) or "").strip():
                errors[name] = "required"
        # names and the address reach emails and the legal representative's letter: one line each
        errors.update({name: code for name, code in
                       text_fields.check(form, ("given_name", "family_name", "email")).items()
                       if name not in errors})
    if form.get("terms") != "on":
        errors["terms"] = "required"
    return errors, rules


def submit(store: OrganisationStore, form: dict[str, str], signed_in_account_id: str | None,
           code_entry_url: str, locale: str = "fr", on_new_account=None, on_existing_email=None,
           on_registered_again=None, awaits_activation=lambda account: account.status == "pending") -> Result:
    """Validate and register in one transaction. ``on_new_account(store, account)`` starts the
    account's activation (the account lifecycle's email); ``on_existing_email(store, account)``
    tells an address that already has an account; ``on_registered_again(store, account)`` sends a
    new activation link to an account that ``awaits_activation``."""
    signed_in_account = store.account(signed_in_account_id) if signed_in_account_id is not None else None
    needs_names = signed_in_account is not None and not signed_in_account.username
    errors, rules = check(form, signed_in_account_id is not None, needs_names)
    organisation = None
    if not errors and form["organisation_id"] != "new":
        organisation = store.organisation(form["organisation_id"])
        if organisation is None:
            errors["organisation_id"] = "required"
    if not errors and form["organisation_id"] == "new" and (twin := orgs.existing_twin(store, form)) is not None:
        # routed to the existing one: the form offers it in the list, pre-selected
        same_siren = bool(form.get("org_siren")) and twin.siren == orgs.compact(form["org_siren"])
        same_rna = bool(form.get("org_rna")) and twin.rna == orgs.compact(form["org_rna"])
        errors["org_siren" if same_siren else "org_rna" if same_rna else "org_name"] = "exists"
        form["organisation_id"] = twin.id
    role = form.get("role", "user")
    now = utcnow()
    if not errors and signed_in_account_id is not None and role == "administrator":
        try:  # checked before anything is written: the whole registration is refused, with the date
            orgs.check_letter_allowed(store, signed_in_account_id, organisation.id if organisation else None, now)
        except orgs.LetterTooSoon as too_soon:
            return Result(State.FORM, {"organisation_id": f"letter_too_soon_{too_soon.reason}"}, role=role,
                          retry_on=too_soon.next_allowed)
    if errors:
        return Result(State.FORM, errors, rules, role=role)
    existing = None
    if signed_in_account_id is None:
        existing = store.account_by_email(form["email"])
        if existing is not None and not awaits_activation(existing):
            if on_existing_email is not None:
                on_existing_email(store, existing)
            return Result(State.AWAITING_ACTIVATION, role=role, new_account=True,
                          organisation_name=organisation.name if organisation else form.get("org_name", ""))
        if existing is not None:  # registered before, the address never proven: a new link, same answer
            account = existing
            orgs.give_names(store, account, form["given_name"], form["family_name"])
            if on_registered_again is not None:
                on_registered_again(store, account)
        else:
            account = orgs.new_person_account(store, form["given_name"], form["family_name"], form["email"],
                                              None, locale)
            if on_new_account is not None:
                on_new_account(store, account)
    else:
        account = signed_in_account
        if needs_names:
            orgs.give_names(store, account, form["given_name"], form["family_name"])
    if organisation is None:
        organisation = orgs.create_organisation(store, form)
    _membership, letter = orgs.join_organisation(store, account, organisation, role, now, code_entry_url)
    if signed_in_account_id is None and account.status != "active":
        state = State.AWAITING_ACTIVATION
    elif role == "administrator":
        state = State.AWAITING_LEGAL_REPRESENTATIVE
    else:
        state = State.AWAITING_ADMINISTRATOR
    return Result(state, role=role, organisation_name=organisation.name,
                  username=None if existing is not None else account.username,  # whose it is stays unsaid
                  new_account=signed_in_account_id is None, letter_sent=letter is not None)
