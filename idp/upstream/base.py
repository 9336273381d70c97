"""The upstream identity-provider plug-in contract (SATOSA ``backends/base.py`` shape).

An upstream provider is anything that can authenticate a person for the IdP and give back a
:class:`~idp.upstream.pivot.PivotIdentity`. Each plug-in implements three things:

- ``start_auth(transaction)`` → the URL the browser is sent to (the upstream authorization request);
- ``handle_callback(params, transaction)`` → an :class:`UpstreamResult` (or raises :class:`UpstreamError`);
- ``end_session_url(id_token_hint, post_logout_redirect_uri, state)`` → where to send the browser
  to end the upstream session (or ``None`` when the provider has no such endpoint);

plus ``describe()`` (display name, logo, eIDAS levels) for the provider-choice page. The
transaction (state, nonce, PKCE verifier, redirect URI, requested acr) is made by
:func:`new_transaction` and kept by the federation flow, never by the plug-in.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from idp.upstream.pivot import PivotIdentity

# eIDAS levels of assurance, in increasing order (FranceConnect's acr values).
EIDAS_LEVELS = ("eidas1", "eidas2", "eidas3")


def eidas_rank(acr: str | None) -> int:
    """0 for an unknown acr, 1..3 for eidas1..eidas3."""
    return EIDAS_LEVELS.index(acr) + 1 if acr in EIDAS_LEVELS else 0


def satisfies(achieved: str | None, required: str | None) -> bool:
    """An achieved level satisfies a required one when it is at least as high."""
    if not required:
        return True
    return eidas_rank(achieved) >= eidas_rank(required) > 0


class UpstreamError(Exception):
    """The upstream sign-in failed. ``code`` is stable (tests, audit); the page shows ``message_key``.

    Codes: ``access_denied`` (the person cancelled), ``upstream_error`` (the provider answered
    with an error), ``unavailable`` (cannot reach it), ``invalid_response`` (state, code or token
    exchange wrong), ``invalid_id_token`` (signature, alg, iss, aud, exp, nonce), ``acr_too_low``,
    ``invalid_identity`` (the pivot identity is incomplete).
    """

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class ProviderDescription:
    key: str
    display_name: str
    logo: str | None  # path under the IdP's static folder, e.g. "federation/impots.svg"
    acr_levels: tuple[str, ...]  # eIDAS levels this provider can give
    sandbox: bool = False
    help_url: str | None = None  # where a person recovers forgotten credentials
    pivot: bool = False  # trusted to assert the FranceConnect pivot identity

    @property
    def max_acr(self) -> str | None:
        return max(self.acr_levels, key=eidas_rank) if self.acr_levels else None

    def can_give(self, required: str | None, require_pivot: bool = False) -> bool:
        return satisfies(self.max_acr, required) and (self.pivot or not require_pivot)


@dataclass
class Transaction:
    """What the IdP remembers between sending the browser upstream and its return."""

    provider: str
    redirect_uri: str
    state: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    code_verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    acr: str | None = None  # the eIDAS level to ask for and to check

    @property
    def code_challenge(self) -> str:
        digest = hashlib.sha256(self.code_verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def to_dict(self) -> dict[str, Any]:
        return dict(provider=self.provider, redirect_uri=self.redirect_uri, state=self.state, nonce=self.nonce,
                    code_verifier=self.code_verifier, acr=self.acr)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transaction:
        return cls(**{k: data.get(k) for k in ("provider", "redirect_uri", "state", "nonce", "code_verifier", "acr")})


def new_transaction(provider: str, redirect_uri: str, acr: str | None) -> Transaction:
    return Transaction(provider=provider, redirect_uri=redirect_uri, acr=acr)


@dataclass(frozen=True)
class UpstreamResult:
    """A successful upstream sign-in: who (provider + subject), the pivot identity, how (acr/amr)."""

    provider: str
    subject: str
    identity: PivotIdentity
    acr: str | None
    amr: tuple[str, ...] = ()
    id_token: str | None = None  # kept to end the upstream session (id_token_hint)
    end_session_endpoint: str | None = None
    sid: str | None = None  # the upstream session (ID token ``sid``), named by its back-channel logout


class Upstream(ABC):
    """One upstream identity provider."""

    key: str

    @abstractmethod
    def describe(self) -> ProviderDescription: ...

    @abstractmethod
    def start_auth(self, transaction: Transaction) -> str: ...

    @abstractmethod
    def handle_callback(self, params: dict[str, str], transaction: Transaction) -> UpstreamResult: ...

    def end_session_url(self, id_token_hint: str | None, post_logout_redirect_uri: str | None,
                        state: str | None = None) -> str | None:
        return None
