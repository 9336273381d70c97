"""Account-lifecycle pages (thin): registration, activation, reset, email change, the account
page, the second factor. Every flow lives in ``idp.services.lifecycle`` / ``idp.services.mfa``."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh

from idp.flows import login as login_flow
from idp.flows.mfa import (
    SECOND_FACTOR_AMR,
    check_code,
    is_complete,
    second_factor_proven,
    session_at_second_factor,
)
from idp.oidc import interaction as interactions
from idp.services import (
    account_view,
    accounts,
    audit,
    clients,
    devices,
    lifecycle,
    mailbox_proof,
    mfa,
    passkeys,
    returning,
    sessions,
    throttle,
)
from idp.services.lifecycle import LinkProblem, Problems
from idp.services.passwords import RULES
from idp.web import mailbox_check
from idp.web.limits import wait_text
from shared.i18n import LANGUAGES, select_locale, speak_by_default

bp = Blueprint("account", __name__)

RULE_TEXT = {
    "min_length": _l("au moins 8 caractères"),
    "digit": _l("au moins un chiffre"),
    "lowercase": _l("au moins une lettre minuscule"),
    "uppercase": _l("au moins une lettre majuscule"),
    "not_common": _l("ne pas figurer parmi les mots de passe les plus courants"),
}
MESSAGES = {
    ("email", "required"): _l("Saisissez votre adresse électronique."),
    ("email", "invalid"): _l("Saisissez une adresse électronique valide, par exemple nom@exemple.fr."),
    ("new_email", "invalid"): _l("Saisissez une adresse électronique valide, par exemple nom@exemple.fr."),
    ("new_email", "same"): _l("C'est déjà l'adresse de votre compte."),
    ("given_name", "required"): _l("Saisissez votre prénom."),
    ("family_name", "required"): _l("Saisissez votre nom."),
    ("given_name", "control"): _l("Le prénom tient sur une seule ligne, sans caractères invisibles ou de contrôle."),
    ("family_name", "control"): _l("Le nom tient sur une seule ligne, sans caractères invisibles ou de contrôle."),
    ("given_name", "too_long"): _l("Le prénom est trop long."),
    ("family_name", "too_long"): _l("Le nom est trop long."),
    ("terms", "required"): _l("Vous devez accepter les conditions d'utilisation pour vous inscrire."),
    ("password", "required"): _l("Saisissez un mot de passe."),
    ("password_confirm", "mismatch"): _l("Les deux mots de passe ne sont pas identiques."),
    ("current_password", "wrong"): _l("Le mot de passe actuel est incorrect."),
    ("code", "wrong"): _l("Ce code n'est pas valable. Saisissez le code à 6 chiffres affiché par votre application."),
    ("code", "wrong_recovery"): _l("Ce code de secours n'est pas valable ou a déjà servi."),
}
LINK_MESSAGES = {
    "invalid": _l("Ce lien n'est pas valable. Vérifiez que vous avez copié l'adresse complète du courriel."),
    "used": _l("Ce lien a déjà été utilisé ou a été remplacé par un lien plus récent."),
    "expired": _l("Ce lien a expiré."),
    "taken": _l("Cette adresse est désormais celle d'un autre compte : elle ne peut pas devenir la vôtre."),
}


def words(problems: Problems) -> dict[str, str]:
    errors = {}
    for field, code in problems.errors.items():
        if code == "weak":
            unmet = ", ".join(str(RULE_TEXT[r]) for r in RULES if r in problems.unmet)
            errors[field] = _("Le mot de passe doit respecter ces règles : %(rules)s.", rules=unmet)
        else:
            errors[field] = str(MESSAGES.get((field, code), MESSAGES.get(("email", code), code)))
    return errors


def rules_context() -> dict:
    return {"password_rules": [(code, RULE_TEXT[code]) for code in RULES]}


def signed_in(view):
    """The account pages need a complete session (second factor given when the account has one)."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        session = sessions.current_session()
        if not is_complete(session):
            return redirect(url_for("login.signin", next=request.full_path.rstrip("?")))
        account = accounts.get(session.account_id)
        if account is None or account.status != "active":
            return redirect(url_for("login.signin", next="/account"))
        speak_by_default(account.locale)
        return view(session, account, *args, **kwargs)

    return wrapper


PER_ADDRESS_FREE = 20  # requests from one network address before delays start (offices share addresses)


def throttled_by_address(scope: str) -> int:
    return throttle.wait_seconds(scope, f"ip:{request.remote_addr}", free=PER_ADDRESS_FREE)


def link_problem(problem: LinkProblem, purpose: str):
    return render_template("idp/account/link_problem.html", message=LINK_MESSAGES[problem.code],
                           purpose=purpose), 410 if problem.code in ("used", "expired") else 400


# -- registration and activation ------------------------------------------------------------------

def started_from() -> tuple[str, str | None]:
    """The interaction a self-service page was reached from (``?interaction=``) and its portal."""
    uid = request.args.get("interaction", "")
    return uid, returning.client_of(uid)


@bp.route("/registration", methods=["GET", "POST"])
def registration():
    form, errors = {}, {}
    uid, return_client = started_from()
    if request.method == "POST":
        form = {name: request.form.get(name, "").strip() for name in ("email", "given_name", "family_name")}
        wait = throttled_by_address("registration")
        if wait:
            errors["email"] = _("Trop de demandes. Réessayez dans %(seconds)s secondes.", seconds=wait)
        else:
            try:
                lifecycle.register(form["email"], request.form.get("terms") == "yes", select_locale(),
                                   form["given_name"], form["family_name"], return_client)
            except Problems as problems:
                errors = words(problems)
            except lifecycle.RegistrationThrottled as throttled:
                errors["email"] = _("Trop de demandes pour cette adresse. Réessayez dans %(seconds)s secondes.",
                                    seconds=throttled.seconds)
            else:
                throttle.failure("registration", f"ip:{request.remote_addr}")  # counts requests, not failures
                return render_template("idp/account/check_mail.html", email=form["email"], purpose="registration",
                                       interaction=uid if return_client else "")
    return render_template("idp/account/registration.html", form=form, errors=errors,
                           interaction=uid if return_client else "", **rules_context()), (400 if errors else 200)


@bp.route("/activate/<token>", methods=["GET", "POST"])
def activate(token: str):
    try:
        link, account = lifecycle.peek_link(token, "activation")
    except LinkProblem as problem:
        return link_problem(problem, "activation")
    g.brand_client_id = (link.data or {}).get("client_id") or (link.data or {}).get(returning.LINK_KEY) or ""
    speak_invitation_language(account.locale)
    errors = {}
    if request.method == "POST":
        try:
            account, data = lifecycle.activate(token, request.form.get("password"), request.form.get("password_confirm"))
        except Problems as problems:
            errors = words(problems)
        except LinkProblem as problem:
            return link_problem(problem, "activation")
        else:
            return _after_activation(account, data)
    return render_template("idp/account/activate.html", token=token, email=account.email,
                           errors=errors, **rules_context()), (400 if errors else 200)


def speak_invitation_language(locale: str | None) -> None:
    """Below the person's explicit choice: the language they were invited in, then their browser's."""
    browser = request.accept_languages.best_match(LANGUAGES)
    g.ui_locales = [code for code in (locale, browser) if code]
    refresh()


def _after_activation(account, data: dict):
    """An invited person lands signed in on the inviting portal; a registered one signs in, at the
    portal the registration started from when it started from one."""
    client = clients.get(data.get("client_id"))
    if client is None:
        return render_template("idp/account/activated.html", way_back=returning.way_back(data.get(returning.LINK_KEY)))
    session = login_flow.open_session(account.id, ["pwd"], via="invitation")
    response = redirect(clients.login_url(client))
    sessions.set_cookie(response, session)
    return response


@bp.route("/activate", methods=["GET", "POST"])
def resend_activation():
    errors = {}
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        if not lifecycle.valid_email(email):
            errors["email"] = str(MESSAGES[("email", "invalid")])
        elif wait := throttled_by_address("resend") or throttle.wait_seconds("resend", f"id:{email}"):
            errors["email"] = _("Trop de demandes. Réessayez dans %(seconds)s secondes.", seconds=wait)
        else:
            throttle.failure("resend", f"ip:{request.remote_addr}", f"id:{email}")
            lifecycle.resend_activation(email, select_locale())
            return render_template("idp/account/check_mail.html", email=email, purpose="activation")
    return render_template("idp/account/resend.html", errors=errors), (400 if errors else 200)


# -- "Mot de passe oublié ?" ------------------------------------------------------------------------

@bp.route("/recovery", methods=["GET", "POST"])
def recovery():
    errors, status = {}, 400
    uid, return_client = started_from()
    email = _typed_address(uid) if request.method == "GET" else ""
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        if not lifecycle.valid_email(email):
            errors["email"] = str(MESSAGES[("email", "invalid")])
        else:  # requests per network address: idp.web.limits (Flask-Limiter)
            try:
                lifecycle.request_recovery(email, select_locale(), return_client)
            except lifecycle.RecoveryThrottled as throttled:
                errors["email"] = _("Une demande a déjà été faite récemment pour cette adresse. Si elle correspond "
                                    "à un compte, le message est parti : vérifiez votre boîte de réception et vos "
                                    "courriers indésirables.") + " " + wait_text(throttled.seconds)
                status = 429
            else:
                return render_template("idp/account/check_mail.html", email=email, purpose="recovery",
                                       interaction=uid if return_client else "")
    return render_template("idp/account/recovery.html", errors=errors, email=email,
                           interaction=uid if return_client else ""), (status if errors else 200)


def _typed_address(uid: str) -> str:
    """The address this browser just typed on the sign-in page (seed 000 §5: "Entrez votre adresse
    email", then "Mot de passe oublié ?"). Only from the browser's own interaction, and only what it
    typed, so the page tells nothing about any account."""
    interaction = interactions.load(uid) if uid and len(uid) <= 64 else None
    typed = interaction.identifier if interaction else None
    return typed if typed and lifecycle.valid_email(typed) else ""


@bp.route("/recovery/<token>", methods=["GET", "POST"])
def reset(token: str):
    try:
        link, _account = lifecycle.peek_link(token, "reset")
    except LinkProblem as problem:
        return link_problem(problem, "reset")
    return_client = (link.data or {}).get(returning.LINK_KEY)
    g.brand_client_id = return_client or ""
    errors = {}
    if request.method == "POST":
        try:
            account = lifecycle.reset_password(token, request.form.get("password", ""),
                                               request.form.get("password_confirm", ""))
        except Problems as problems:
            errors = words(problems)
        except LinkProblem as problem:
            return link_problem(problem, "reset")
        else:
            response = Response(render_template("idp/account/reset_done.html",
                                                way_back=returning.way_back(return_client)))
            sessions.clear_cookie(response)
            devices.remember(response, account.id)  # the reset link proved the address: a known device
            return response
    return render_template("idp/account/reset.html", token=token, errors=errors,
                           **rules_context()), (400 if errors else 200)


# -- the account page ------------------------------------------------------------------------------

@bp.get("/account")
@signed_in
def overview(session, account):
    from idp.storage.sql.federation import FEDERATED_EMAIL_DOMAIN

    # an account made by a FranceConnect-style sign-in holds a placeholder address and no password
    own_address = not account.email.endswith("@" + FEDERATED_EMAIL_DOMAIN)
    return render_template("idp/account/overview.html", account=account, current=session.sid,
                           own_address=own_address, has_password=account.password_hash is not None,
                           devices=account_view.devices_of(account.id), second_factor=mfa.is_enabled(account.id),
                           any_factor=mfa.has_second_factor(account.id),
                           recovery_left=mfa.remaining_recovery_codes(account.id),
                           passkey_count=passkeys.count_for(account.id),
                           services=account_view.services_of(account.id), notice=request.args.get("done"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password(session, account):
    errors = {}
    if request.method == "POST":
        try:
            lifecycle.change_password(account.id, request.form.get("current_password", ""),
                                      request.form.get("password", ""), request.form.get("password_confirm", ""),
                                      keep_sid=session.sid)
        except Problems as problems:
            errors = words(problems)
        else:
            return redirect(url_for("account.overview", done="password"))
    return render_template("idp/account/password.html", errors=errors, **rules_context()), (400 if errors else 200)


@bp.route("/account/email", methods=["GET", "POST"])
@signed_in
def change_email(session, account):
    if mailbox_proof.outstanding(session):  # a password alone never moves the account elsewhere
        return mailbox_check.ask("email")
    errors, new_email = {}, ""
    if request.method == "POST":
        new_email = request.form.get("new_email", "").strip()
        try:
            lifecycle.request_email_change(account.id, new_email, request.form.get("current_password", ""),
                                           sid=session.sid, session_amr=session.amr)
        except Problems as problems:
            errors = words(problems)
        except mailbox_proof.ProofRequired:
            return mailbox_check.ask("email")
        else:
            return render_template("idp/account/check_mail.html", email=new_email, purpose="email_change")
    return render_template("idp/account/email.html", account=account, errors=errors, new_email=new_email,
                           losing=account_view.services_losing_content(account.id)), (400 if errors else 200)


@bp.route("/email-change/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    try:
        link, _account = lifecycle.peek_link(token, "email_change")
    except LinkProblem as problem:
        return link_problem(problem, "email_change")
    if request.method == "POST":
        try:
            account = lifecycle.confirm_email_change(token)
        except LinkProblem as problem:
            return link_problem(problem, "email_change")
        return render_template("idp/account/email_changed.html", email=account.email)
    return render_template("idp/account/email_confirm.html", token=token, new_email=link.data.get("new_email"),
                           losing=account_view.services_losing_content(link.account_id))


# -- second factor ---------------------------------------------------------------------------------

def _setup_account(uid: str | None):
    """Enrolment from the account page, or inside a sign-in whose client requires a second factor."""
    session = sessions.current_session()
    if uid:
        interaction = interactions.load(uid)
        if session is None or interaction is None or interaction.authenticated_at is None:
            abort(404)
        return session, accounts.get(session.account_id)
    if not is_complete(session):
        return None, None
    return session, accounts.get(session.account_id)


@bp.route("/account/totp", methods=["GET", "POST"], defaults={"uid": None})
@bp.route("/interaction/<uid>/totp/setup", methods=["GET", "POST"])
def totp_setup(uid: str | None):
    session, account = _setup_account(uid)
    if account is None:
        return redirect(url_for("login.signin", next="/account/totp"))
    if not mfa.may_change_factor(account.id, session.amr):
        # the account has a factor this session has not proven: prove it first, never replace it
        if uid:
            return redirect(url_for("account.totp_challenge", uid=uid))
        return redirect(url_for("login.signin", next="/account/totp"))
    if mailbox_proof.outstanding(session):
        return mailbox_check.ask("totp", uid)
    secret = mfa.start_enrolment(account.id, session.amr)
    errors = {}
    if request.method == "POST":
        try:
            codes = mfa.confirm_enrolment(account.id, request.form.get("code", ""), session.amr, keep_sid=session.sid)
        except mailbox_proof.ProofRequired:  # the proof expired while the person set up their app
            return mailbox_check.ask("totp", uid)
        if codes is None:
            errors["code"] = str(MESSAGES[("code", "wrong")])
        else:
            sessions.add_methods(session, *SECOND_FACTOR_AMR)  # possession just proven
            next_url = url_for("login.resume_login", uid=uid) if uid else url_for("account.overview", done="totp")
            if uid:
                login_flow.mark_done(uid, "second_factor_step")
            response = Response(render_template("idp/account/totp_codes.html", codes=codes, next_url=next_url,
                                                activated=True))
            devices.remember(response, account.id, second_factor=True)  # the code was just proven here
            return response
    return render_template("idp/account/totp_setup.html", secret=secret, uid=uid, errors=errors,
                           required_by_client=bool(uid)), (400 if errors else 200)


@bp.get("/account/totp/qr.svg")
def totp_qr():
    session = sessions.current_session()
    secret = mfa.pending_secret(session.account_id) if session else None
    if not secret:
        abort(404)
    svg = mfa.qr_svg(mfa.provisioning_uri(secret, accounts.get(session.account_id).email))
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@bp.post("/account/totp/disable")
@signed_in
def totp_disable(session, account):
    from idp.services.passwords import verify_password

    if not verify_password(account.password_hash, request.form.get("current_password", "")).ok:
        return render_template("idp/account/totp_disable_error.html"), 400
    mfa.disable(account.id, session.amr, keep_sid=session.sid)
    return redirect(url_for("account.overview", done="totp_off"))


@bp.post("/account/totp/recovery-codes")
@signed_in
def totp_new_codes(session, account):
    if not mfa.has_second_factor(account.id):
        abort(404)
    return render_template("idp/account/totp_codes.html", codes=mfa.regenerate_recovery_codes(account.id),
                           next_url=url_for("account.overview"))


@bp.route("/interaction/<uid>/totp", methods=["GET", "POST"])
def totp_challenge(uid: str):
    session = session_at_second_factor(uid)
    if session is None:
        return redirect(url_for("login.identifier", uid=uid))
    errors, status = {}, 200
    if request.method == "POST":
        try:
            used = check_code(session.account_id, request.form.get("code", ""))
        except mfa.Throttled as throttled:
            errors["code"], status = login_flow.too_many_attempts(throttled.seconds), 429
        else:
            if used:
                audit.record("second_factor", session.account_id, method=used)
                return second_factor_proven(session, uid, SECOND_FACTOR_AMR, ("second_factor_step",))
            errors["code"], status = str(MESSAGES[("code", "wrong" if mfa.is_enabled(session.account_id)
                                                  else "wrong_recovery")]), 400
    return render_template("idp/account/totp_challenge.html", uid=uid, errors=errors,
                           totp=mfa.is_enabled(session.account_id)), status


@bp.get("/terms")
def terms():
    return render_template("idp/account/terms.html")
