"""The account page's activity (thin): ending one session or all the others, withdrawing a
service, and the security journal the person reads. Each destructive action is confirmed on its
own page, in the shared danger-zone component, before the POST that does it."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from idp.oidc import withdrawal
from idp.services import account_view, audit, lifecycle, sessions
from idp.services.device_names import device_name, network_of
from idp.web.account import signed_in

bp = Blueprint("account_activity", __name__)

EVENT_WORDS = {
    "sign_in": _l("Connexion"),
    "sign_in_failed": _l("Mot de passe erroné"),
    "logout": _l("Déconnexion"),
    "password_changed": _l("Mot de passe modifié"),
    "password_reset": _l("Mot de passe réinitialisé"),
    "reset_requested": _l("Réinitialisation du mot de passe demandée"),
    "email_change_requested": _l("Changement d'adresse électronique demandé"),
    "email_changed": _l("Adresse électronique modifiée"),
    "second_factor_enabled": _l("Application d'authentification activée"),
    "second_factor_disabled": _l("Application d'authentification désactivée"),
    "second_factor_failed": _l("Code de validation refusé"),
    "recovery_code_used": _l("Code de secours utilisé"),
    "recovery_codes_regenerated": _l("Nouveaux codes de secours"),
    "passkey_added": _l("Clé d'accès ajoutée"),
    "passkey_renamed": _l("Clé d'accès renommée"),
    "passkey_removed": _l("Clé d'accès retirée"),
    "passkey_cloned": _l("Clé d'accès refusée (copie détectée)"),
    "passkey_refused": _l("Clé d'accès refusée"),
    "service_withdrawn": _l("Accès d'un service retiré"),
    "sessions_ended": _l("Autres sessions fermées"),
    "operations_second_factor_reset": _l("Validation en deux étapes réinitialisée par l'assistance"),
    "operations_sessions_ended": _l("Sessions fermées par l'assistance"),
    "account_deactivated": _l("Compte désactivé"),
    "account_reactivated": _l("Compte réactivé"),
}
METHOD_WORDS = {"pwd": _l("mot de passe"), "otp": _l("code"), "hwk": _l("clé d'accès"), "swk": _l("clé d'accès"),
                "fed": _l("fournisseur d'identité")}


@bp.get("/account/sessions/<sid>/end")
@signed_in
def confirm_end_session(session, account, sid: str):
    found = sessions.own_session(account.id, sid)
    if found is None:
        abort(404)
    return render_template("idp/account/end_session.html", sid=found.sid, device=device_name(found.user_agent),
                           place=network_of(found.ip), current=found.sid == session.sid)


@bp.post("/account/sessions/end")
@signed_in
def end_session(session, account):
    found = sessions.own_session(account.id, request.form.get("session", ""))
    if found is None:
        abort(404)
    sessions.end_session(found.sid)
    audit.record("logout", account.id, sid_hint=found.sid[:6], by="account_page")
    if found.sid == session.sid:
        response = redirect(url_for("login.logged_out"))
        sessions.clear_cookie(response)
        return response
    return redirect(url_for("account.overview", done="session_ended"))


@bp.route("/account/sessions/others", methods=["GET", "POST"])
@signed_in
def end_other_sessions(session, account):
    if request.method == "GET":
        others = [d for d in account_view.devices_of(account.id) if d["sid"] != session.sid]
        return render_template("idp/account/end_others.html", others=others)
    lifecycle.revoke_everything(account.id, keep_sid=session.sid)  # their sessions, their tokens
    audit.record("sessions_ended", account.id, by="account_page")
    return redirect(url_for("account.overview", done="others_ended"))


def _service(account_id: str, client_id: str) -> dict:
    found = next((s for s in account_view.services_of(account_id) if s["client_id"] == client_id), None)
    if found is None:
        abort(404)
    return found


@bp.route("/account/services/<client_id>/withdraw", methods=["GET", "POST"])
@signed_in
def withdraw_service(session, account, client_id: str):
    service = _service(account.id, client_id)
    if request.method == "GET":
        return render_template("idp/account/withdraw.html", service=service)
    withdrawal.withdraw(account.id, client_id)
    return redirect(url_for("account.overview", done="withdrawn"))


@bp.get("/account/activity")
@signed_in
def activity(session, account):
    events = [{"at": e.at, "what": EVENT_WORDS.get(e.kind, e.kind), "kind": e.kind, "place": network_of(e.ip),
               "how": ", ".join(str(METHOD_WORDS[m]) for m in (e.detail or {}).get("amr", []) if m in METHOD_WORDS),
               "name": (e.detail or {}).get("name", "")}
              for e in account_view.security_events(account.id)]
    return render_template("idp/account/activity.html", events=events)
