"""Authlib grants for our provider: only storage hooks, each delegating to a store.

- Authorization codes live in Redis (``idp:code:<sha256>``, TTL = code lifetime) and are consumed
  atomically (SET … GET swaps the code for a "used" marker): a second presentation finds the
  marker instead, and the grant the first one produced is revoked (RFC 6749 §4.1.2, RFC 9700 §4.2.4).
- Refresh tokens live in SQL, hashed; each use rotates them within one family; presenting an
  already-rotated token revokes the whole family (RFC 9700 §4.14.2).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import grants as oidc_grants
from flask import g
from redis.exceptions import NoScriptError
from sqlalchemy import bindparam, exists, insert, select, update

from idp.oidc import claims as claims_module
from idp.oidc import tokens
from idp.services import accounts, audit
from idp.storage.sql.models import Account, RefreshToken
from shared.appkit import get_db, get_redis
from shared.timeutil import utcnow

# Every method a client may register (each client uses its own one, ``check_endpoint_auth_method``):
# "none" is a public client (PKCE is its proof); the JWT methods are RFC 7523 (``client_auth``)
TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "none"]
CONFIDENTIAL_AUTH_METHODS = [method for method in TOKEN_AUTH_METHODS if method != "none"]
USED_CODE_MEMORY = 3600  # how long a consumed code is remembered, to detect replays
USED_MARKER = "used:"  # what a consumed code's key holds, followed by the grant id it produced


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class AuthenticatedUser:
    """The resource owner as the grants see it: the account and how it authenticated."""

    account: Account
    sid: str | None
    auth_time: int | None
    amr: list[str]
    acr: str | None
    context: dict[str, Any] = field(default_factory=dict)
    gid: str | None = None  # the grant (code + refresh family) tokens are issued under

    def get_user_id(self) -> str:
        return self.account.id


@dataclass
class StoredCode:
    client_id: str
    account_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int | None
    acr: str | None
    amr: list[str]
    sid: str | None
    context: dict[str, Any]
    gid: str = ""
    dpop_jkt: str | None = None  # the key the code is bound to (RFC 9449 §10)
    issued_at: float = field(default_factory=time.time)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int | None:
        return self.auth_time

    def get_acr(self) -> str | None:
        return self.acr

    def get_amr(self) -> list[str]:
        return self.amr


def active_account(account_id: str) -> Account | None:
    account = accounts.get(account_id)
    return account if account and account.status == "active" else None


def revoke_family(family_id: str, reason: str) -> None:
    """Revoke a grant: its access tokens (Redis mark) first, then its refresh tokens. In that order,
    a refresh token the grant is issuing at this very moment is caught either here or by the
    issuer's own check after it stored it (``server.save_token``)."""
    tokens.revoke_grant(family_id)
    with get_db().session() as session:
        session.execute(update(RefreshToken).where(RefreshToken.family_id == family_id,
                                                   RefreshToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
    audit.record("grant_revoked", family_id=family_id, reason=reason)


NOT_SPENT = "not-spent"
OUTLIVED = "outlived"
# KEYS[1] the code's key; ARGV: client_id, the request's DPoP key ("" without one), the "used"
# marker to leave, how long to keep it, the prefixes of the revoked-session and withdrawn-service
# marks (tokens.REVOKED_SID_PREFIX, tokens.WITHDRAWN_PREFIX). Returns nothing (unknown code), the
# marker already there (a replay), NOT_SPENT (another client's code, or another key's), OUTLIVED (its
# session ended, or its service was withdrawn, since it was issued: spent all the same, so a later
# presentation is a replay), or the code, now spent. The marks' keys come from the code itself, so
# the script names them (one Redis, not a cluster: the code exchange stays one round trip).
CONSUME_CODE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
if string.sub(raw, 1, %d) == '%s' then return raw end
local stored = cjson.decode(raw)
if stored.client_id ~= ARGV[1] then return 'not-spent' end
local jkt = stored.dpop_jkt
if jkt and jkt ~= cjson.null and jkt ~= '' and jkt ~= ARGV[2] then return 'not-spent' end
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])
local sid = stored.sid
if sid and sid ~= cjson.null and sid ~= '' and redis.call('EXISTS', ARGV[5] .. sid) == 1 then return 'outlived' end
local withdrawn = redis.call('GET', ARGV[6] .. stored.account_id .. ':' .. stored.client_id)
if withdrawn and tonumber(withdrawn) >= (tonumber(stored.issued_at) or 0) then return 'outlived' end
return raw
""" % (len(USED_MARKER), USED_MARKER)

CONSUME_CODE_SHA = hashlib.sha1(CONSUME_CODE.encode(), usedforsecurity=False).hexdigest()


def consume_code(key: str, *args):
    """CONSUME_CODE by its digest (EVALSHA), loaded on first use on this Redis (or after a restart)."""
    redis = get_redis()
    try:
        return redis.evalsha(CONSUME_CODE_SHA, 1, key, *args)
    except NoScriptError:
        return redis.eval(CONSUME_CODE, 1, key, *args)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def save_authorization_code(self, code: str, request) -> None:
        user: AuthenticatedUser = request.user
        data = request.payload.data
        record = StoredCode(
            client_id=request.client.client_id, account_id=user.account.id,
            redirect_uri=request.payload.redirect_uri or request.client.get_default_redirect_uri(),
            scope=request.scope if request.scope is not None else request.payload.scope,
            nonce=data.get("nonce"), code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"), auth_time=user.auth_time,
            acr=user.acr, amr=user.amr, sid=user.sid, context=user.context, dpop_jkt=data.get("dpop_jkt"),
        )
        get_redis().set(f"idp:code:{digest(code)}", json.dumps(record.__dict__),
                        ex=tokens.lifetime("authorization_code", 60))

    def query_authorization_code(self, code: str, client) -> StoredCode | None:
        """Consume the code and leave the "used" marker in its place in one atomic step (CONSUME_CODE,
        one round trip): every later presentation, however close, finds the marker and revokes the
        grant. Another client's code, or a code bound to a DPoP key this request does not prove, is
        refused without being spent (its own client still can). A code whose session ended or whose
        service the person withdrew after it was issued is spent and refused (outside review: such a
        code still gave a refresh token)."""
        gid = secrets.token_urlsafe(16)
        raw = consume_code(f"idp:code:{digest(code)}", client.client_id, g.get("dpop_jkt") or "",
                           USED_MARKER + gid, USED_CODE_MEMORY, tokens.REVOKED_SID_PREFIX, tokens.WITHDRAWN_PREFIX)
        if not raw or raw in (NOT_SPENT, OUTLIVED):  # never issued, expired, not this request's to spend, outlived
            return None
        if raw.startswith(USED_MARKER):
            revoke_family(raw[len(USED_MARKER):], "authorization code replayed")
            return None
        record = StoredCode(**json.loads(raw))
        if record.client_id != client.client_id:
            return None
        record.gid = gid
        return record

    def delete_authorization_code(self, authorization_code: StoredCode) -> None:
        """Already consumed atomically in ``query_authorization_code``."""

    def authenticate_user(self, authorization_code: StoredCode) -> AuthenticatedUser | None:
        account = active_account(authorization_code.account_id)
        if account is None:
            return None
        return AuthenticatedUser(account, authorization_code.sid, authorization_code.auth_time,
                                 authorization_code.amr, authorization_code.acr, authorization_code.context,
                                 gid=authorization_code.gid)


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only: ``plain`` is refused (RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def get_authorization_code_challenge(self, authorization_code: StoredCode) -> str | None:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: StoredCode) -> str | None:
        return authorization_code.code_challenge_method


FIND_REFRESH = (select(RefreshToken, Account).join(Account, Account.id == RefreshToken.account_id)
                .where(RefreshToken.token_hash == bindparam("token_hash")))  # built once: every refresh runs it


def find_refresh_token(value: str) -> RefreshToken | None:
    """A live (not revoked, not used) refresh token by its value, for revocation."""
    with get_db().single() as session:
        found = session.execute(FIND_REFRESH, {"token_hash": digest(value)}).first()
    if found is None or found[0].revoked_at is not None or found[0].used_at is not None:
        return None
    return found[0]


def expired(row: RefreshToken) -> bool:
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=utcnow().tzinfo)
    return expires < utcnow()


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Rotation happens when ``server.save_token`` stores the successor (``rotate_refresh_token``): the
    presented token is marked used in the same transaction, so no answer carries a token whose
    predecessor still works."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str):
        with get_db().single() as session:
            found = session.execute(FIND_REFRESH, {"token_hash": digest(refresh_token)}).first()
        if found is None or found[0].revoked_at is not None:
            return None
        row, account = found
        if row.dpop_jkt and row.dpop_jkt != g.get("dpop_jkt"):
            return None  # bound to a DPoP key this request does not prove (RFC 9449 §5)
        if row.used_at is not None and not within_reuse_grace(row.used_at):
            revoke_family(row.family_id, "refresh token reused")  # rotated a while ago: a stolen copy
            return None
        if expired(row):
            return None
        return RefreshRecord(row, account)

    def authenticate_user(self, refresh_token: RefreshRecord) -> AuthenticatedUser | None:
        row, account = refresh_token.row, refresh_token.account
        if account.status != "active":
            return None
        if (self.request.client.policy or {}).get("require_mfa") and "mfa" not in (row.amr or []):
            # the client now requires a second factor this grant's sign-in never proved: sign in again
            raise InvalidGrantError("this client now requires a second factor: sign the person in again")
        return AuthenticatedUser(account, row.sid, row.auth_time, list(row.amr or []), row.acr,
                                 dict(row.claims or {}), gid=row.family_id)

    def revoke_old_credential(self, refresh_token: RefreshRecord) -> None:
        """Already marked used by ``rotate_refresh_token``, with its successor."""


# Built once, executed with parameters: these run on every code exchange and refresh, and a plain
# statement skips the ORM's unit of work and the per-call statement building.
_REFRESH_TABLE = RefreshToken.__table__  # Core statements: no ORM bulk-insert machinery around them
INSERT_REFRESH = insert(_REFRESH_TABLE)
ROTATE_REFRESH = (update(RefreshToken)
                  .where(RefreshToken.id == bindparam("presented"), RefreshToken.used_at.is_(None))
                  .values(used_at=bindparam("now")))


def reuse_grace() -> timedelta:
    return timedelta(seconds=tokens.lifetime("refresh_reuse_grace", 5))


def within_reuse_grace(used_at) -> bool:
    """Rotated moments ago: an honest client refreshing from several processes at once (no lock
    across them, as mod_auth_openidc), not a thief replaying an old token. Okta and Auth0 rotation
    have the same short window; past it, reuse revokes the family."""
    used = used_at if used_at.tzinfo else used_at.replace(tzinfo=utcnow().tzinfo)
    return utcnow() - used <= reuse_grace()


_SUCCESSOR_COLUMNS = [column for column in _REFRESH_TABLE.columns if column.name not in ("used_at", "revoked_at")]
_ROTATED = (update(_REFRESH_TABLE).where(_REFRESH_TABLE.c.id == bindparam("presented"), _REFRESH_TABLE.c.used_at.is_(None))
            .values(used_at=bindparam("now")).returning(_REFRESH_TABLE.c.id).cte("rotated"))
# PostgreSQL: the presented token marked used and its successor stored by one statement (a
# data-modifying CTE); no row comes back when another request rotated it first (nothing stored). The
# successor's values are ``new_<column>``: a parameter named as a column would be SET by the UPDATE.
ROTATE_AND_STORE = insert(_REFRESH_TABLE).from_select(
    [column.name for column in _SUCCESSOR_COLUMNS],
    select(*[bindparam(f"new_{column.name}", type_=column.type) for column in _SUCCESSOR_COLUMNS])
    .where(exists(select(_ROTATED.c.id)))).returning(_REFRESH_TABLE.c.id)
ROTATED_AT = select(RefreshToken.used_at).where(RefreshToken.id == bindparam("presented"),
                                                RefreshToken.revoked_at.is_(None))


def rotate_refresh_token(presented_id: str | None, successor: dict[str, Any] | None) -> bool:
    """Atomically: mark the presented refresh token used (if any) and store its successor (if any).
    When a concurrent request rotated it first, the successor is still stored within the reuse
    grace (same family); otherwise False, with nothing written."""
    database = get_db()
    if presented_id is None:  # a code exchange's first refresh token: one INSERT, atomic by itself
        if successor is not None:
            with database.single() as session:
                session.execute(INSERT_REFRESH, successor)
        return True
    if successor is not None and database.engine.dialect.name == "postgresql":
        # the usual refresh, as ONE statement (atomic by itself, one round trip instead of four)
        with database.single() as session:
            values = {f"new_{name}": value for name, value in successor.items()}
            if session.execute(ROTATE_AND_STORE, {**values, "presented": presented_id, "now": utcnow()}).first():
                return True
    with database.session() as session:
        if not session.execute(ROTATE_REFRESH, {"presented": presented_id, "now": utcnow()}).rowcount:
            used_at = session.execute(ROTATED_AT, {"presented": presented_id}).scalar()
            if used_at is None or not within_reuse_grace(used_at):
                return False
        if successor is not None:
            session.execute(INSERT_REFRESH, successor)
    return True


@dataclass
class RefreshRecord:
    row: RefreshToken
    account: Account

    def check_client(self, client) -> bool:
        return self.row.client_id == client.client_id

    def get_scope(self) -> str:
        return self.row.scope


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS


class OpenIDCode(oidc_grants.OpenIDCode):
    """Adds the ID token to the code grant's token response; prompts are handled at /authorize."""

    def __call__(self, grant) -> None:
        grant.register_hook("after_create_token_response", self.process_token)

    def exists_nonce(self, nonce, request) -> bool:
        return False

    def encode_id_token(self, token: dict, request) -> str:
        return build_id_token(token, request.client, request.user,
                              request.authorization_code.nonce if request.authorization_code else None)


class OpenIDRefresh(OpenIDCode):
    """A fresh ID token on refresh (same auth_time; no nonce, OIDC Core §12.2)."""

    def encode_id_token(self, token: dict, request) -> str:
        return build_id_token(token, request.client, request.user, None)


def build_id_token(token: dict, client, user: AuthenticatedUser, nonce: str | None) -> str:
    from authlib.oidc.core.util import create_half_hash

    claims = claims_module.claims_for(user.account, client, token.get("scope", ""), user.context)
    claims.update({"auth_time": user.auth_time, "amr": user.amr})
    if user.acr:
        claims["acr"] = user.acr
    if user.sid:
        claims["sid"] = user.sid
    at_hash = create_half_hash(token["access_token"], client.id_token_signed_response_alg or "RS256")
    if at_hash:
        claims["at_hash"] = at_hash.decode()
    return tokens.id_token(claims, client, nonce)


def refresh_expiry():
    return utcnow() + timedelta(seconds=tokens.lifetime("refresh_token", 2592000))
