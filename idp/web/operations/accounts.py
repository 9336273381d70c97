"""Console pages on accounts: search, the account's status and reason, reactivation, the second
factor's reset after an identity check, ending sessions (rules: idp.services.operations_accounts)."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from idp.services import operations_accounts as service
from idp.web.operations.blueprint import bp

STATUS_LABELS = {"pending": _l("En attente de validation"), "active": _l("Actif"), "deactivated": _l("Désactivé")}
REASON_LABELS = {
    "dormant": _l("Sans connexion depuis 16 mois"),
    "activation_expired": _l("Lien d'activation jamais utilisé"),
    "invalidated_by_admin": _l("Inscription invalidée par l'administrateur d'une organisation"),
    "by_support": _l("Désactivé par l'assistance"),
}
RESET_ERRORS = {
    ("check", "required"): _l("Choisissez la vérification d'identité que vous avez faite."),
    ("check", "invalid"): _l("Choisissez une des vérifications d'identité proposées."),
    ("reference", "required"): _l("Saisissez la référence de la vérification (dossier, courrier, appel)."),
    ("reference", "control"): _l("La référence tient sur une seule ligne, sans caractères invisibles ou de contrôle."),
    ("reference", "too_long"): _l("La référence est trop longue (100 caractères au plus)."),
}
NOT_APPLICABLE = {
    "not_deactivated": _l("Ce compte n'est pas désactivé."),
    "no_second_factor": _l("Ce compte n'a pas de validation en deux étapes."),
    "own_account": _l("Un autre opérateur doit réinitialiser votre propre validation en deux étapes."),
}
NOTICES = {
    "reactivated": _l("Le compte est réactivé."),
    "sessions_ended": _l("Les sessions sont fermées et les jetons de rafraîchissement révoqués."),
    "session_ended": _l("La session est fermée."),
    "second_factor_reset": _l("La validation en deux étapes est réinitialisée ; la personne en est informée par "
                              "courriel."),
}


@bp.get("/accounts")
def accounts():
    query = request.args.get("q", "")
    page = request.args.get("page", "1")
    found = service.search(query, int(page) if page.isdigit() else 1)
    pages = [(n, url_for("operations.accounts", q=query, page=n)) for n in range(1, found.pages + 1)]
    return render_template("idp/operations/accounts.html", query=query, found=found, pages=pages,
                           statuses=STATUS_LABELS)


def account_page(account_id: str, errors=None, status=200, form=None):
    seen = service.view(account_id)
    if seen is None:
        abort(404)
    return render_template("idp/operations/account.html", seen=seen, statuses=STATUS_LABELS, reasons=REASON_LABELS,
                           checks=list(service.check_labels().items()), errors=errors or {}, form=form or {},
                           notice=NOTICES.get(request.args.get("done", ""))), status


@bp.get("/accounts/<account_id>")
def account(account_id: str):
    return account_page(account_id)


def existing(account_id: str) -> None:
    if service.view(account_id) is None:
        abort(404)


@bp.post("/accounts/<account_id>/reactivate")
def account_reactivate(account_id: str):
    existing(account_id)
    try:
        service.reactivate(g.operator.id, account_id)
    except service.NotApplicable as refused:
        return account_page(account_id, {"actions": str(NOT_APPLICABLE[str(refused)])}, 409)
    return redirect(url_for("operations.account", account_id=account_id, done="reactivated"), 303)


@bp.post("/accounts/<account_id>/sessions/end")
def account_end_sessions(account_id: str):
    existing(account_id)
    sid = request.form.get("sid") or None
    try:
        service.end_sessions(g.operator.id, account_id, sid)
    except LookupError:
        abort(404)  # a session id of another account (or none): nothing is ended
    return redirect(url_for("operations.account", account_id=account_id,
                            done="session_ended" if sid else "sessions_ended"), 303)


@bp.post("/accounts/<account_id>/second-factor/reset")
def account_reset_second_factor(account_id: str):
    existing(account_id)
    try:
        service.reset_second_factor(g.operator.id, account_id, request.form.get("check", ""),
                                    request.form.get("reference", ""))
    except service.ResetRefused as refused:
        errors = {field: str(RESET_ERRORS[(field, code)]) for field, code in refused.errors.items()}
        return account_page(account_id, errors, 400, request.form)
    except service.NotApplicable as refused:
        return account_page(account_id, {"check": str(NOT_APPLICABLE[str(refused)])}, 409)
    return redirect(url_for("operations.account", account_id=account_id, done="second_factor_reset"), 303)
