"""Who may do what in an organisation, and which e-services a member may use (seed 002).

- The catalogue comes from ``config/eservices.toml``.
- An administrator is an *active* membership with role ``administrator`` on an *active*
  account; he manages permissions but has none by default (he grants himself like anyone).
- A member may use an e-service when: the account is active, the membership is active, the
  organisation is not suspended (by an operator), is subscribed to the e-service, and the
  membership holds a grant for it. A suspended organisation has no active membership at all:
  nobody acts for it, administers it, nor uses its e-services until it is unsuspended.
  Checked live on every call: a revocation takes effect at the portal's next request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from idp.storage.sql.organisations import Membership, OrganisationStore
from shared.config import load_toml

ROLES = ("user", "administrator")
KINDS = ("commune", "association", "intercommunalite", "autre")


class NotAllowed(Exception):
    """The acting account may not do this in this organisation (pages answer 403/404)."""


class NotFound(Exception):
    """No such record in this organisation (never reveals records of another organisation)."""


@dataclass(frozen=True)
class EService:
    id: str
    name_fr: str
    name_en: str
    description_fr: str = ""
    description_en: str = ""
    kinds: tuple[str, ...] = field(default_factory=lambda: KINDS)

    def name(self, locale: str = "fr") -> str:
        return self.name_en if locale == "en" else self.name_fr

    def description(self, locale: str = "fr") -> str:
        return self.description_en if locale == "en" else self.description_fr


def load_catalogue() -> dict[str, EService]:
    catalogue: dict[str, EService] = {}
    for eservice_id, entry in load_toml("eservices.toml").items():
        catalogue[eservice_id] = EService(
            id=eservice_id, name_fr=entry.get("name_fr", eservice_id), name_en=entry.get("name_en", eservice_id),
            description_fr=entry.get("description_fr", ""), description_en=entry.get("description_en", ""),
            kinds=tuple(entry.get("kinds", KINDS)),
        )
    return catalogue


def active_membership(store: OrganisationStore, account_id: str, organisation_id: str) -> Membership | None:
    account = store.account(account_id)
    if account is None or account.status != "active":
        return None
    membership = store.membership_of(account_id, organisation_id)
    if membership is None or membership.status != "active":
        return None
    organisation = store.organisation(organisation_id)
    if organisation is None or organisation.suspended_at is not None:
        return None
    return membership


def is_administrator(store: OrganisationStore, account_id: str, organisation_id: str) -> bool:
    membership = active_membership(store, account_id, organisation_id)
    return membership is not None and membership.role == "administrator"


def require_administrator(store: OrganisationStore, account_id: str, organisation_id: str) -> Membership:
    membership = active_membership(store, account_id, organisation_id)
    if membership is None or membership.role != "administrator":
        raise NotAllowed("not an active administrator of this organisation")
    return membership


def granted_eservices(store: OrganisationStore, account_id: str, organisation_id: str) -> list[str]:
    """The e-services this account may use in this organisation, right now."""
    membership = active_membership(store, account_id, organisation_id)
    if membership is None:
        return []
    subscribed = {s.eservice_id for s in store.subscriptions(organisation_id)}
    catalogue = load_catalogue()
    return [g.eservice_id for g in store.grants_of_membership(membership.id)
            if g.eservice_id in subscribed and g.eservice_id in catalogue]


def may_use(store: OrganisationStore, account_id: str, organisation_id: str, eservice_id: str) -> bool:
    return eservice_id in granted_eservices(store, account_id, organisation_id)


def active_organisations(store: OrganisationStore, account_id: str) -> list[dict]:
    """The organisations this account may act for (active memberships), for the choice and switch."""
    account = store.account(account_id)
    if account is None or account.status != "active":
        return []
    return [{"id": org.id, "name": org.name, "role": m.role}
            for m, org in store.memberships_of_account(account_id) if m.status == "active" and org.suspended_at is None]


def acting_organisation(store: OrganisationStore, account_id: str, chosen: str | None) -> str | None:
    """The organisation a session acts for, read again at every use: the one the session chose
    while it is still an active membership, else the only active one, else none (several and no
    choice: the person chooses). A new validation, an invalidation or a switch shows at once."""
    choices = [c["id"] for c in active_organisations(store, account_id)]
    if chosen in choices:
        return chosen
    return choices[0] if len(choices) == 1 else None


def organisation_context(store: OrganisationStore, account_id: str, organisation_id: str | None) -> dict:
    """What portals receive for scope ``organisation``: org, org_role, eservices (empty when none)."""
    if not organisation_id:
        return {}
    membership = active_membership(store, account_id, organisation_id)
    if membership is None:
        return {}
    organisation = store.organisation(organisation_id)
    return {
        "org": {"id": organisation.id, "name": organisation.name},
        "org_role": membership.role,
        "eservices": granted_eservices(store, account_id, organisation_id),
    }
