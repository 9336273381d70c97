"""Passkeys (W3C WebAuthn Level 3, py_webauthn): registration, the second factor after a password,
passwordless sign-in, removal.

The ceremony checks, in the order they happen:

- every challenge is random, bound to one purpose and one account (or to one sign-in for a
  passwordless one), kept in Redis a few minutes and *consumed* on first use: a replayed response
  meets no challenge;
- the response must name our origin (the issuer's) and our RP id (the issuer's host), both taken
  from the configuration, never from the request: a phishing site relaying the ceremony signs
  its own origin, which is refused;
- an assertion's credential must be a passkey *of the account concerned* (second factor), or the
  account its user handle names (passwordless);
- the signature counter must move forward; a counter that stays or goes back is a cloned
  authenticator, refused and recorded;
- user verification (PIN, biometrics): required to sign in without a password (the passkey is
  then the only thing presented), ``[passkeys] user_verification`` for the second factor.

Registering or removing a passkey needs a complete session (``mfa.may_change_factor``), and the
account's first one also the code sent to its address (``mailbox_proof``): a stolen password alone
never adds the thief's authenticator to the account. Removing one ends every other session of the
account and their tokens: the passkey of a lost phone goes, and so does the finder's session.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from idp.services import audit, factor_notices, lifecycle, mailbox_proof, mfa
from idp.storage.sql.models import Account
from idp.storage.sql.passkeys import Passkey
from shared.appkit import get_db, get_redis, get_settings
from shared.timeutil import utcnow

CHALLENGE_TTL = 300
NAME_MAX = 64
MAX_PASSKEYS = 20
RESPONSE_MAX = 64_000  # a WebAuthn response is a few kilobytes; anything larger is not one


class PasskeyRefused(Exception):
    """``code``: expired (no such challenge: replayed or too late), invalid (the response does not
    verify: wrong origin, RP id, signature), unknown (not a passkey of this account), cloned (the
    counter did not move forward), name (missing or too long), too_many."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str
    name: str


def relying_party() -> RelyingParty:
    """Our RP id and origin, from the issuer (``[passkeys] rp_id`` / ``origin`` to override)."""
    settings = get_settings()
    section = settings.section("passkeys")
    issuer = urlsplit(settings.issuer)
    return RelyingParty(id=section.get("rp_id") or issuer.hostname or "localhost",
                        origin=section.get("origin") or f"{issuer.scheme}://{issuer.netloc}",
                        name=section.get("rp_name") or settings.section("branding").get("account", "Civic ID"))


def _second_factor_verification() -> UserVerificationRequirement:
    value = get_settings().section("passkeys").get("user_verification", "preferred")
    return UserVerificationRequirement(value)


# -- challenges: one purpose, one owner, one use ---------------------------------------------------

def _challenge_key(purpose: str, owner: str) -> str:
    return f"idp:passkey-challenge:{purpose}:{owner}"


def _remember_challenge(purpose: str, owner: str, challenge: bytes) -> None:
    get_redis().set(_challenge_key(purpose, owner), bytes_to_base64url(challenge), ex=CHALLENGE_TTL)


def _consume_challenge(purpose: str, owner: str) -> bytes:
    value = get_redis().getdel(_challenge_key(purpose, owner))
    if not value:
        raise PasskeyRefused("expired")
    return base64url_to_bytes(value if isinstance(value, str) else value.decode())


def _parse(response: str) -> dict:
    if not isinstance(response, str) or len(response) > RESPONSE_MAX:
        raise PasskeyRefused("invalid")
    try:
        data = json.loads(response)
    except ValueError as error:
        raise PasskeyRefused("invalid") from error
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise PasskeyRefused("invalid")
    return data


# -- what an account holds ---------------------------------------------------------------------------

def list_for(account_id: str) -> list[Passkey]:
    with get_db().session() as session:
        rows = session.scalars(select(Passkey).where(Passkey.account_id == account_id)
                               .order_by(Passkey.created_at)).all()
        session.expunge_all()
        return list(rows)


def count_for(account_id: str) -> int:
    with get_db().session() as session:
        return session.scalar(select(func.count()).select_from(Passkey).where(Passkey.account_id == account_id))


def amr_of(passkey: Passkey) -> str:
    """RFC 8176: ``swk`` a synced passkey (software-held key), ``hwk`` one bound to its device."""
    return "swk" if passkey.backup_eligible else "hwk"


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value for t in AuthenticatorTransport}
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id),
                                          transports=[AuthenticatorTransport(t) for t in p.transports if t in known])
            for p in passkeys]


# -- registration -------------------------------------------------------------------------------------

def registration_options(account: Account, session_amr: list[str], sid: str | None = None) -> str:
    """The options for navigator.credentials.create(), as JSON. A discoverable credential (a
    passkey proper), so that it can also sign in without the identifier."""
    if not mfa.may_change_factor(account.id, session_amr):
        raise mfa.CurrentFactorRequired()
    mailbox_proof.demand(sid, account.id, session_amr)
    rp = relying_party()
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_id=account.id.encode(), user_name=account.email,
        user_display_name=" ".join(filter(None, [account.given_name, account.family_name])) or account.email,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=_descriptors(list_for(account.id)))  # one authenticator, one passkey
    _remember_challenge("register", _ceremony_owner(account.id, sid), options.challenge)
    return options_to_json(options)


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise PasskeyRefused("name_missing")
    if len(name) > NAME_MAX or not name.isprintable():
        raise PasskeyRefused("name")
    return name


def register(account_id: str, response: str, name: str, session_amr: list[str],
             keep_sid: str | None = None) -> tuple[Passkey, list[str] | None]:
    """Verify the authenticator's answer to our challenge and keep its public key under ``name``.
    The account's first factor ends every other session and its tokens (``keep_sid`` excepted):
    they were opened by a password alone, which no longer suffices; it also brings recovery codes
    (returned, shown once), unless the account already has some."""
    if not mfa.may_change_factor(account_id, session_amr):
        raise mfa.CurrentFactorRequired()
    mailbox_proof.demand(keep_sid, account_id, session_amr)
    first_factor = not mfa.has_second_factor(account_id)
    name = clean_name(name)
    if count_for(account_id) >= MAX_PASSKEYS:
        raise PasskeyRefused("too_many")
    data = _parse(response)
    challenge = _consume_challenge("register", _ceremony_owner(account_id, keep_sid))
    rp = relying_party()
    try:
        verified = verify_registration_response(credential=data, expected_challenge=challenge,
                                                expected_rp_id=rp.id, expected_origin=rp.origin)
    except InvalidRegistrationResponse as error:
        audit.record("passkey_refused", account_id, stage="register", reason=str(error)[:200])
        raise PasskeyRefused("invalid") from error
    transports = data.get("response", {}).get("transports") or []
    passkey = Passkey(account_id=account_id, credential_id=bytes_to_base64url(verified.credential_id),
                      public_key=verified.credential_public_key, sign_count=verified.sign_count, name=name,
                      transports=[t for t in transports if isinstance(t, str)][:8], aaguid=verified.aaguid,
                      backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE)
    with get_db().session() as session:
        if session.scalar(select(Passkey.id).where(Passkey.credential_id == passkey.credential_id)):
            raise PasskeyRefused("invalid")  # already registered (here or to another account)
        session.add(passkey)
        session.flush()
        session.expunge(passkey)
    codes = None
    if first_factor:
        mailbox_proof.spend(keep_sid)
        lifecycle.revoke_everything(account_id, keep_sid=keep_sid)
        if not mfa.remaining_recovery_codes(account_id):
            codes = mfa.regenerate_recovery_codes(account_id)
    audit.record("passkey_added", account_id, name=name)
    factor_notices.send(account_id, "passkey_added", name=name)
    return passkey, codes


# -- authentication -----------------------------------------------------------------------------------

def _ceremony_owner(account_id: str, sid: str | None) -> str:
    """A challenge belongs to one account *in one browser's session*: a second sign-in (a thief's
    holding the password) neither voids the owner's pending ceremony nor answers it (outside review)."""
    return f"{account_id}:{sid or '-'}"


def second_factor_options(account_id: str, sid: str | None) -> str:
    """navigator.credentials.get() options listing this account's passkeys only."""
    rp = relying_party()
    options = generate_authentication_options(rp_id=rp.id, allow_credentials=_descriptors(list_for(account_id)),
                                              user_verification=_second_factor_verification())
    _remember_challenge("second_factor", _ceremony_owner(account_id, sid), options.challenge)
    return options_to_json(options)


def passwordless_options(uid: str) -> str:
    """Options for a sign-in that names no account yet (the browser offers its passkeys for our
    RP id): bound to this sign-in (interaction ``uid``), user verification required."""
    options = generate_authentication_options(rp_id=relying_party().id,
                                              user_verification=UserVerificationRequirement.REQUIRED)
    _remember_challenge("passwordless", uid, options.challenge)
    return options_to_json(options)


def verify_second_factor(account_id: str, response: str, sid: str | None) -> Passkey:
    """The assertion after the password: one of *this* account's passkeys signed the challenge
    given to this session."""
    data = _parse(response)
    challenge = _consume_challenge("second_factor", _ceremony_owner(account_id, sid))
    return _verify(data, challenge, account_id, require_uv=_second_factor_verification()
                   == UserVerificationRequirement.REQUIRED)


def verify_passwordless(uid: str, response: str) -> Passkey:
    """The assertion of a sign-in without identifier: the passkey's owner is the account signing in."""
    data = _parse(response)
    challenge = _consume_challenge("passwordless", uid)
    return _verify(data, challenge, None, require_uv=True)


def _verify(data: dict, challenge: bytes, account_id: str | None, require_uv: bool) -> Passkey:
    credential_id = data["id"]
    with get_db().session() as session:
        passkey = session.scalar(select(Passkey).where(Passkey.credential_id == credential_id))
        if passkey is None or (account_id is not None and passkey.account_id != account_id):
            audit.record("passkey_refused", account_id, stage="sign_in", reason="not a passkey of this account")
            raise PasskeyRefused("unknown")
        handle = (data.get("response") or {}).get("userHandle")
        if handle and not secrets.compare_digest(_user_handle_of(handle), passkey.account_id.encode()):
            raise PasskeyRefused("unknown")  # the authenticator says it belongs to someone else
        rp = relying_party()
        try:
            verified = verify_authentication_response(
                credential=data, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin,
                credential_public_key=passkey.public_key, credential_current_sign_count=passkey.sign_count,
                require_user_verification=require_uv)
        except InvalidAuthenticationResponse as error:
            cloned = "sign count" in str(error).lower()
            audit.record("passkey_cloned" if cloned else "passkey_refused", passkey.account_id,
                         stage="sign_in", name=passkey.name, reason=str(error)[:200])
            raise PasskeyRefused("cloned" if cloned else "invalid") from error
        passkey.sign_count = verified.new_sign_count
        passkey.last_used_at = utcnow()
        session.flush()
        session.expunge(passkey)
    return passkey


def _user_handle_of(handle: str) -> bytes:
    try:
        return base64url_to_bytes(handle)
    except ValueError as error:
        raise PasskeyRefused("invalid") from error


# -- renaming and removal --------------------------------------------------------------------------------

def own_passkey(account_id: str, passkey_id: str) -> Passkey | None:
    """One of *this account's* passkeys by its id, else None: an id is no secret (it is in the
    page's links), so another account's passkey is as absent as one that does not exist."""
    with get_db().session() as session:
        passkey = session.get(Passkey, passkey_id)
        if passkey is None or passkey.account_id != account_id:
            return None
        session.expunge(passkey)
        return passkey


def rename(account_id: str, passkey_id: str, name: str) -> str:
    """Give one of the account's passkeys a new name, under the rules of registration; returns it."""
    name = clean_name(name)
    with get_db().session() as session:
        passkey = session.get(Passkey, passkey_id)
        if passkey is None or passkey.account_id != account_id:
            raise PasskeyRefused("unknown")
        previous, passkey.name = passkey.name, name
    if previous != name:
        audit.record("passkey_renamed", account_id, name=name, previous=previous)
    return name


def remove(account_id: str, passkey_id: str, session_amr: list[str], keep_sid: str | None = None) -> str:
    """Remove one of the account's passkeys; returns its name. Every other session of the account
    ends and its tokens are revoked (``keep_sid``, the session removing it, excepted): the passkey
    of a lost or stolen phone may be what opened one of them."""
    if not mfa.may_change_factor(account_id, session_amr):
        raise mfa.CurrentFactorRequired()
    with get_db().session() as session:
        passkey = session.get(Passkey, passkey_id)
        if passkey is None or passkey.account_id != account_id:
            raise PasskeyRefused("unknown")
        name = passkey.name
        session.delete(passkey)
        mfa.withdraw_operator_without_factor(session, account_id)
    mfa.forget_recovery_codes_without_factor(account_id)
    lifecycle.revoke_everything(account_id, keep_sid=keep_sid)
    audit.record("passkey_removed", account_id, name=name)
    factor_notices.send(account_id, "passkey_removed", name=name)
    return name
