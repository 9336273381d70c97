"""The operators' console's blueprint and its door (``/operations``): every page and every form of
every area passes ``require_operator`` first (idp.services.operators says who passes), answers
``no-store``, and every form carries the CSRF token (Flask-WTF checks it before any route runs)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from idp.flows.login import too_many_attempts
from idp.flows.mfa import SECOND_FACTOR_AMR, check_code
from idp.services import accounts, audit, devices, mfa, operators, passkeys, sessions
from idp.services.operators import Access
from idp.web.passkeys import REFUSALS as PASSKEY_REFUSALS
from shared.timeutil import format_strasbourg, to_strasbourg
from shared.web import safe_local_path

bp = Blueprint("operations", __name__, url_prefix="/operations")

SECTIONS = [("clients", _l("Clients")), ("accounts", _l("Comptes")), ("audit", _l("Journal d'audit")),
            ("support", _l("Demandes d'assistance")), ("organisations", _l("Organisations")),
            ("keys", _l("Clés de signature"))]


@bp.app_template_filter("paris")
def paris_time(moment) -> str:
    """A stored UTC moment (a datetime, or epoch seconds) as Paris sees it, to the second."""
    return format_strasbourg(to_strasbourg(moment), with_seconds=True)  # Strasbourg's zone is Europe/Paris


@bp.app_context_processor
def console_context():
    def console_areas(current: str) -> list[tuple[str, str, bool]]:
        """The console's areas as tabs (those whose pages exist), the current one marked."""
        return [(url_for(f"operations.{name}"), str(label), name == current) for name, label in SECTIONS
                if f"operations.{name}" in current_app.view_functions]

    return {"console_areas": console_areas}


def passkey_refusal(code: str) -> str:
    return str(PASSKEY_REFUSALS.get(code, PASSKEY_REFUSALS["invalid"]))


def here() -> str:
    return request.full_path.rstrip("?") if request.method == "GET" else url_for("operations.home")


@bp.before_request
def require_operator():
    session = sessions.current_session()
    account = accounts.get(session.account_id) if session else None
    state = operators.access(session, account)
    if state is Access.GRANTED or (state is Access.PROVE_SECOND_FACTOR and request.endpoint == "operations.verify"):
        g.operator = account
        g.operator_session = session
        return None
    if state is Access.SIGN_IN:
        return redirect(url_for("login.signin", next=here()))
    if state is Access.NOT_OPERATOR:
        abort(403)
    if state is Access.NO_SECOND_FACTOR:
        return render_template("idp/operations/no_second_factor.html"), 403
    return redirect(url_for("operations.verify", next=here()), 303)


@bp.after_request
def never_cached(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _factor_proven(target: str, account_id: str):
    response = redirect(target, 303)
    devices.remember(response, account_id, second_factor=True)  # this browser's own second-factor counter
    return response


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """The second factor again, when the one proven is missing or too old: a passkey of the account
    (when it has one) or a TOTP code; either records its own method and the time of the proof."""
    errors, status = {}, 200
    target = safe_local_path(request.args.get("next"), url_for("operations.home"))
    account_id = g.operator.id
    if request.method == "POST" and "response" in request.form:
        try:
            used = passkeys.verify_second_factor(account_id, request.form.get("response", ""), g.operator_session.sid)
        except passkeys.PasskeyRefused as refusal:
            errors["passkey"], status = passkey_refusal(refusal.code), 400
        else:
            sessions.add_methods(g.operator_session, passkeys.amr_of(used), "mfa")
            audit.record("operations_second_factor", account_id, method=passkeys.amr_of(used))
            return _factor_proven(target, account_id)
    elif request.method == "POST":
        try:
            used = check_code(account_id, request.form.get("code", ""))
        except mfa.Throttled as throttled:
            errors["code"], status = too_many_attempts(throttled.seconds), 429
        else:
            if used:
                sessions.add_methods(g.operator_session, *SECOND_FACTOR_AMR)
                audit.record("operations_second_factor", account_id, method=used)
                return _factor_proven(target, account_id)
            errors["code"], status = _("Ce code n'est pas valable. Saisissez le code à 6 chiffres affiché par "
                                       "votre application."), 400
    has_passkey = passkeys.count_for(account_id) > 0
    return render_template("idp/operations/verify.html", errors=errors,
                           options=passkeys.second_factor_options(account_id, g.operator_session.sid) if has_passkey else None,
                           totp=mfa.is_enabled(account_id), recovery=mfa.remaining_recovery_codes(account_id),
                           minutes=operators.proof_window_seconds() // 60), status


@bp.get("/")
def home():
    return render_template("idp/operations/home.html")
