"""For portal view tests that do not exercise the IdP: put a principal in a test client's session.

End-to-end tests sign in through the real IdP instead (tests/e2e).
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from shared.rp.session import Principal, SessionStore
from shared.rp.views import SESSION_COOKIE_KEY


def sign_in(client: FlaskClient, sub: str, claims: dict[str, Any] | None = None, sid: str | None = None) -> Principal:
    app = client.application
    store: SessionStore = app.extensions["rp_sessions"]
    principal = store.create(sub, {"sub": sub, **(claims or {})}, sid or f"test-sid-{sub}", None, None)
    with client.session_transaction() as session:
        session[SESSION_COOKIE_KEY] = principal.session_id
    return principal


def sign_out(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session.pop(SESSION_COOKIE_KEY, None)
