"""Cookies a browser holds once: a second cookie of the same name is a planted one.

A page on a sibling subdomain, or on another port of the same host, can set a cookie for our host
with a narrower ``Path``; the browser then sends it *before* the real one, and a session cookie
planted so puts the person in the attacker's session (outside review: the code proving the
owner's mailbox then landed in the thief's session, who bound their passkey with it). So:

- in production the names carry the ``__Host-`` prefix: the browser accepts such a cookie only
  Secure, with ``Path=/`` and no ``Domain``, so no subdomain and no plain-HTTP origin can set or
  shadow it (an HTTPS site on the same host name, another port, still could: the operations guide
  says to give the IdP a host name of its own);
- in every mode a request that carries a protected name twice is refused, and each copy it could
  have come with (``Path=/`` and every prefix of the request's path) is expired, so the person
  signs in again in a browser holding only their own cookies.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, make_response, request
from flask_babel import gettext as _


def host_only(name: str, production: bool) -> str:
    return f"__Host-{name}" if production else name


def _paths_of(path: str) -> list[str]:
    parts = [part for part in path.split("/") if part]
    return ["/"] + ["/" + "/".join(parts[:n]) for n in range(1, len(parts) + 1)]


def refuse_duplicates(app: Flask, names: Callable[[], list[str]]) -> None:
    """``names``: the protected cookie names, read at each request (the app's configuration)."""

    @app.before_request
    def one_of_each():
        doubled = [name for name in names() if len(request.cookies.getlist(name)) > 1]
        if not doubled:
            return None
        from shared.web import render_error

        app.logger.warning("request refused: cookie sent twice (%s)", ", ".join(doubled))
        response = make_response(render_error(400, _("Session interrompue"), _(
            "Votre navigateur a présenté deux sessions à la fois, ce qui arrive quand un autre site a tenté "
            "d'y placer la sienne. Par sécurité, vous avez été déconnecté(e) : reconnectez-vous.")))
        secure = app.config.get("SESSION_COOKIE_SECURE", False)
        for name in doubled:
            for path in _paths_of(request.path):
                response.delete_cookie(name, path=path, secure=secure, httponly=True, samesite="Lax")
        return response
