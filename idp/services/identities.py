"""Federated identities → accounts: account linking by the pivot identity, never by email alone.

Rules (seed 001; issue 5 §3):
1. A known (provider, upstream ``sub``) is that account. Its pivot identity is refreshed from what
   the provider says now (e.g. a new email); if the provider now describes someone who already has
   another account, the sign-in is refused (:class:`IdentityConflict`) rather than merging two people.
2. Otherwise the pivot identity's linking key (normalised given names, family name, birth date,
   gender, birth place, birth country — no email) finds the account of the same person met
   through another provider; the new (provider, sub) is linked to it.
   Only for a pivot identity: a standard provider's identity (``identity.pivot`` False) is
   never looked up by key, so an upstream nobody vouches for cannot sign in as a FranceConnect
   person by sending her birth data; its account is reached by its (provider, ``sub``) alone.
3. Otherwise a new account is created: active, without a password, ``email_verified`` as the
   upstream said. Its ``Account.email`` is a never-deliverable placeholder so that an email
   address alone can never tie it to a password account (the real address lives in the pivot
   identity, which is where the ``email`` claim of a federated account comes from).

No Flask here: callers pass an :class:`~idp.storage.sql.federation.IdentityStore` (one transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idp.storage.sql.federation import Conflict, IdentityStore, PivotIdentityRecord
from idp.upstream.base import UpstreamResult
from idp.upstream.pivot import PivotIdentity

PIVOT_CLAIMS_BY_SCOPE = {
    "profile": ("given_name", "family_name", "birthdate", "gender"),
    "email": ("email", "email_verified"),
    "birth": ("birthdate", "gender", "birthplace", "birthcountry"),
}


class AccountUnavailable(Exception):
    """The linked account is deactivated: the sign-in cannot complete."""


class IdentityConflict(Exception):
    """The provider now describes a person who already has another account."""


@dataclass(frozen=True)
class Linked:
    account_id: str
    created: bool  # a new account was made
    new_link: bool  # this (provider, sub) was linked now


def pivot_fields(identity: PivotIdentity) -> dict[str, Any]:
    return dict(given_name=identity.given_name, family_name=identity.family_name, birthdate=identity.birthdate,
                gender=identity.gender, birthplace=identity.birthplace, birthcountry=identity.birthcountry,
                email=identity.email, email_verified=identity.email_verified)


def link_identity(store: IdentityStore, result: UpstreamResult) -> Linked:
    """The account of the person an upstream provider authenticated (created on first visit)."""
    for attempt in range(3):
        try:
            return _link(store, result)
        except Conflict:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _refresh(store: IdentityStore, record: PivotIdentityRecord, identity: PivotIdentity) -> None:
    key = identity.linking_key()
    if key is not None and record.linking_key != key:
        other = store.find_pivot_by_key(key)
        if other is not None and other.account_id != record.account_id:
            raise IdentityConflict(record.account_id)
    store.update_pivot(record, pivot_fields(identity), key)
    account = store.get_account(record.account_id)
    if account is not None:
        account.given_name, account.family_name = identity.given_name or None, identity.family_name or None
        account.email_verified = identity.email_verified


def _check_active(store: IdentityStore, account_id: str) -> None:
    account = store.get_account(account_id)
    if account is None or account.status != "active":
        raise AccountUnavailable(account_id)


def _link(store: IdentityStore, result: UpstreamResult) -> Linked:
    identity = result.identity
    link = store.find_link(result.provider, result.subject)
    if link is not None:
        _check_active(store, link.account_id)
        record = store.get_pivot(link.account_id)
        if record is not None:
            _refresh(store, record, identity)
        store.touch(link)
        return Linked(link.account_id, created=False, new_link=False)
    key = identity.linking_key()
    record = store.find_pivot_by_key(key) if key is not None else None
    if record is not None:
        _check_active(store, record.account_id)
        _refresh(store, record, identity)
        store.touch(store.add_link(result.provider, result.subject, record.account_id))
        return Linked(record.account_id, created=False, new_link=True)
    account = store.create_federated_account(pivot_fields(identity), key)
    store.touch(store.add_link(result.provider, result.subject, account.id))
    return Linked(account.id, created=True, new_link=True)


def pivot_claims(store: IdentityStore, account_id: str, scopes: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The claims of a federated account for the granted scopes, from its pivot identity only.

    Empty for an account that never came through federation. A field without a value (a standard
    provider's missing birth data, an identity without email) is omitted, never sent empty.
    """
    record = store.get_pivot(account_id)
    if record is None:
        return {}
    claims: dict[str, Any] = {}
    for scope in scopes:
        for name in PIVOT_CLAIMS_BY_SCOPE.get(scope, ()):
            value = getattr(record, name)
            if name in ("email", "email_verified") and not record.email:
                continue
            if value in ("", None):
                continue
            claims[name] = value
    return claims


def is_federated(store: IdentityStore, account_id: str) -> bool:
    return store.get_pivot(account_id) is not None


def has_pivot(store: IdentityStore, account_id: str) -> bool:
    """The account's identity is a pivot identity asserted by a provider trusted for it."""
    record = store.get_pivot(account_id)
    return record is not None and record.linking_key is not None
