"""Known devices: a signed cookie a browser receives once it has proven an account's password
(or used its reset link), so that strangers' wrong guesses never hold the owner back there.

OWASP's "device cookie" pattern: the ``idp_device`` cookie holds a random device id and, for each
account that signed in on this browser (five at most), a keyed digest of the account id — never
the account id or the address itself — signed with the app's secret key (itsdangerous) and valid
one year. A forged, altered or expired cookie is no cookie. It grants nothing by itself: it only
chooses which sign-in counter a password attempt counts against (``idp.services.throttle``).

A second list holds the accounts whose *second factor* was proven on this browser (a whole sign-in,
an enrolment, the console's step-up). Only those choose a second-factor counter of their own
(``idp.services.mfa.verify``): the password alone makes a browser known for the password, and a
thief holding the password would otherwise get a fresh second-factor counter with every new cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from shared.appkit import get_settings
from shared.cookies import host_only

COOKIE = "idp_device"


def cookie_name() -> str:
    return host_only(COOKIE, get_settings().production)  # shared.cookies: __Host- in production
MAX_AGE = 365 * 24 * 3600
MAX_ACCOUNTS = 5
SALT = "idp.device-cookie"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def _digest(account_id: str) -> str:
    key = hashlib.sha256(f"{SALT}:{current_app.secret_key}".encode()).digest()
    return hmac.new(key, account_id.encode(), hashlib.sha256).hexdigest()[:32]


def _read() -> dict | None:
    raw = request.cookies.get(cookie_name())
    if not raw or len(raw) > 4096:
        return None
    try:
        data = _serializer().loads(raw, max_age=MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("k"), list):
        return None
    if not isinstance(data.setdefault("f", []), list):  # cookies from before the second list have none
        return None
    return data


def known_device(account_id: str | None) -> str | None:
    """This browser's device id when it has signed in to this account before, else None."""
    data = _read()
    if data is None or account_id is None or _digest(account_id) not in data["k"]:
        return None
    return data["id"]


def second_factor_device(account_id: str | None) -> str | None:
    """This browser's device id when this account's second factor was proven on it before, else None."""
    data = _read()
    if data is None or account_id is None or _digest(account_id) not in data["f"]:
        return None
    return data["id"]


def _with(digests: list, digest: str) -> list:
    return [k for k in digests if k != digest][-(MAX_ACCOUNTS - 1):] + [digest]


def remember(response, account_id: str, *, second_factor: bool = False) -> None:
    """After a proven password (or reset link): this browser is a known device of this account;
    ``second_factor`` when the account's second factor was proven here too."""
    data = _read() or {"id": secrets.token_urlsafe(16), "k": [], "f": []}
    digest = _digest(account_id)
    factors = _with(data["f"], digest) if second_factor else data["f"]
    value = _serializer().dumps({"id": data["id"], "k": _with(data["k"], digest), "f": factors})
    response.set_cookie(cookie_name(), value, max_age=MAX_AGE, httponly=True, samesite="Lax",
                        secure=get_settings().production, path="/")
