"""Console pages on registered clients: list, register, rotate the secret, redirect URIs,
policies, disable and enable (rules: idp.services.clients through idp.services.operations_clients)."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from idp.services import clients as registry
from idp.services import operations_clients as service
from idp.services.clients import AUTH_METHODS, GRANT_TYPES, NoSecret, RegistrationRefused
from idp.web.operations.blueprint import bp

REFUSALS = {  # one sentence per rule of idp.services.clients, in the operator's language
    "name_required": _l("Saisissez le nom du client."),
    "bad_uri": _l("« %(uri)s » n'est pas une adresse http(s) absolue sans fragment (#)."),
    "redirect_uri_needed": _l("Le flux authorization_code demande au moins une URI de redirection."),
    "scope_refused": _l("Le modèle d'autorisation (config/authorization.toml) ne permet pas de délivrer "
                        "%(scopes)s à ce client par %(grants)s."),
    "client_exists": _l("Un client porte déjà l'identifiant %(client_id)s."),
    "uri_too_long": _l("« %(uri)s » dépasse 2000 caractères : une URI de redirection doit être plus courte."),
    "uri_fragment": _l("« %(uri)s » contient un fragment (#) : une URI de redirection n'en a pas."),
    "uri_userinfo": _l("« %(uri)s » contient un nom ou un mot de passe avant l'hôte (@) : retirez-le."),
    "uri_wildcard": _l("« %(uri)s » contient « * » : les URI de redirection sont comparées exactement, "
                       "sans joker. Saisissez chaque adresse complète."),
    "uri_plain_http": _l("« %(uri)s » est en http : seul https est accepté, sauf pour une application "
                         "installée sur l'adresse de bouclage (127.0.0.1, [::1] ou localhost)."),
    "unknown_policy": _l("Politique inconnue : %(names)s. Rien n'a été modifié."),
}
POLICY_LABELS = {
    "require_mfa": _l("Second facteur exigé"),
    "require_par": _l("Requêtes d'autorisation par PAR uniquement (RFC 9126)"),
    "require_dpop": _l("Jetons liés par DPoP (RFC 9449)"),
    "require_federation": _l("Connexion par un fournisseur d'identité uniquement"),
    "require_pivot": _l("Identité pivot exigée (FranceConnect)"),
}
STATUS_NOTICES = {
    "registered": _l("Le client est enregistré."),
    "redirect_uris": _l("Les URI de redirection sont enregistrées."),
    "policies": _l("Les politiques sont enregistrées."),
    "disabled": _l("Le client est désactivé : plus aucune connexion ni aucun jeton ne lui est accordé."),
    "enabled": _l("Le client est réactivé."),
}


def refusal(error: ValueError) -> str:
    if isinstance(error, RegistrationRefused) and error.code in REFUSALS:
        return str(REFUSALS[error.code]) % error.params
    return _("L'enregistrement est refusé : %(reason)s", reason=str(error))


def client_or_404(client_id: str):
    client = service.find(client_id)
    if client is None:
        abort(404)
    return client


@bp.get("/clients")
def clients():
    return render_template("idp/operations/clients.html", clients=service.listing())


def registration_form() -> service.Registration:
    form = request.form
    return service.Registration(
        name=form.get("name", ""), client_id=form.get("client_id", "").strip() or None,
        redirect_uris=service.lines(form.get("redirect_uris")),
        post_logout_redirect_uris=service.lines(form.get("post_logout_redirect_uris")),
        backchannel_logout_uri=form.get("backchannel_logout_uri", "").strip() or None,
        auth_method=form.get("auth_method", "client_secret_basic"), grant_types=form.getlist("grant_types"),
        scope=" ".join(form.get("scope", "").split()), first_party=bool(form.get("first_party")),
        require_par=bool(form.get("require_par")), jwks_uri=form.get("jwks_uri", "").strip() or None)


@bp.route("/clients/new", methods=["GET", "POST"])
def register_client():
    errors = {}
    if request.method == "POST":
        try:
            client, secret = service.register(g.operator.id, registration_form())
        except ValueError as error:
            field = "name" if getattr(error, "code", "") == "name_required" else (
                "scope" if getattr(error, "code", "") == "scope_refused" else "redirect_uris")
            errors[field] = refusal(error)
        else:
            return render_template("idp/operations/client_secret.html", client=client, secret=secret, new=True)
    return render_template("idp/operations/client_new.html", errors=errors, form=request.form,
                           auth_methods=[(m, m) for m in AUTH_METHODS],
                           grant_types=[(g_, g_) for g_ in GRANT_TYPES]), (400 if errors else 200)


def detail(client, errors=None, status=200, typed=None):
    """``typed``: a refused form's own text, shown again so the operator corrects it (nothing was saved)."""
    return render_template("idp/operations/client.html", client=client, errors=errors or {}, typed=typed,
                           policies=[(key, POLICY_LABELS[key]) for key in service.SWITCHABLE_POLICIES],
                           policies_on=[key for key in service.SWITCHABLE_POLICIES if client.policy.get(key)],
                           notice=STATUS_NOTICES.get(request.args.get("done", "")),
                           has_secret=client.token_endpoint_auth_method in (*registry.SECRET_METHODS,
                                                                             "client_secret_jwt")), status


@bp.get("/clients/<client_id>")
def client(client_id: str):
    return detail(client_or_404(client_id))


@bp.post("/clients/<client_id>/redirect-uris")
def client_redirect_uris(client_id: str):
    current = client_or_404(client_id)
    try:
        service.change_redirect_uris(g.operator.id, client_id, service.lines(request.form.get("redirect_uris")),
                                     service.lines(request.form.get("post_logout_redirect_uris")))
    except ValueError as error:
        return detail(current, {"redirect_uris": refusal(error)}, 400, typed={
            name: request.form.get(name, "") for name in ("redirect_uris", "post_logout_redirect_uris")})
    return redirect(url_for("operations.client", client_id=client_id, done="redirect_uris"), 303)


@bp.post("/clients/<client_id>/policies")
def client_policies(client_id: str):
    current = client_or_404(client_id)
    try:
        service.change_policies(g.operator.id, client_id, set(request.form.getlist("policies")))
    except ValueError as error:
        return detail(current, {"policies": refusal(error)}, 400)
    return redirect(url_for("operations.client", client_id=client_id, done="policies"), 303)


@bp.post("/clients/<client_id>/secret")
def client_secret(client_id: str):
    client = client_or_404(client_id)
    try:
        secret = service.rotate_secret(g.operator.id, client_id)
    except NoSecret:
        return detail(client, {"secret": _("Ce client ne s'authentifie pas par un secret : il n'y a rien à "
                                           "renouveler.")}, 400)
    return render_template("idp/operations/client_secret.html", client=client, secret=secret, new=False)


@bp.post("/clients/<client_id>/disable")
def client_disable(client_id: str):
    client_or_404(client_id)
    service.set_disabled(g.operator.id, client_id, True)
    return redirect(url_for("operations.client", client_id=client_id, done="disabled"), 303)


@bp.post("/clients/<client_id>/enable")
def client_enable(client_id: str):
    client_or_404(client_id)
    service.set_disabled(g.operator.id, client_id, False)
    return redirect(url_for("operations.client", client_id=client_id, done="enabled"), 303)
