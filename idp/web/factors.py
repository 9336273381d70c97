"""Recovery codes kept by the person (thin): downloaded as a text file or printed, and the help
page for someone who lost every factor (the way through the support desk).

The codes are never stored in clear: the page that shows them once posts them back to be
downloaded or printed, and only those still valid for the signed-in account are repeated."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _

from idp.services import mfa
from idp.web.account import signed_in
from shared.appkit import get_settings
from shared.timeutil import strasbourg_now

bp = Blueprint("factors", __name__)


def _codes(account) -> list[str]:
    return mfa.current_recovery_codes(account.id, request.form.getlist("code"))


@bp.post("/account/recovery-codes.txt")
@signed_in
def download(session, account):
    codes = _codes(account)
    lines = [_("Codes de secours du compte %(email)s", email=account.email),
             _("Créés le %(date)s. Chaque code ne sert qu'une fois ; gardez ce fichier en lieu sûr.",
               date=strasbourg_now().strftime("%d/%m/%Y %H:%M")), "", *codes, ""]
    return Response("\r\n".join(lines), mimetype="text/plain; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="codes-de-secours.txt"',
                             "Cache-Control": "no-store"})


@bp.post("/account/recovery-codes/print")
@signed_in
def print_page(session, account):
    return render_template("idp/account/recovery_codes_print.html", codes=_codes(account), email=account.email,
                           created=strasbourg_now())


@bp.get("/help/lost-factors")
def lost_factors():
    address = get_settings().section("account").get("support_address", "assistance@example.org")
    return render_template("idp/account/lost_factors.html", support_address=address)
