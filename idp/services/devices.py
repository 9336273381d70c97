"""Known devices: a signed cookie a browser receives once it has proven an account's password
(or used its reset link), so that strangers' wrong guesses never hold the owner back there.

OWASP's "device cookie" pattern: the ``idp_device`` cookie holds a random device id and, for each
account that signed in on this browser (five at most), a keyed digest of the account id — never
the account id or the address itself — signed with the app's secret key (itsdangerous) and valid
one year. A forged, altered or expired cookie is no cookie. It grants nothing by itself: it only
chooses which sign-in counter a password attempt counts against (``idp.services.throttle``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from shared.appkit import get_settings

COOKIE = "idp_device"
MAX_AGE = 365 * 24 * 3600
MAX_ACCOUNTS = 5
SALT = "idp.device-cookie"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def _digest(account_id: str) -> str:
    key = hashlib.sha256(f"{SALT}:{current_app.secret_key}".encode()).digest()
    return hmac.new(key, account_id.encode(), hashlib.sha256).hexdigest()[:32]


def _read() -> dict | None:
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 4096:
        return None
    try:
        data = _serializer().loads(raw, max_age=MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("k"), list):
        return None
    return data


def known_device(account_id: str | None) -> str | None:
    """This browser's device id when it has signed in to this account before, else None."""
    data = _read()
    if data is None or account_id is None or _digest(account_id) not in data["k"]:
        return None
    return data["id"]


def remember(response, account_id: str) -> None:
    """After a proven password (or reset link): this browser is a known device of this account."""
    data = _read() or {"id": secrets.token_urlsafe(16), "k": []}
    digest = _digest(account_id)
    accounts = [k for k in data["k"] if k != digest][-(MAX_ACCOUNTS - 1):] + [digest]
    value = _serializer().dumps({"id": data["id"], "k": accounts})
    response.set_cookie(COOKIE, value, max_age=MAX_AGE, httponly=True, samesite="Lax",
                        secure=get_settings().production, path="/")
