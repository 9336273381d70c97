"""Console pages on signing keys: the list, publish, sign with the published keys, retire."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from idp.services import operations_keys as service
from idp.web.operations.blueprint import bp

STATES = {"active": _l("Signe les jetons"), "next": _l("Publiée, pas encore utilisée"),
          "published": _l("Publiée pour vérifier les anciens jetons"), "retired": _l("Retirée")}
NOTICES = {"published": _l("Les nouvelles clés sont publiées dans /jwks ; elles ne signent encore rien."),
           "activated": _l("Les nouvelles clés signent désormais les jetons ; les anciennes restent publiées."),
           "retired": _l("La clé est retirée de /jwks : les jetons qu'elle a signés ne sont plus vérifiables.")}


def keys_page(errors=None, status=200):
    rows = service.listing()
    return render_template("idp/operations/keys.html", keys=rows, states=STATES, errors=errors or {},
                           waiting=any(row["state"] == "next" for row in rows), wait=service.waiting_seconds(),
                           notice=NOTICES.get(request.args.get("done", ""))), status


@bp.get("/keys")
def keys():
    return keys_page()


@bp.post("/keys/publish")
def keys_publish():
    service.publish(g.operator.id)
    return redirect(url_for("operations.keys", done="published"), 303)


@bp.post("/keys/activate")
def keys_activate():
    try:
        service.activate(g.operator.id)
    except service.TooEarly as early:
        return keys_page({"activate": _("Les nouvelles clés sont publiées depuis trop peu de temps : des clients "
                                        "gardent encore l'ancien /jwks en cache. Réessayez dans %(seconds)s "
                                        "secondes.", seconds=early.seconds)}, 409)
    except ValueError:
        return keys_page({"activate": _("Aucune nouvelle clé n'attend : publiez d'abord de nouvelles clés.")}, 409)
    return redirect(url_for("operations.keys", done="activated"), 303)


@bp.post("/keys/<kid>/retire")
def key_retire(kid: str):
    try:
        service.retire(g.operator.id, kid)
    except service.StillVerifying as waiting:
        return keys_page({"retire": _("Des jetons signés par cette clé sont encore valables : elle pourra être "
                                      "retirée dans %(minutes)s min.", minutes=waiting.seconds // 60 + 1)}, 409)
    except ValueError:
        return keys_page({"retire": _("Cette clé ne peut pas être retirée : elle signe les jetons, elle attend "
                                      "de les signer, ou elle n'existe pas.")}, 409)
    return redirect(url_for("operations.keys", done="retired"), 303)
