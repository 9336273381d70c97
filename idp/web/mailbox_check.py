"""The "confirm it is you" step (thin): the code emailed to the account's address, asked before
the first second factor is bound or the address is moved while only a password protects the
account. The rules live in ``idp.services.mailbox_proof``."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from idp.flows.mfa import is_complete
from idp.oidc import interaction as interactions
from idp.services import accounts, mailbox_proof, sessions
from shared.i18n import speak_by_default

bp = Blueprint("mailbox_check", __name__)


def destination(purpose: str, uid: str | None) -> str:
    """Where the person was going: the page that asked for the proof (never a URL from the request)."""
    if purpose == "totp":
        return url_for("account.totp_setup", uid=uid)
    if purpose == "passkey":
        return url_for("passkeys.setup_in_sign_in", uid=uid) if uid else url_for("passkeys.overview")
    return url_for("account.change_email")


def ask(purpose: str, uid: str | None = None):
    """The redirect a page answers with when the proof is required and not yet given."""
    return redirect(url_for("mailbox_check.confirm", purpose=purpose, uid=uid))


def _session_and_account(uid: str | None):
    session = sessions.current_session()
    if uid:  # inside a sign-in whose client requires a factor: the password was given in it
        interaction = interactions.load(uid)
        if session is None or interaction is None or interaction.authenticated_at is None:
            return None, None
    elif not is_complete(session):
        return None, None
    account = accounts.get(session.account_id)
    if account is None or account.status != "active":
        return None, None
    if not uid:  # inside a sign-in, the client's ui_locales already speak
        speak_by_default(account.locale)
    return session, account


@bp.route("/account/confirm-address/<purpose>", methods=["GET", "POST"], defaults={"uid": None})
@bp.route("/interaction/<uid>/confirm-address/<purpose>", methods=["GET", "POST"])
def confirm(purpose: str, uid: str | None):
    if purpose not in mailbox_proof.PURPOSES or (uid and purpose == "email"):
        abort(404)
    session, account = _session_and_account(uid)
    if account is None:
        return redirect(url_for("login.identifier", uid=uid) if uid else url_for("login.signin", next="/account"))
    if not mailbox_proof.outstanding(session):
        return redirect(destination(purpose, uid))
    errors, notice, status = {}, None, 200
    try:
        if request.method == "POST" and request.form.get("action") == "resend":
            if mailbox_proof.send(session.sid, account.id, purpose, again=True):
                notice = _("Un nouveau code vient de vous être envoyé. Le précédent ne sert plus.")
        elif request.method == "POST" and not request.form.get("code", "").strip():
            errors["code"], status = _("Saisissez le code à 8 chiffres reçu par courriel."), 400
        elif request.method == "POST":
            if mailbox_proof.confirm(session.sid, account.id, request.form.get("code", "")):
                return redirect(destination(purpose, uid))
            errors["code"], status = _("Ce code n'est pas valable ou a expiré. Vérifiez les 8 chiffres reçus, ou "
                                       "demandez un nouveau code."), 400
        else:
            mailbox_proof.send(session.sid, account.id, purpose)  # once: a reload does not send another
    except mailbox_proof.TooManyCodes as too_many:
        minutes = max(1, round(too_many.seconds / 60))
        errors["code"], status = _("Trop de codes demandés. Réessayez dans %(minutes)s minute(s).", minutes=minutes), 429
    return render_template("idp/account/mailbox_check.html", purpose=purpose, uid=uid, email=account.email,
                           sent=mailbox_proof.pending(session.sid, account.id),
                           errors=errors, notice=notice,
                           back=None if uid else url_for("account.overview")), status
