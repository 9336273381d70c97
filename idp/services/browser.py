"""Binding a flow to the browser that started it (RFC 9700 §4.7, §4.2.4).

Every interaction, upstream round trip and consent decision records the digest of a random secret
held in this browser's ``idp_browser`` cookie (HttpOnly, SameSite=Lax, Secure in production), and
every later step checks it. A flow id alone (in a URL, in an upstream ``state``) is then worth
nothing in another browser: a victim sent to the attacker's ``/authorize/resume/<uid>`` or to an
unused federation callback finds no flow, and the attacker cannot resume the victim's either.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Flask, g, request

from shared.appkit import get_settings
from shared.cookies import host_only

COOKIE = "idp_browser"


def cookie_name() -> str:
    return host_only(COOKIE, get_settings().production)  # shared.cookies: __Host- in production


def _secret() -> str:
    presented = request.cookies.get(cookie_name(), "")
    if 32 <= len(presented) <= 64:
        return presented
    if "new_browser_secret" not in g:
        g.new_browser_secret = secrets.token_urlsafe(32)
    return g.new_browser_secret


def binding() -> str:
    """The digest flows store for this browser (the secret itself is never stored)."""
    return hashlib.sha256(_secret().encode()).hexdigest()


def is_this_browser(stored: str | None) -> bool:
    return bool(stored) and hmac.compare_digest(stored, binding())


def init_app(app: Flask) -> None:
    @app.after_request
    def send_binding_cookie(response):
        if "new_browser_secret" in g:
            response.set_cookie(cookie_name(), g.new_browser_secret, httponly=True, samesite="Lax",
                                secure=get_settings().production)
        return response
