"""The federation flow: sign in through an upstream identity provider (seed 001, FranceConnect-style).

::

    /interaction/<uid>/providers ── start(provider) ──► AWAITING_UPSTREAM ── submit(callback) ──► COMPLETED
                                                              │                                  │
                                                              └──── upstream error, bad token ──► FAILED
                                                                     wrong acr, expired

    stateDiagram-v2
        [*] --> AWAITING_UPSTREAM: start()
        AWAITING_UPSTREAM --> COMPLETED: submit() ok → complete_authentication()
        AWAITING_UPSTREAM --> FAILED: submit() refused
        COMPLETED --> [*]
        FAILED --> [*]

The flow lives in Redis under ``flow:federation:<state>`` (the OAuth ``state`` sent upstream is its
id) for :data:`FLOW_TTL` seconds and is consumed on return (GETDEL: a replayed callback finds
nothing). It binds the upstream round trip to one authorization Interaction (``uid``) of the
core; on success it hands the account to ``idp.flows.login.complete_authentication`` with the
``acr`` achieved upstream and ``amr = ["fed", ...upstream amr]``.

The eIDAS level required is the lowest eIDAS level in the client's ``acr_values`` or, failing
that, the client's policy ``default_acr``: providers that cannot give it are not offered, and the
upstream ID token's ``acr`` is checked against it.

The pivot policy: a client whose policy says ``require_pivot`` (the justice space) is offered only
providers trusted for the FranceConnect pivot identity (``identity = "pivot"``), and its sessions
must have come through one (:func:`pivot_session`); other clients (eComms, e-services) accept
any provider's standard claims.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from redis import Redis

from idp.flows import upstream_logout
from idp.services.identities import AccountUnavailable, IdentityConflict, Linked, link_identity
from idp.storage.sql.federation import IdentityStore
from idp.upstream.base import (
    EIDAS_LEVELS,
    ProviderDescription,
    Transaction,
    Upstream,
    UpstreamError,
    UpstreamResult,
    eidas_rank,
    new_transaction,
)
from shared.metrics import UPSTREAM_ERRORS
from shared.storage import Database

log = logging.getLogger(__name__)
FLOW_TTL = 900
LOGOUT_TTL = 900
FLOW_PREFIX = "flow:federation:"
LOGOUT_PREFIX = "flow:federation-logout:"
SESSION_KEY = upstream_logout.SESSION_KEY  # key of the upstream data in the IdP session's context data


class State(str, Enum):
    AWAITING_UPSTREAM = "awaiting_upstream"
    COMPLETED = "completed"
    FAILED = "failed"


TRANSITIONS: dict[State, set[State]] = {
    State.AWAITING_UPSTREAM: {State.COMPLETED, State.FAILED},
    State.COMPLETED: set(),
    State.FAILED: set(),
}


class FederationFailed(Exception):
    """The federated sign-in cannot complete. ``code`` picks the message; ``uid`` allows a retry."""

    def __init__(self, code: str, provider: str | None = None, uid: str | None = None,
                 required_acr: str | None = None, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.provider, self.uid, self.required_acr, self.detail = code, provider, uid, required_acr, detail


@dataclass
class Flow:
    id: str  # = the OAuth state sent upstream
    uid: str  # the core's authorization Interaction
    provider: str
    required_acr: str | None
    transaction: dict[str, Any]
    state: State = State.AWAITING_UPSTREAM
    data: dict[str, Any] = field(default_factory=dict)
    browser: str = ""  # digest of the starting browser's binding secret (idp.services.browser)

    def transition(self, to: State) -> None:
        if to not in TRANSITIONS[self.state]:
            raise ValueError(f"federation flow: {self.state} → {to} is not allowed")
        self.state = to


@dataclass(frozen=True)
class Completed:
    uid: str
    account_id: str
    acr: str | None
    amr: list[str]
    linked: Linked
    upstream_session: dict[str, Any]  # what logout needs: provider, id_token, end_session_endpoint
    result: UpstreamResult


def required_acr(acr_values: str | list[str] | None, default_acr: str | None) -> str | None:
    """The lowest eIDAS level the client asked for (acr_values), else its policy default."""
    values = acr_values.split() if isinstance(acr_values, str) else list(acr_values or [])
    levels = [v for v in values if v in EIDAS_LEVELS]
    if levels:
        return min(levels, key=eidas_rank)
    return default_acr if default_acr in EIDAS_LEVELS else None


def offered_providers(upstreams: dict[str, Upstream], acr: str | None,
                      require_pivot: bool = False) -> list[ProviderDescription]:
    """The providers that can give the required level (and the pivot identity when the client
    requires it), in configuration order."""
    return [d for d in (u.describe() for u in upstreams.values()) if d.can_give(acr, require_pivot)]


def start(redis: Redis, upstream: Upstream, uid: str, acr: str | None, redirect_uri: str,
          browser_binding: str, require_pivot: bool = False) -> str:
    """Remember the round trip, bound to the browser that makes it (``browser_binding``: the digest
    of ``idp.services.browser``), and return the upstream authorization URL."""
    if not upstream.describe().can_give(acr, require_pivot):
        raise FederationFailed("provider_not_offered", upstream.key, uid, acr)
    transaction = new_transaction(upstream.key, redirect_uri, acr)
    try:
        url = upstream.start_auth(transaction)
    except UpstreamError as error:
        UPSTREAM_ERRORS.labels(upstream.key, error.code).inc()
        raise FederationFailed(error.code, upstream.key, uid, acr, error.detail) from error
    flow = Flow(id=transaction.state, uid=uid, provider=upstream.key, required_acr=acr,
                transaction=transaction.to_dict(), browser=browser_binding, data={"require_pivot": require_pivot})
    redis.set(FLOW_PREFIX + flow.id, json.dumps(_dump(flow)), ex=FLOW_TTL)
    return url


def _dump(flow: Flow) -> dict[str, Any]:
    return {"id": flow.id, "uid": flow.uid, "provider": flow.provider, "required_acr": flow.required_acr,
            "transaction": flow.transaction, "state": flow.state.value, "data": flow.data,
            "browser": flow.browser}


def _load(raw: str) -> Flow:
    data = json.loads(raw)
    return Flow(id=data["id"], uid=data["uid"], provider=data["provider"], required_acr=data["required_acr"],
                transaction=data["transaction"], state=State(data["state"]), data=data.get("data", {}),
                browser=data.get("browser", ""))


def _started_by(flow: Flow, browser_binding: str) -> bool:
    return bool(flow.browser) and hmac.compare_digest(flow.browser, browser_binding)


def submit(redis: Redis, db: Database, upstreams: dict[str, Upstream], params: dict[str, str],
           browser_binding: str) -> Completed:
    """Handle the upstream's return: validate everything, then link the identity to an account.
    Only in the browser that went upstream: the ``state`` alone proves nothing."""
    state = params.get("state") or ""
    key = FLOW_PREFIX + state
    raw = redis.get(key) if state and len(state) <= 128 else None
    if raw is None or not _started_by(_load(raw), browser_binding):
        # unknown, or a callback URL opened in another browser than the one that went upstream
        # (login CSRF, RFC 9700 §4.7): nothing is exchanged nor spent, nobody is signed in
        raise FederationFailed("expired")
    raw = redis.getdel(key)  # single use, in the browser it belongs to
    if raw is None:
        raise FederationFailed("expired")
    flow = _load(raw)
    upstream = upstreams.get(flow.provider)
    if upstream is None:
        flow.transition(State.FAILED)
        raise FederationFailed("provider_not_offered", flow.provider, flow.uid, flow.required_acr)
    try:
        result = upstream.handle_callback(params, Transaction.from_dict(flow.transaction))
    except UpstreamError as error:
        flow.transition(State.FAILED)
        UPSTREAM_ERRORS.labels(flow.provider, error.code).inc()
        log.warning("federation refused: provider=%s code=%s detail=%s", flow.provider, error.code, error.detail)
        raise FederationFailed(error.code, flow.provider, flow.uid, flow.required_acr, error.detail) from error
    if flow.data.get("require_pivot") and not result.identity.pivot:
        flow.transition(State.FAILED)
        raise FederationFailed("invalid_identity", flow.provider, flow.uid, flow.required_acr, "not a pivot identity")
    try:
        with db.session() as session:
            linked = link_identity(IdentityStore(session), result)
    except IdentityConflict as error:
        flow.transition(State.FAILED)
        raise FederationFailed("identity_conflict", flow.provider, flow.uid, flow.required_acr) from error
    except AccountUnavailable as error:
        flow.transition(State.FAILED)
        raise FederationFailed("account_unavailable", flow.provider, flow.uid, flow.required_acr) from error
    flow.transition(State.COMPLETED)
    amr = ["fed", *[a for a in result.amr if a != "fed"]]
    upstream_session = {"provider": result.provider, "id_token": result.id_token,
                        "end_session_endpoint": result.end_session_endpoint, "sub": result.subject,
                        "sid": result.sid, "pivot": result.identity.pivot}
    return Completed(uid=flow.uid, account_id=linked.account_id, acr=result.acr, amr=amr, linked=linked,
                     upstream_session=upstream_session, result=result)


def pivot_session(session) -> bool:
    """The IdP session came through a provider trusted for the pivot identity (``require_pivot``)."""
    info = (getattr(session, "context", None) or {}).get(SESSION_KEY)
    return isinstance(info, dict) and info.get("pivot") is True


# -- logout ---------------------------------------------------------------------------------------


def begin_upstream_logout(redis: Redis, upstreams: dict[str, Upstream], session_data: dict[str, Any] | None,
                          post_logout_redirect: str | None, return_uri: str) -> str | None:
    """The upstream end_session URL for an IdP session that came through federation, else ``None``.

    The browser comes back to ``return_uri`` (our ``/federation/logged-out``) with a one-time
    ``state`` that leads on to ``post_logout_redirect`` (the URL the core's logout would have used).
    """
    info = (session_data or {}).get(SESSION_KEY)
    if not isinstance(info, dict):
        return None
    upstream = upstreams.get(info.get("provider", ""))
    if upstream is None:
        return None
    import secrets

    state = secrets.token_urlsafe(24)
    url = upstream.end_session_url(info.get("id_token"), return_uri, state)
    if url is None:
        return None
    redis.set(LOGOUT_PREFIX + state, json.dumps({"next": post_logout_redirect}), ex=LOGOUT_TTL)
    return url


def finish_upstream_logout(redis: Redis, state: str | None) -> str | None:
    """Where to go once the upstream session has ended (``None``: show our own logged-out page)."""
    raw = redis.getdel(LOGOUT_PREFIX + state) if state else None
    if raw is None:
        return None
    return json.loads(raw).get("next")


# -- claims of federated accounts ---------------------------------------------------------------
# A federated account's profile, email and birth claims come from its pivot identity only.


# Claims other areas give for these scopes that a federated account must not pass on (its
# ``Account.email`` is a placeholder, its username none): withheld (null) when the account is federated.
WITHHELD = {"profile": {"preferred_username": None, "locale": None}, "email": {"email": None, "email_verified": None}}


def _pivot_claims_provider(scope: str):
    def provider(account, _client, _context) -> dict[str, Any]:
        from idp.services.identities import is_federated, pivot_claims
        from shared.appkit import get_db

        with get_db().session() as session:
            store = IdentityStore(session)
            if not is_federated(store, account.id):
                return {}
            return {**WITHHELD.get(scope, {}), **pivot_claims(store, account.id, [scope])}

    provider.__name__ = f"federated_{scope}_claims"
    return provider


def register_federation_claims() -> None:
    """Scope ``birth`` (birthdate, gender, birthplace, birthcountry); pivot values for profile/email."""
    from idp.oidc.claims import CLAIM_PROVIDERS, register_claims

    if any(getattr(p, "__name__", "") == "federated_birth_claims" for p in CLAIM_PROVIDERS.get("birth", [])):
        return
    register_claims("birth", _pivot_claims_provider("birth"), ["birthdate", "gender", "birthplace", "birthcountry"])
    register_claims("profile", _pivot_claims_provider("profile"), ["birthdate", "gender"])
    register_claims("email", _pivot_claims_provider("email"))


# -- the core's side of the interaction ----------------------------------------------------------
# The only places this flow touches the OIDC core: the Interaction (idp.oidc.interaction), the
# client's policy (idp.services.clients), the single exit of primary authentication
# (idp.flows.login.complete_authentication) and the audit trail.


@dataclass(frozen=True)
class InteractionView:
    uid: str
    client_id: str
    client_name: str
    acr_values: list[str]
    default_acr: str | None
    require_pivot: bool = False

    @property
    def required_acr(self) -> str | None:
        return required_acr(self.acr_values, self.default_acr)


def describe_interaction(uid: str) -> InteractionView | None:
    from idp.oidc import interaction as interactions
    from idp.services import clients

    interaction = interactions.load(uid) if uid else None
    if interaction is None:
        return None
    client = clients.get(interaction.client_id)
    if client is None:
        return None
    return InteractionView(uid=uid, client_id=client.client_id, client_name=client.name,
                           acr_values=list(interaction.requested_acr),
                           default_acr=(client.policy or {}).get("default_acr"),
                           require_pivot=bool((client.policy or {}).get("require_pivot")))


def complete_authentication(done: Completed):
    """Hand the account to the core (new IdP session carrying the upstream logout data); None if expired."""
    from idp.flows import login
    from idp.oidc import interaction as interactions
    from shared.appkit import get_redis, get_settings

    if interactions.load(done.uid) is None:
        return None
    lifetime = int(get_settings().section("lifetimes").get("session", 43200))
    upstream_logout.remember(get_redis(), done.result.provider, done.result.sid, done.account_id, lifetime)
    return login.complete_authentication(done.uid, done.account_id, done.amr, done.acr,
                                         {SESSION_KEY: done.upstream_session})


def record_event(kind: str, account_id: str | None, client_id: str | None = None, **detail: Any) -> None:
    from idp.services import audit

    audit.record(kind, account_id, client_id, **detail)
