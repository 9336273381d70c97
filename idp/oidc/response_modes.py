"""How the authorization response reaches the client (OAuth 2.0 Multiple Response Types, Form
Post Response Mode): ``query`` is a redirect; ``form_post`` is a page whose form POSTs the
parameters to the redirect URI (submitted by static/core/form_post.js, or by its button without
JavaScript), so the code never appears in a URL, a Referer or the browser's history.
"""

from __future__ import annotations

from flask import make_response, render_template


def form_post(redirect_uri: str, params: list[tuple[str, str]]):
    response = make_response(render_template("idp/form_post.html", action=redirect_uri, params=params))
    response.headers["Cache-Control"] = "no-store"
    return response
