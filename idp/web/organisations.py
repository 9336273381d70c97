"""Organisation pages at the IdP (seed 002): registration as user or administrator, "Mes
organisations", the organisation choice and switch, the administrator's console, and the legal
representative's code entry. Routes are thin: rules live in idp.services.organisations and
idp.flows.org_registration; the IdP session (who is signed in, which organisation the session
acts for) comes from idp.services.sessions.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from idp.flows import org_registration
from idp.flows.steps import register_step
from idp.oidc.claims import register_claims
from idp.services import lifecycle, permissions, returning, text_fields
from idp.services import organisations as orgs
from idp.services.org_letter import date_fr
from idp.services.permissions import KINDS, NotAllowed, NotFound
from idp.storage.sql.organisations import OrganisationStore
from idp.web.limits import wait_text
from shared.appkit import get_db
from shared.timeutil import utcnow
from shared.web import safe_local_path

bp = Blueprint("organisations", __name__, url_prefix="/organisations")


@bp.before_request
def wear_the_portals_brand() -> None:
    """These pages are the organisations portal's (seed 002): its name, logo and help, whichever way
    the person came (config/idp.toml [organisations] portal_client), unless the page belongs to an
    interaction, whose client decides."""
    portal = orgs.portal_client_id()
    if portal and not (request.args.get("interaction") or request.form.get("interaction")):
        g.brand_client_id = portal


# ----------------------------------------------------------------------------------------------
# The IdP session, as the core publishes it (idp.services.sessions): who is signed in, and the
# organisation the session acts for (kept in the session context under "organisation_id").


@dataclass
class SignedIn:
    account_id: str
    sid: str | None
    context: dict


def organisation_claims(account, _client, context: dict) -> dict:
    """Scope ``organisation``: org (id + name), org_role, eservices — for the organisation the IdP
    session acts for (the one chosen, or the only one); nothing when there is none."""
    with store() as s:
        organisation_id = permissions.acting_organisation(s, account.id, context.get("organisation_id"))
        return permissions.organisation_context(s, account.id, organisation_id)


register_claims("organisation", organisation_claims, ["org", "org_role", "eservices"])


def registrations_activated(session, account) -> None:
    """Activation hook: the administrators hear of this person's registrations once the address is proven."""
    orgs.registrations_activated(OrganisationStore(session), account)


if registrations_activated not in lifecycle.ACTIVATION_HOOKS:
    lifecycle.ACTIVATION_HOOKS.append(registrations_activated)


def expire_undecided(now) -> dict[str, int]:
    """Housekeeping: registrations and organisations nobody decided expire ([organisations] periods)."""
    with store() as s:
        return orgs.expire_undecided(s, now)


if expire_undecided not in lifecycle.HOUSEKEEPING_JOBS:
    lifecycle.HOUSEKEEPING_JOBS.append(expire_undecided)


@register_step
def choose_organisation(interaction, account) -> str | None:
    """Post-login step: a person with several organisations says which one this session acts for."""
    if "organisation" not in interaction.params.get("scope", "").split():
        return None
    with store() as s:
        choices = {c["id"] for c in permissions.active_organisations(s, account.id)}
    if len(choices) <= 1:
        return None
    from idp.services.sessions import current_session

    record = current_session()
    if record is not None and record.context.get("organisation_id") in choices:
        return None
    return url_for("organisations.choose", interaction=interaction.uid)


def signed_in() -> SignedIn | None:
    from idp.services import sessions

    record = sessions.current_session()
    if record is None:
        return None
    return SignedIn(record.account_id, record.sid, dict(getattr(record, "context", None) or {}))


def login_url(next_path: str) -> str:
    return url_for("login.signin", next=next_path)


def current_organisation_id(who: SignedIn) -> str | None:
    """The organisation the session acts for: the chosen one while still valid, else the only one."""
    with store() as s:
        return permissions.acting_organisation(s, who.account_id, who.context.get("organisation_id"))


def set_current_organisation(who: SignedIn, organisation_id: str) -> None:
    from idp.services.sessions import update_session_context

    update_session_context(who.sid, organisation_id=organisation_id)
    who.context["organisation_id"] = organisation_id


def return_target(values) -> str:
    """Back to a portal's sign-in (``client_id``: it gets tokens for the new organisation), or a local page."""
    client_id = values.get("client_id")
    if client_id:
        from idp.storage.sql.models import Client

        with get_db().session() as session:
            client = session.get(Client, client_id)
            uris = list(client.post_logout_redirect_uris or []) if client else []
        if uris:
            return uris[0].rstrip("/") + "/login"
    return safe_local_path(values.get("next"), url_for("organisations.mine"))


def start_activation(s: OrganisationStore, account, return_client: str | None = None) -> None:
    """A new account: the account lifecycle sends the activation link (which keeps the portal the
    registration started from, ``return_client``); we send the identifier."""
    from idp.storage.sql.outbox import OutboxMessage

    lifecycle.check_registration_rate(account.email)  # RegistrationThrottled: nothing is written

    # No name typed in the form here: this address is not verified yet, and whoever registered may
    # not own it; the identifier is built from the names but holds only a-z, digits and hyphens.
    body = _("Bonjour,\n\nVotre inscription sur le portail e-services est enregistrée.\n"
             "Votre identifiant : %(username)s (vous pouvez aussi vous connecter avec votre adresse "
             "électronique).\n\nActivez votre compte en cliquant sur le lien du courriel d'activation.",
             username=account.username)
    s.session.add(OutboxMessage(channel="email", recipient=account.email, locale=locale(),
                                subject=_("Votre inscription sur le portail e-services"), body_text=body))
    from idp.services.lifecycle import send_activation

    send_activation(s.session, account, return_client=return_client)


def send_activation_again(s: OrganisationStore, account) -> None:
    """"Renouvelez votre inscription": the account lifecycle sends a new activation link."""
    lifecycle.check_registration_rate(account.email)
    lifecycle.send_new_activation(s.session, account)


def tell_existing_account(s: OrganisationStore, account) -> None:
    from idp.storage.sql.outbox import OutboxMessage

    lifecycle.check_registration_rate(account.email)  # the same count for every address

    body = _("Bonjour,\n\nUne inscription sur le portail e-services a été demandée avec cette adresse, qui "
             "a déjà un compte. Connectez-vous, puis inscrivez-vous dans votre organisation depuis la page "
             "« Mes organisations ».\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce courriel.")
    s.session.add(OutboxMessage(channel="email", recipient=account.email, locale=account.locale or "fr",
                                subject=_("Votre inscription sur le portail e-services"), body_text=body))


@contextlib.contextmanager
def store() -> Iterator[OrganisationStore]:
    with get_db().session() as session:
        organisation_store = OrganisationStore(session)
        yield organisation_store
    for action in organisation_store.after_commit:  # e.g. the lifecycle's deactivation hook
        action()


def eservices_url() -> str:
    return os.environ.get("ESERVICES_PUBLIC_URL", "http://localhost:8003").rstrip("/")


def code_entry_url() -> str:
    return eservices_url() + "/representant-legal"


def locale() -> str:
    return str(get_locale() or "fr")


def kind_labels() -> dict[str, str]:
    return {"commune": _("Commune"), "association": _("Association"),
            "intercommunalite": _("Communauté de communes ou d'agglomération"), "autre": _("Autre organisme")}


def role_labels() -> dict[str, str]:
    return {"user": _("Utilisateur"), "administrator": _("Administrateur")}


def event_labels() -> dict[str, str]:
    return {"org.registration": _("Inscription demandée"), "org.admin_requested": _("Demande d'administrateur"),
            "org.admin_validated": _("Administrateur validé par le représentant légal"),
            "org.admin_replaced": _("Administrateur remplacé"), "org.member_validated": _("Inscription validée"),
            "org.member_invalidated": _("Inscription invalidée"), "org.granted": _("Permission accordée"),
            "org.revoked": _("Permission retirée"), "org.subscribed": _("Abonnement"),
            "org.unsubscribed": _("Résiliation"), "org.registration_expired": _("Inscription expirée (sans décision)")}


def status_labels() -> dict[str, str]:
    return {"pending": _("En attente de validation"), "active": _("Validée"), "invalidated": _("Invalidée"),
            "expired": _("Expirée")}


def letter_too_soon_message(reason: str, next_allowed) -> str:
    """Why no letter goes out now, and from when a request can be made again."""
    if reason == "organisation":
        return _("Un courrier a déjà été envoyé récemment au représentant légal de cette organisation. Une nouvelle "
                 "demande d'administrateur pourra être faite à partir du %(date)s ; d'ici là, le représentant légal "
                 "peut valider la demande en cours avec les codes de ce courrier.", date=date_fr(next_allowed))
    return _("Vous avez déjà demandé récemment un courrier au représentant légal d'une organisation. Vous pourrez "
             "faire une nouvelle demande d'administrateur à partir du %(date)s.", date=date_fr(next_allowed))


def error_messages(errors: dict[str, str], rules: list[str], retry_on=None) -> dict[str, str]:
    rule_text = {"min_length": _("au moins 8 caractères"), "digit": _("au moins un chiffre"),
                 "lowercase": _("au moins une lettre minuscule"), "uppercase": _("au moins une lettre majuscule"),
                 "not_common": _("ne pas figurer parmi les mots de passe les plus courants")}
    labels = {
        "role": _("Choisissez si vous vous inscrivez en tant qu'utilisateur ou administrateur"),
        "organisation_id": _("Choisissez votre organisation"),
        "org_name": _("Indiquez le nom de l'organisation"), "org_kind": _("Choisissez le type d'organisation"),
        "org_address_line": _("Indiquez l'adresse postale de l'organisation"),
        "org_postcode": _("Indiquez le code postal (5 chiffres)"), "org_city": _("Indiquez la commune"),
        "org_siren": _("Le numéro SIREN comporte 9 chiffres"),
        "legal_rep_name": _("Indiquez le nom du représentant légal"),
        "legal_rep_title": _("Indiquez la qualité du représentant légal (Maire, Président…)"),
        "given_name": _("Indiquez votre prénom"), "family_name": _("Indiquez votre nom"),
        "email": _("Indiquez votre adresse électronique"), "password": _("Choisissez un mot de passe"),
        "password_confirm": _("Confirmez le mot de passe"),
        "terms": _("Cochez la case d'acceptation des conditions d'utilisation"),
    }
    messages = {}
    for name, code in errors.items():
        if code == "rules":
            messages[name] = _("Le mot de passe doit comporter : %(rules)s.",
                               rules=", ".join(rule_text.get(r, r) for r in rules))
        elif code == "mismatch":
            messages[name] = _("Les deux mots de passe ne sont pas identiques.")
        elif code == "new_needs_administrator":
            messages[name] = _("Seul un administrateur peut inscrire une nouvelle organisation : "
                               "choisissez une organisation de la liste.")
        elif code == "checksum":
            messages[name] = _("Ce numéro SIREN n'existe pas : sa clé de contrôle ne correspond pas. Vérifiez les "
                               "9 chiffres (ils figurent sur l'avis de situation au répertoire SIRENE).")
        elif code == "invalid" and name == "org_rna":
            messages[name] = _("Le numéro RNA d'une association commence par W, suivi de 9 chiffres : "
                               "par exemple W681000123.")
        elif code == "exists":
            messages[name] = _("Cette organisation est déjà inscrite : choisissez-la dans la liste.")
        elif code == "invalid" and name == "email":
            messages[name] = _("Indiquez une adresse électronique valide, par exemple nom@exemple.fr")
        elif code.startswith("letter_too_soon_"):
            messages[name] = letter_too_soon_message(code.removeprefix("letter_too_soon_"), retry_on)
        elif code == "control":
            messages[name] = _("Ce champ tient sur une seule ligne : retirez les retours à la ligne, tabulations "
                               "et caractères invisibles ou de contrôle.")
        elif code == "too_long":
            messages[name] = _("Ce champ est limité à %(count)s caractères.", count=text_fields.limit(name))
        else:
            messages[name] = labels.get(name, _("Ce champ est obligatoire"))
    return messages


def require_signed_in():
    who = signed_in()
    if who is None:
        return None, redirect(login_url(request.full_path.rstrip("?")))
    return who, None


# ----------------------------------------------------------------------------------------------
# Registration


@bp.route("/inscription", methods=["GET", "POST"])
def register():
    who = signed_in()
    with store() as s:
        organisations = s.organisations()
        me = s.account(who.account_id) if who else None
        page = {"organisations": organisations, "signed_in": who is not None, "kinds": kind_labels(),
                "needs_names": me is not None and not me.username}
        if request.method == "GET":
            form = {"role": request.args.get("role", ""), "organisation_id": request.args.get("organisation", "")}
            return render_template("idp/orgs/register.html", form=form, errors={}, **page)
        form = request.form.to_dict()
    return_client = returning.client_of(request.args.get("interaction"))  # the sign-in it came from
    try:
        with store() as s:
            result = org_registration.submit(
                s, form, who.account_id if who else None, code_entry_url(), locale(),
                on_new_account=lambda s, account: start_activation(s, account, return_client), on_existing_email=tell_existing_account,
                on_registered_again=send_activation_again, awaits_activation=lifecycle.awaits_activation)
    except lifecycle.RegistrationThrottled as throttled:
        return render_template("idp/orgs/register.html", form=form,
                               errors={"email": _("Trop de demandes pour cette adresse.") + " "
                                       + wait_text(throttled.seconds)}, **page), 429
    if result.state is org_registration.State.FORM:
        return render_template("idp/orgs/register.html", form=form,
                               errors=error_messages(result.errors, result.password_rules, result.retry_on), **page), 400
    return render_template("idp/orgs/registered.html", result=result, State=org_registration.State)


# ----------------------------------------------------------------------------------------------
# My organisations, choice and switch


@bp.route("/")
def mine():
    who, redirect_response = require_signed_in()
    if redirect_response:
        return redirect_response
    with store() as s:
        memberships = s.memberships_of_account(who.account_id)
        requests = orgs.my_admin_requests(s, who.account_id, utcnow())
        current = current_organisation_id(who)
    waiting = {r["organisation"].id for r in requests if r["status"] == "pending"}
    return render_template("idp/orgs/mine.html", memberships=memberships, requests=requests, current=current,
                           waiting=waiting, roles=role_labels(), statuses=status_labels(),
                           eservices_url=eservices_url())


@bp.route("/<organisation_id>/administrateur", methods=["POST"])
def become_administrator(organisation_id: str):
    who, redirect_response = require_signed_in()
    if redirect_response:
        return redirect_response
    try:
        with store() as s:
            orgs.ask_to_administer(s, who.account_id, organisation_id, utcnow(), code_entry_url())
    except NotFound:
        abort(404)
    except orgs.LetterTooSoon as too_soon:
        flash(letter_too_soon_message(too_soon.reason, too_soon.next_allowed), "error")
    except NotAllowed as refusal:
        flash(_("Vous êtes déjà l'administrateur de cette organisation.") if str(refusal) == "already the administrator"
              else _("Seul un compte activé peut demander à devenir administrateur."), "info")
    else:
        flash(_("Votre demande est enregistrée. Un courrier avec les codes de confirmation est envoyé au "
                "représentant légal de l'organisation : vous serez administrateur dès qu'il les aura saisis."),
              "success")
    return redirect(url_for("organisations.mine"))


@bp.route("/choix", methods=["GET", "POST"])
def choose():
    """Choose the organisation this session acts for (after sign-in, or to switch)."""
    who, redirect_response = require_signed_in()
    if redirect_response:
        return redirect_response
    target = return_target(request.values)
    with store() as s:
        choices = permissions.active_organisations(s, who.account_id)
    if request.method == "POST":
        chosen = request.form.get("organisation_id", "")
        if chosen not in {c["id"] for c in choices}:
            return render_template("idp/orgs/choose.html", choices=choices, target=request.values,
                                   current=current_organisation_id(who), roles=role_labels(),
                                   error=_("Choisissez une organisation de la liste.")), 400
        set_current_organisation(who, chosen)
        if request.form.get("interaction"):
            from idp.flows.login import mark_done, resume_interaction

            mark_done(request.form["interaction"], "choose_organisation")
            return resume_interaction(request.form["interaction"])
        return redirect(target)
    return render_template("idp/orgs/choose.html", choices=choices, target=request.values,
                           current=current_organisation_id(who), roles=role_labels(), error=None)


# ----------------------------------------------------------------------------------------------
# The administrator's console (for the organisation the session acts for, and only that one)


def console_context():
    who, redirect_response = require_signed_in()
    if redirect_response:
        return None, None, redirect_response
    organisation_id = current_organisation_id(who)
    if not organisation_id:
        return None, None, redirect(url_for("organisations.choose", next=request.path))
    return who, organisation_id, None


@bp.route("/console")
def console():
    who, organisation_id, redirect_response = console_context()
    if redirect_response:
        return redirect_response
    with store() as s:
        try:
            data = orgs.console(s, who.account_id, organisation_id)
        except NotAllowed:  # never a bare 403: whose console it is, and since when it is not yours
            return render_template("idp/orgs/not_administrator.html",
                                   **orgs.why_no_console(s, who.account_id, organisation_id)), 403
        requests = [r for r in s.pending_admin_requests(organisation_id)]
        events = orgs.history(s, who.account_id, organisation_id)
    return render_template("idp/orgs/console.html", **data, admin_requests=requests, me=who.account_id,
                           history=events, event_labels=event_labels(),
                           roles=role_labels(), statuses=status_labels(), kinds=kind_labels(), locale=locale(),
                           eservices_url=eservices_url())


def console_action(action, success: str):
    who, organisation_id, redirect_response = console_context()
    if redirect_response:
        return redirect_response
    try:
        with store() as s:
            action(s, who.account_id, organisation_id)
    except NotFound:
        abort(404)
    except NotAllowed as error:
        flash(_("Action impossible : %(reason)s", reason=refusal_text(str(error))), "error")
        return redirect(url_for("organisations.console"))
    flash(success, "success")
    return redirect(url_for("organisations.console"))


def refusal_text(reason: str) -> str:
    known = {
        "validate the registration before granting e-services": _("validez d'abord l'inscription de cet utilisateur"),
        "subscribe the organisation to this e-service first": _("abonnez d'abord l'organisation à cet e-service"),
        "an administrator does not invalidate himself": _("un administrateur ne peut pas invalider sa propre inscription"),
        "already invalidated": _("cette inscription est déjà invalidée"),
        "this e-service is not offered to this kind of organisation": _("cet e-service n'est pas proposé à ce type d'organisation"),
        "an administrator is validated by the legal representative's codes":
            _("un administrateur est validé par le représentant légal au moyen des codes de confirmation"),
    }
    return known.get(reason, _("vous n'êtes pas administrateur de cette organisation"))


@bp.route("/console/membres/<membership_id>/valider", methods=["POST"])
def validate_member(membership_id: str):
    return console_action(lambda s, me, org: orgs.validate_member(s, me, org, membership_id, utcnow()),
                          _("L'inscription est validée."))


@bp.route("/console/membres/<membership_id>/invalider", methods=["GET", "POST"])
def invalidate_member(membership_id: str):
    """A danger zone first (what ends, what stays), then the decision: a POST without the page's
    confirmation only shows the page."""
    if request.method == "POST" and request.form.get("confirm") == "yes":
        reason = request.form.get("reason", "")
        if text_fields.problem("reason", reason, required=False) is None:
            return console_action(
                lambda s, me, org: orgs.invalidate_member(s, me, org, membership_id, utcnow(), reason),
                _("L'inscription est invalidée. La personne est prévenue par courriel ; son compte reste actif "
                  "pour ses autres organisations et les autres services."))
    who, organisation_id, redirect_response = console_context()
    if redirect_response:
        return redirect_response
    try:
        with store() as s:
            preview = orgs.invalidation_preview(s, who.account_id, organisation_id, membership_id)
    except NotFound:
        abort(404)
    except NotAllowed as error:
        flash(_("Action impossible : %(reason)s", reason=refusal_text(str(error))), "error")
        return redirect(url_for("organisations.console"))
    error = None
    if request.method == "POST":
        error = (_("Cochez la case pour confirmer l'invalidation.") if request.form.get("confirm") != "yes"
                 else _("Le motif tient sur une seule ligne de 200 caractères au plus."))
    return render_template("idp/orgs/invalidate.html", **preview, error=error, form=request.form,
                           catalogue=permissions.load_catalogue(), locale=locale()), 400 if error else 200


@bp.route("/console/membres/<membership_id>/e-services", methods=["POST"])
def member_eservice(membership_id: str):
    eservice_id = request.form.get("eservice_id", "")
    if request.form.get("action") == "revoke":
        return console_action(lambda s, me, org: orgs.revoke(s, me, org, membership_id, eservice_id),
                              _("La permission est retirée."))
    return console_action(lambda s, me, org: orgs.grant(s, me, org, membership_id, eservice_id),
                          _("La permission est accordée."))


@bp.route("/console/abonnements", methods=["POST"])
def subscription():
    eservice_id = request.form.get("eservice_id", "")
    if request.form.get("action") == "unsubscribe":
        reason = request.form.get("reason", "")
        if request.form.get("confirm") != "yes" or text_fields.problem("reason", reason, required=False):
            return unsubscription(eservice_id, error=True)  # never in one click: the page says whose grants end
        return console_action(lambda s, me, org: orgs.unsubscribe(s, me, org, eservice_id, reason),
                              _("L'abonnement est résilié. Les membres qui avaient cet e-service sont prévenus par "
                                "courriel."))
    return console_action(lambda s, me, org: orgs.subscribe(s, me, org, eservice_id),
                          _("L'organisation est abonnée à l'e-service."))


@bp.route("/console/abonnements/<eservice_id>/resilier")
def unsubscription(eservice_id: str, error: bool = False):
    """The danger zone before ending a subscription: the members whose permission ends with it."""
    who, organisation_id, redirect_response = console_context()
    if redirect_response:
        return redirect_response
    try:
        with store() as s:
            preview = orgs.unsubscription_preview(s, who.account_id, organisation_id, eservice_id)
    except NotFound:
        abort(404)
    except NotAllowed as refusal:
        flash(_("Action impossible : %(reason)s", reason=refusal_text(str(refusal))), "error")
        return redirect(url_for("organisations.console"))
    catalogue = permissions.load_catalogue()
    name = catalogue[eservice_id].name(locale()) if eservice_id in catalogue else eservice_id
    return render_template("idp/orgs/unsubscribe.html", **preview, eservice_name=name,
                           error=_("Cochez la case pour confirmer la résiliation.") if error else None), \
        400 if error else 200


# ----------------------------------------------------------------------------------------------
# The legal representative's code entry (also reachable from the e-services portal)


def confirmation_messages() -> dict[orgs.Confirmation, str]:
    C = orgs.Confirmation
    return {
        C.VALIDATED: _("Les codes sont corrects : l'administrateur est validé et peut désormais gérer "
                       "l'organisation sur le portail e-services."),
        C.WRONG: _("Les codes saisis ne correspondent pas à cette référence. Vérifiez-les sur le courrier et "
                   "recommencez."),
        C.EXPIRED: _("Ces codes ont expiré. Le futur administrateur doit renouveler son inscription pour qu'un "
                     "nouveau courrier vous soit envoyé."),
        C.SUPERSEDED: _("Ce courrier a été remplacé par une demande plus récente : utilisez les codes du dernier "
                        "courrier reçu."),
        C.ALREADY: _("Cette demande a déjà été validée."),
        C.LOCKED: _("Trop d'essais erronés pour cette demande. Envoyez une demande d'assistance via le "
                    "formulaire en bas de page."),
        C.UNKNOWN: _("Les codes saisis ne correspondent pas à cette référence. Vérifiez-les sur le courrier et "
                     "recommencez."),
    }


@bp.route("/confirmation", methods=["GET", "POST"])
def confirm():
    if request.method == "GET":
        return render_template("idp/orgs/confirm.html", form={}, outcome=None, message=None)
    form = request.form.to_dict()
    with store() as s:
        outcome = orgs.confirm_admin_request(s, form.get("reference", ""), form.get("code_1", ""),
                                             form.get("code_2", ""), utcnow())
        accepted = outcome in (orgs.Confirmation.VALIDATED, orgs.Confirmation.ALREADY)
        validated = orgs.validated_request_summary(s, form.get("reference", "")) if accepted else None
    message = confirmation_messages()[outcome]
    if validated:  # whom the codes validated, now that they were right
        message = _("Les codes sont corrects : %(person)s est désormais l'administrateur de « %(org)s » et peut "
                    "gérer l'organisation sur le portail e-services. Si vous ne connaissez pas cette personne, "
                    "faites une demande d'assistance sans attendre.", person=validated["administrator"],
                    org=validated["organisation"])
    return render_template("idp/orgs/confirm.html", form=form, outcome=outcome.value,
                           message=message), 200 if accepted else 400


# used by templates
@bp.app_context_processor
def organisation_labels():
    return {"org_kinds": KINDS}


def safe_next(default: str = "/") -> str:
    return safe_local_path(request.values.get("next"), default)
