"""Federation pages (thin routes): the provider choice, the upstream round trip, the upstream logout return.

- ``GET  /interaction/<uid>/providers``  the FranceConnect-like choice of upstream provider;
- ``POST /federation/<provider>/start``  sends the browser to the chosen provider (state, nonce, PKCE);
- ``GET  /federation/callback``          the provider's answer → account → back to the authorization;
- ``GET  /federation/logged-out``        the upstream end_session's return during logout;
- ``POST /federation/<provider>/backchannel-logout``  the provider's back-channel logout token.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, redirect, render_template, request
from flask_babel import gettext as _

from idp.flows import federation as flow
from idp.flows import upstream_logout
from idp.oidc.logout import LOGOUT_HOOKS
from idp.services import browser, sessions
from idp.upstream.registry import get_upstream, get_upstreams
from shared.appkit import get_db, get_redis, get_settings
from shared.web import csrf

bp = Blueprint("federation", __name__)
flow.register_federation_claims()

STATUS = {"expired": 400, "access_denied": 400, "upstream_error": 400, "invalid_identity": 400,
          "provider_not_offered": 400, "unavailable": 502, "invalid_response": 502, "invalid_id_token": 502,
          "acr_too_low": 403, "identity_conflict": 403, "account_unavailable": 403, "unknown_interaction": 400}


def callback_uri() -> str:
    return get_settings().issuer + "/federation/callback"


def logout_return_uri() -> str:
    return get_settings().issuer + "/federation/logged-out"


def level_label(acr: str | None) -> str:
    names = {"eidas1": _("faible"), "eidas2": _("substantiel"), "eidas3": _("élevé")}
    return _("eIDAS %(level)s", level=names[acr]) if acr in names else ""


def error_message(code: str, provider: str | None, required_acr: str | None) -> str:
    upstream = get_upstream(provider) if provider else None
    name = upstream.describe().display_name if upstream else _("le fournisseur d'identité")
    messages = {
        "expired": _("Cette tentative de connexion a expiré ou a déjà été utilisée. Revenez au service "
                     "auquel vous vouliez accéder et recommencez."),
        "unknown_interaction": _("Cette demande de connexion a expiré. Revenez au service auquel vous vouliez "
                                 "accéder et recommencez."),
        "access_denied": _("Vous avez annulé la connexion auprès de %(provider)s.", provider=name),
        "upstream_error": _("%(provider)s a refusé la demande de connexion. Réessayez ou choisissez un autre "
                            "fournisseur d'identité.", provider=name),
        "unavailable": _("%(provider)s ne répond pas pour le moment. Réessayez dans quelques minutes ou choisissez "
                         "un autre fournisseur d'identité.", provider=name),
        "invalid_response": _("La réponse de %(provider)s n'a pas pu être vérifiée. Par sécurité, la connexion "
                              "est refusée.", provider=name),
        "invalid_id_token": _("La réponse de %(provider)s n'a pas pu être vérifiée. Par sécurité, la connexion "
                              "est refusée.", provider=name),
        "acr_too_low": _("Le niveau de garantie de la connexion fournie par %(provider)s est insuffisant pour ce "
                         "service, qui exige le niveau %(level)s. Choisissez un fournisseur d'identité qui le "
                         "propose.", provider=name, level=level_label(required_acr) or "?"),
        "provider_not_offered": _("Ce fournisseur d'identité n'est pas proposé pour ce service."),
        "invalid_identity": _("%(provider)s n'a pas transmis une identité complète (nom, prénoms, date, lieu et "
                              "pays de naissance, sexe). La connexion ne peut pas aboutir.", provider=name),
        "identity_conflict": _("L'identité transmise par %(provider)s correspond à un autre compte. Contactez le "
                               "support.", provider=name),
        "account_unavailable": _("Le compte associé à cette identité est désactivé. Contactez le support."),
    }
    return messages.get(code, messages["invalid_response"])


def render_failure(failure: flow.FederationFailed):
    g.interaction_uid = failure.uid  # the page keeps the brand of the portal that sent the person
    return render_template("idp/federation/error.html", message=error_message(
        failure.code, failure.provider, failure.required_acr), code=failure.code, uid=failure.uid), \
        STATUS.get(failure.code, 400)


@bp.get("/interaction/<uid>/providers")
def providers(uid: str):
    interaction = flow.describe_interaction(uid)
    if interaction is None:
        return render_failure(flow.FederationFailed("unknown_interaction"))
    acr = interaction.required_acr
    offered = flow.offered_providers(get_upstreams(), acr, interaction.require_pivot)
    return render_template("idp/federation/providers.html", uid=uid, client_name=interaction.client_name,
                           providers=offered, required_acr=acr, level_label=level_label)


@bp.post("/federation/<provider>/start")
def start(provider: str):
    uid = request.form.get("uid", "")
    interaction = flow.describe_interaction(uid)
    if interaction is None:
        return render_failure(flow.FederationFailed("unknown_interaction"))
    upstream = get_upstream(provider)
    if upstream is None:
        abort(404)
    acr = interaction.required_acr
    try:
        return redirect(flow.start(get_redis(), upstream, uid, acr, callback_uri(), browser.binding(),
                                   interaction.require_pivot))
    except flow.FederationFailed as failure:
        return render_failure(failure)


@bp.get("/federation/callback")
def callback():
    try:
        done = flow.submit(get_redis(), get_db(), get_upstreams(), request.args.to_dict(), browser.binding())
    except flow.FederationFailed as failure:
        flow.record_event("federation_refused", None, provider=failure.provider, code=failure.code)
        return render_failure(failure)
    flow.record_event("federation_sign_in", done.account_id, provider=done.result.provider, acr=done.acr,
                      new_account=done.linked.created, new_link=done.linked.new_link)
    response = flow.complete_authentication(done)
    if response is None:
        return render_failure(flow.FederationFailed("unknown_interaction"))
    return response


@bp.get("/federation/logged-out")
def logged_out():
    target = flow.finish_upstream_logout(get_redis(), request.args.get("state"))
    if target:
        return redirect(target)
    return render_template("idp/federation/logged_out.html")


@bp.post("/federation/<provider>/backchannel-logout")
@csrf.exempt  # server to server: a signed logout token, no cookie, no browser
def backchannel_logout(provider: str):
    """OIDC Back-Channel Logout 1.0 §2.8: 200 once the sessions are ended, 400 with an error otherwise."""
    upstream = get_upstream(provider)
    token = request.form.get("logout_token", "")
    try:
        if upstream is None:
            raise upstream_logout.LogoutRefused("unknown_provider")
        if not token or len(token) > 16384:
            raise upstream_logout.LogoutRefused("invalid_request", "logout_token missing")
        done = upstream_logout.receive(get_redis(), get_db(), upstream, token, sessions)
    except upstream_logout.LogoutRefused as refused:
        flow.record_event("federation_logout_refused", None, provider=provider, code=refused.code)
        response = jsonify(error="invalid_request", error_description=refused.code)
        response.status_code = 400
    else:
        flow.record_event("federation_backchannel_logout", done.account_id, provider=provider,
                          sessions=len(done.ended))
        response = jsonify(sessions_ended=len(done.ended))
    response.headers["Cache-Control"] = "no-store"
    return response


def upstream_logout_url(session_data: dict | None, post_logout_redirect: str | None) -> str | None:
    """For the core's logout: where to send the browser to end the upstream session too.

    Returns ``None`` when the IdP session did not come through federation (or the provider has
    no end_session endpoint); otherwise the upstream end_session URL, which comes back to
    ``/federation/logged-out`` and then on to ``post_logout_redirect`` (or our logged-out page).
    Needs an application context.
    """
    return flow.begin_upstream_logout(get_redis(), get_upstreams(), session_data, post_logout_redirect,
                                      logout_return_uri())


def end_upstream_session(session, destination: str | None) -> str | None:
    """``idp.oidc.logout.LOGOUT_HOOKS`` entry: the core's logout calls it with the ending IdP session."""
    return upstream_logout_url(getattr(session, "context", None), destination)


if end_upstream_session not in LOGOUT_HOOKS:
    LOGOUT_HOOKS.append(end_upstream_session)
