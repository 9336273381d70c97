"""Per-route, per-address limits (Flask-Limiter), on the app's Redis (``idp.services.rate_limits``).

Flask-Limiter rather than more hand-written counters: it is maintained, counts atomically in Redis
with a moving window (Lua scripts), works the same on every instance, sets ``Retry-After``, and
reads its limits from configuration. The account-level delays that a library cannot know
(identifier with device or address, the known device let through) stay in
``idp.services.throttle``.

Each app gets its own Limiter (tests run several apps in one process, each with its own Redis),
and the limits are applied to the view functions by endpoint once the blueprints are registered,
so the routes stay plain. The address is ``request.remote_addr``: behind the deployment's proxies
(``TRUSTED_PROXIES``, shared.proxy) the one they forward in X-Forwarded-For, never a header sent
by anyone else.
"""

from __future__ import annotations

import math
import time

from flask import Flask, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter import Limiter, RateLimitExceeded, RequestLimit

from idp.services.rate_limits import STRATEGY, storage_spec
from shared.web import render_error

# endpoint → (configuration name in config/idp.toml [throttle], default, counts only responses that…)
ROUTE_LIMITS = {
    # failed passwords from one address, whatever the identifier (password spraying, stuffing);
    # a success costs nothing, so an office behind one address signs in freely
    "login.password": ("sign_in_failures_per_address", "30 per minute; 300 per hour",
                       lambda response: response.status_code == 400),
    # "Mot de passe oublié ?" from one address, whatever the address asked for
    "account.recovery": ("recovery_per_address", "30 per hour", lambda response: response.status_code == 200),
}


def client_address() -> str:
    return request.remote_addr or "unknown"


def wait_text(seconds: int) -> str:
    if seconds < 120:
        return ngettext("Réessayez dans %(num)s seconde.", "Réessayez dans %(num)s secondes.", seconds)
    minutes = math.ceil(seconds / 60)
    return ngettext("Réessayez dans %(num)s minute.", "Réessayez dans %(num)s minutes.", minutes)


def too_many(limit: RequestLimit):
    """The page of a refused request: what happened and how long to wait, in the person's language."""
    seconds = max(1, math.ceil(limit.reset_at - time.time()))
    response, status = render_error(429, _("Trop de tentatives"),
                                    _("Trop de demandes depuis votre adresse réseau.") + " " + wait_text(seconds))
    return response, status, {"Retry-After": str(seconds)}


def init_limits(app: Flask) -> Limiter:
    throttle = app.config["SETTINGS"].section("throttle")
    spec = storage_spec(app)
    limiter = Limiter(client_address, app=app, storage_uri=spec.uri, storage_options=spec.options,
                      strategy=STRATEGY, headers_enabled=False)
    for endpoint, (name, default, deduct_when) in ROUTE_LIMITS.items():
        view = app.view_functions[endpoint]
        decorated = limiter.limit(str(throttle.get(name, default)), methods=["POST"], deduct_when=deduct_when,
                                  on_breach=lambda limit: app.make_response(too_many(limit)))
        app.view_functions[endpoint] = decorated(view)
    app.extensions["idp_limiter"] = limiter

    @app.errorhandler(RateLimitExceeded)  # before the frame's generic 429 page: ours says how long
    def limit_reached(error: RateLimitExceeded):
        return error.response or error

    return limiter
