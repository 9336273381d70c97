"""The web frame every app shares: cookies, CSRF, security headers, language and accessibility
switches, error pages, and the shared templates and static files.

Every app calls ``init_web(app, settings)`` from its factory and nothing else from here.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, g, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader

from shared.config import Settings
from shared.cookies import host_only, refuse_duplicates
from shared.i18n import LANG_COOKIE, LANGUAGES, init_i18n
from shared.timeutil import format_strasbourg, strasbourg_now, to_strasbourg

SHARED_DIR = Path(__file__).parent
A11Y_COOKIE = "a11y"
ONE_YEAR = 365 * 24 * 3600

csrf = CSRFProtect()
frame = Blueprint("frame", __name__, static_folder="static", static_url_path="/shared-static")


MAX_LOCAL_PATH = 2048


def safe_local_path(target: str | None, fallback: str = "/") -> str:
    """Only same-site paths: anything with a scheme, a host or a backslash trick falls back, and so
    does anything a ``Location`` header cannot carry as is (CR, LF and every other control or
    invisible format character, which would otherwise end in a server error) or that is too long."""
    if not target or len(target) > MAX_LOCAL_PATH or not target.isprintable():
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


def shared_cookie_domain() -> str | None:
    """The parent domain of every portal (e.g. ``.services.example``), so the language and the
    accessibility mode follow the person across portals; on localhost, cookies ignore the port."""
    return os.environ.get("SHARED_COOKIE_DOMAIN") or None


@frame.route("/lang/<code>")
def switch_language(code: str):
    response = redirect(safe_local_path(request.args.get("next")))
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=ONE_YEAR, samesite="Lax", httponly=True,
                            secure=request.is_secure, domain=shared_cookie_domain())
    return response


@frame.route("/accessibility", methods=["POST"])
def toggle_accessibility():
    enabled = request.form.get("mode") == "on"
    response = redirect(safe_local_path(request.form.get("next")))
    response.set_cookie(A11Y_COOKIE, "on" if enabled else "off", max_age=ONE_YEAR, samesite="Lax",
                        httponly=True, secure=request.is_secure, domain=shared_cookie_domain())
    return response


def security_headers(production: bool):
    def apply(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self' http: https:",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if production:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint and not request.endpoint.endswith("static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return apply


def render_error(status: int, title: str, message: str):
    return render_template("error.html", status=status, title=title, message=message), status


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return render_error(400, _("Formulaire expiré"),
                            _("Le formulaire a expiré ou n'est pas valide. Rechargez la page et recommencez."))

    @app.errorhandler(400)
    def bad_request(_error):
        return render_error(400, _("Demande invalide"), _("La demande n'a pas pu être comprise."))

    @app.errorhandler(403)
    def forbidden(_error):
        return render_error(403, _("Accès refusé"), _("Vous n'avez pas accès à cette page."))

    @app.errorhandler(404)
    def not_found(_error):
        return render_error(404, _("Page introuvable"), _("La page demandée n'existe pas."))

    @app.errorhandler(413)
    def too_large(_error):
        return render_error(413, _("Envoi trop volumineux"), _("L'envoi dépasse la taille autorisée."))

    @app.errorhandler(429)
    def too_many(_error):
        return render_error(429, _("Trop de tentatives"),
                            _("Trop de tentatives. Patientez quelques instants puis réessayez."))

    @app.errorhandler(503)
    def unavailable(_error):
        return render_error(503, _("Service momentanément indisponible"),
                            _("Le service est momentanément indisponible. Réessayez dans quelques minutes."))

    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DBAPIError, OperationalError

    def backend_down(error):
        """Redis or the database unreachable: a clear 503, nothing half-written (transactions rolled back)."""
        if isinstance(error, DBAPIError) and not (isinstance(error, OperationalError) or error.connection_invalidated):
            raise error  # a database error that is not an outage stays a server error
        app.logger.warning("backend unavailable: %s", error.__class__.__name__)
        if request.accept_mimetypes.best == "application/json" or request.path.startswith(("/api/", "/token")):
            from flask import jsonify

            body = jsonify(error="temporarily_unavailable", error_description="try again in a few minutes")
            return body, 503, {"Retry-After": "30"}
        html, status = unavailable(error)
        return html, status, {"Retry-After": "30"}

    for outage in (RedisConnectionError, RedisTimeoutError, DBAPIError):
        app.register_error_handler(outage, backend_down)


def init_web(app: Flask, settings: Settings, service_name: str, template_roots: list[Path] | None = None,
             translation_roots: list[Path] | None = None) -> None:
    app.secret_key = settings.secret_key
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        SESSION_COOKIE_NAME=host_only(f"{settings.app_name}_session", settings.production),
        WTF_CSRF_TIME_LIMIT=3600 * 4,
        WTF_CSRF_SSL_STRICT=settings.production,
        SETTINGS=settings,
        SERVICE_NAME=service_name,
    )
    loaders = [FileSystemLoader(str(p)) for p in (template_roots or [])]
    loaders.append(FileSystemLoader(str(SHARED_DIR / "templates")))
    app.jinja_loader = ChoiceLoader([app.jinja_loader, *loaders]) if app.jinja_loader else ChoiceLoader(loaders)
    csrf.init_app(app)
    app.config.setdefault("SINGLE_COOKIES", [])  # an app adds its own (the IdP its session cookie)
    refuse_duplicates(app, lambda: [app.config["SESSION_COOKIE_NAME"], *app.config["SINGLE_COOKIES"]])
    init_i18n(app, *(translation_roots or []))
    app.register_blueprint(frame)
    app.after_request(security_headers(settings.production))
    register_error_pages(app)
    from shared.styleguide import init_styleguide

    init_styleguide(app, settings.production)
    from shared.health import init_health
    from shared.metrics import init_metrics
    from shared.proxy import init_proxy
    from shared.request_log import init_request_log

    init_proxy(app)  # X-Forwarded-* only from the deployment's proxies
    init_health(app)
    init_metrics(app)
    init_request_log(app)
    app.jinja_env.globals["page_layout"] = lambda: app.jinja_env.select_template(
        [f"{settings.app_name}/layout.html", f"{settings.app_name}/base.html", "base.html"])  # error pages in the app's frame
    app.jinja_env.filters["strasbourg"] = format_strasbourg
    app.jinja_env.filters["to_strasbourg"] = to_strasbourg

    @app.context_processor
    def frame_context():
        from flask_babel import get_locale

        return {
            "service_name": service_name,
            "current_lang": str(get_locale() or "fr"),
            "other_lang": "en" if str(get_locale()) == "fr" else "fr",
            "a11y_mode": request.cookies.get(A11Y_COOKIE) == "on",
            "strasbourg_now": strasbourg_now(),
            "current_path": request.full_path.rstrip("?") if request else "/",
            "page_errors": getattr(g, "page_errors", None),
        }
