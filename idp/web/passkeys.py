"""Passkey pages (thin): the account's passkeys (add, rename, remove), the passkey as second factor
after the password, and the sign-in without password from the identifier page. The ceremonies
and their checks live in ``idp.services.passkeys``; the browser side in ``static/passkeys``."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from idp.flows import login as login_flow
from idp.flows import mfa as mfa_flow
from idp.oidc import interaction as interactions
from idp.services import accounts, devices, mailbox_proof, mfa, passkeys, sessions
from idp.web import mailbox_check
from idp.web.account import signed_in
from idp.web.login import identifier_page

bp = Blueprint("passkeys", __name__)

REFUSALS = {
    "expired": _l("Cette demande a expiré ou a déjà servi. Recommencez."),
    "invalid": _l("Cette clé d'accès n'a pas pu être vérifiée pour ce site. Recommencez, ou utilisez un autre moyen de connexion."),
    "unknown": _l("Cette clé d'accès n'est pas enregistrée pour ce compte."),
    "cloned": _l("Cette clé d'accès a été refusée : elle semble avoir été copiée. Utilisez un autre moyen de connexion et contactez l'assistance."),
    "name": _l("Donnez à la clé d'accès un nom de 64 caractères au plus, par exemple « Téléphone personnel »."),
    "name_missing": _l("Donnez un nom à la clé d'accès, par exemple « Téléphone personnel »."),
    "too_many": _l("Vous avez atteint le nombre maximal de clés d'accès. Retirez-en une avant d'en ajouter une autre."),
    "factor": _l("Pour modifier vos clés d'accès, connectez-vous d'abord avec votre validation en deux étapes."),
    "inactive": _l("Ce compte ne peut pas se connecter pour le moment. Connectez-vous avec votre mot de passe pour en savoir plus."),
}
NOTICES = {
    "added": _l("La clé d'accès a été ajoutée. Vous pouvez l'utiliser à votre prochaine connexion."),
    "removed": _l("La clé d'accès a été retirée. Vos autres sessions ont été fermées."),
    "renamed": _l("La clé d'accès a été renommée."),
}


def _words(code: str) -> str:
    return str(REFUSALS[code])


# -- the account's passkeys -----------------------------------------------------------------------

def _account_page(session, account, errors: dict | None = None, name: str = "", status: int = 200):
    return render_template("idp/passkeys/list.html", passkeys=passkeys.list_for(account.id),
                           errors=errors or {}, name=name, notice=NOTICES.get(request.args.get("done", "")),
                           may_change=mfa.may_change_factor(account.id, session.amr),
                           needs_mailbox=mailbox_proof.outstanding(session),
                           amr_of=passkeys.amr_of), status


@bp.get("/account/passkeys")
@signed_in
def overview(session, account):
    return _account_page(session, account)


@bp.post("/account/passkeys/options")
def registration_options():
    """JSON for navigator.credentials.create(); only for a session that may change factors."""
    session = sessions.current_session()
    if session is None:
        return Response('{"error": "session_required"}', 401, mimetype="application/json")
    try:
        options = passkeys.registration_options(accounts.get(session.account_id), session.amr, sid=session.sid)
    except mfa.CurrentFactorRequired:
        return Response('{"error": "second_factor_required"}', 403, mimetype="application/json")
    except mailbox_proof.ProofRequired:
        return Response('{"error": "mailbox_proof_required"}', 403, mimetype="application/json")
    return Response(options, mimetype="application/json", headers={"Cache-Control": "no-store"})


@bp.post("/account/passkeys")
@signed_in
def add(session, account):
    name = request.form.get("name", "")
    try:
        added, codes = passkeys.register(account.id, request.form.get("response", ""), name, session.amr,
                                  keep_sid=session.sid)
    except mfa.CurrentFactorRequired:
        return _account_page(session, account, {"name": _words("factor")}, name, 403)
    except mailbox_proof.ProofRequired:
        return mailbox_check.ask("passkey")
    except passkeys.PasskeyRefused as refusal:
        field = "name" if refusal.code in ("name", "name_missing", "too_many") else "passkey"
        return _account_page(session, account, {field: _words(refusal.code)}, name, 400)
    sessions.add_methods(session, passkeys.amr_of(added), "mfa")  # possession just proven
    if codes:  # the account's first factor: its recovery codes, shown once
        return render_template("idp/account/totp_codes.html", codes=codes,
                               next_url=url_for("passkeys.overview", done="added"))
    return redirect(url_for("passkeys.overview", done="added"))


@bp.route("/account/passkeys/<passkey_id>/rename", methods=["GET", "POST"])
@signed_in
def rename(session, account, passkey_id: str):
    """A page per passkey (no script needed, room for the field and its error at 360 px)."""
    passkey = passkeys.own_passkey(account.id, passkey_id)
    if passkey is None:
        abort(404)
    errors, name = {}, passkey.name
    if request.method == "POST":
        name = request.form.get("name", "")
        try:
            passkeys.rename(account.id, passkey.id, name)
        except passkeys.PasskeyRefused as refusal:
            if refusal.code == "unknown":  # removed meanwhile, from another session
                abort(404)
            errors["name"] = _words(refusal.code)
        else:
            return redirect(url_for("passkeys.overview", done="renamed"))
    return render_template("idp/passkeys/rename.html", passkey=passkey, name=name,
                           errors=errors), (400 if errors else 200)


@bp.get("/account/passkeys/<passkey_id>/remove")
@signed_in
def confirm_removal(session, account, passkey_id: str):
    held = passkeys.list_for(account.id)
    passkey = next((p for p in held if p.id == passkey_id), None)
    if passkey is None:
        abort(404)
    last = len(held) == 1 and not mfa.is_enabled(account.id)
    return render_template("idp/passkeys/remove.html", passkey=passkey, last=last)


@bp.post("/account/passkeys/<passkey_id>/remove")
@signed_in
def remove(session, account, passkey_id: str):
    try:
        passkeys.remove(account.id, passkey_id, session.amr, keep_sid=session.sid)
    except mfa.CurrentFactorRequired:
        return _account_page(session, account, {"passkey": _words("factor")}, status=403)
    except passkeys.PasskeyRefused:
        abort(404)
    return redirect(url_for("passkeys.overview", done="removed"))


# -- the second factor after the password ---------------------------------------------------------

@bp.route("/interaction/<uid>/passkey", methods=["GET", "POST"])
def challenge(uid: str):
    session = mfa_flow.session_at_second_factor(uid)
    if session is None:
        return redirect(url_for("login.identifier", uid=uid))
    errors, status = {}, 200
    if request.method == "POST":
        try:
            used = passkeys.verify_second_factor(session.account_id, request.form.get("response", ""), session.sid)
        except passkeys.PasskeyRefused as refusal:
            errors["passkey"], status = _words(refusal.code), 400
        else:
            return mfa_flow.second_factor_proven(session, uid, [passkeys.amr_of(used), "mfa"], PASSKEY_STEPS)
    return render_template("idp/passkeys/challenge.html", uid=uid, errors=errors,
                           options=passkeys.second_factor_options(session.account_id, session.sid),
                           totp=mfa.is_enabled(session.account_id),
                           recovery=mfa.remaining_recovery_codes(session.account_id)), status


PASSKEY_STEPS = ("second_factor_step", "phishing_resistant_step")  # a passkey proves both


def _passkey_steps_done(uid: str) -> None:
    for step in PASSKEY_STEPS:
        login_flow.mark_done(uid, step)


@bp.route("/interaction/<uid>/passkey/setup", methods=["GET", "POST"])
def setup_in_sign_in(uid: str):
    """Register a passkey inside a sign-in whose client needs a phishing-resistant factor."""
    session, interaction = sessions.current_session(), interactions.load(uid)
    if session is None or interaction is None or interaction.authenticated_at is None:
        return redirect(url_for("login.identifier", uid=uid))
    account = accounts.get(session.account_id)
    if not mfa.may_change_factor(account.id, session.amr):  # prove the factor it has first
        return redirect(url_for("login.resume_login", uid=uid))
    if mailbox_proof.outstanding(session):
        return mailbox_check.ask("passkey", uid)
    errors, name = {}, request.form.get("name", "")
    if request.method == "POST":
        try:
            added, codes = passkeys.register(account.id, request.form.get("response", ""), name, session.amr,
                                             keep_sid=session.sid)
        except passkeys.PasskeyRefused as refusal:
            errors["name" if refusal.code in ("name", "name_missing", "too_many") else "passkey"] = _words(refusal.code)
        except mailbox_proof.ProofRequired:  # the proof expired meanwhile
            return mailbox_check.ask("passkey", uid)
        else:
            sessions.add_methods(session, passkeys.amr_of(added), "mfa")
            _passkey_steps_done(uid)
            if codes:
                return render_template("idp/account/totp_codes.html", codes=codes,
                                       next_url=url_for("login.resume_login", uid=uid))
            return login_flow.resume_interaction(uid)
    return render_template("idp/passkeys/setup.html", uid=uid, errors=errors, name=name), (400 if errors else 200)


# -- without password, from the identifier page ---------------------------------------------------

@bp.post("/interaction/<uid>/passkey/options")
def passwordless_options(uid: str):
    if interactions.load(uid) is None:
        abort(404)
    return Response(passkeys.passwordless_options(uid), mimetype="application/json",
                    headers={"Cache-Control": "no-store"})


@bp.post("/interaction/<uid>/passkey/signin")
def passwordless(uid: str):
    interaction = interactions.load(uid)
    if interaction is None:
        abort(404)
    try:
        used = passkeys.verify_passwordless(uid, request.form.get("response", ""))
    except passkeys.PasskeyRefused as refusal:
        return _identifier_again(interaction, _words(refusal.code))
    account = accounts.get(used.account_id)
    if account is None or account.status != "active":
        return _identifier_again(interaction, _words("inactive"))
    # the passkey verified its user (PIN, biometrics): something held and something known or been
    response = login_flow.complete_authentication(uid, account.id, [passkeys.amr_of(used), "mfa"])
    devices.remember(response, account.id, second_factor=True)
    return response


def _identifier_again(interaction, message: str):
    return identifier_page(interaction, {"passkey": message}, 400)
