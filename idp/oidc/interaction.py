"""The Interaction: the only bridge between the protocol (/authorize) and the UI (sign-in pages).

/authorize validates the request, stores an Interaction (its parameters) in Redis and sends the
browser to ``/interaction/<uid>``. Whatever authenticates the user (password, federation, then
post-login steps such as TOTP or the organisation choice) ends with ``resume_url(uid)``; no UI
page ever reads ``redirect_uri`` (node-oidc-provider's interaction model).

An Interaction belongs to the browser that started it (``idp.services.browser``): ``load`` finds
it only from that browser, so its uid in a URL grants nothing elsewhere — neither its consent,
nor its fresh authentication for ``prompt=login``/``max_age``.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from flask import g, has_request_context

from idp.services import browser
from shared.appkit import get_redis, get_settings


@dataclass
class Interaction:
    uid: str
    client_id: str
    params: dict[str, str]
    created_at: float = field(default_factory=time.time)
    identifier: str | None = None       # typed at the identifier step
    authenticated_at: float | None = None  # set when a primary authentication succeeded here
    steps_done: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    browser: str = ""  # digest of the starting browser's binding secret

    @property
    def prompt(self) -> set[str]:
        return set(self.params.get("prompt", "").split())

    @property
    def requested_acr(self) -> list[str]:
        return self.params.get("acr_values", "").split()


def _ttl() -> int:
    return int(get_settings().section("lifetimes").get("interaction", 1800))


def create(client_id: str, params: dict[str, str]) -> Interaction:
    interaction = Interaction(uid=secrets.token_urlsafe(24), client_id=client_id, params=params,
                              browser=browser.binding())
    save(interaction)
    return interaction


def _read_this_request() -> dict[str, str | None]:
    """What this request read or wrote of each interaction: a page loads one several times (the
    route, the brand, the flow) and each load would be a round trip to Redis for the same value.
    The browser check still runs on every load; nothing outlives the request (outside one, such
    as a job holding an app context, nothing is kept)."""
    if not has_request_context():
        return {}
    if "interactions_read" not in g:
        g.interactions_read = {}
    return g.interactions_read


def save(interaction: Interaction) -> None:
    raw = json.dumps(asdict(interaction))
    get_redis().set(f"idp:interaction:{interaction.uid}", raw, ex=_ttl())
    _read_this_request()[interaction.uid] = raw


def load(uid: str) -> Interaction | None:
    """The interaction, when it was started by the browser making this request."""
    if not uid or len(uid) > 64:
        return None
    read = _read_this_request()
    if uid not in read:
        read[uid] = get_redis().get(f"idp:interaction:{uid}")
    raw = read[uid]
    if not raw:
        return None
    interaction = Interaction(**json.loads(raw))
    if not browser.is_this_browser(interaction.browser):
        return None
    g.ui_locales = interaction.params.get("ui_locales", "").split()  # the client's wish, below the person's choice
    return interaction


def delete(uid: str) -> None:
    get_redis().delete(f"idp:interaction:{uid}")
    _read_this_request()[uid] = None


def resume_url(uid: str) -> str:
    return f"/authorize/resume/{uid}"
