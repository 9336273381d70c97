"""The sign-in flow (seed 000 §2): identifier → password → post-login steps → back to /authorize.

States::

    identifier --(Continuer)--> password --(ok)--> steps --(all done)--> resumed
        ^                          |
        +------(Modifier)----------+      (wrong password: same page, same message as unknown id)

    stateDiagram-v2
        [*] --> IDENTIFIER: /authorize or /signin creates the Interaction
        IDENTIFIER --> PASSWORD: submit_identifier()
        IDENTIFIER --> STEPS: federation (complete_authentication)
        PASSWORD --> IDENTIFIER: Modifier
        PASSWORD --> PASSWORD: submit_password() refused
        PASSWORD --> STEPS: submit_password() ok → complete_authentication()
        STEPS --> STEPS: a sub-flow (TOTP, organisation) marks its step done
        STEPS --> RESUMED: continue_url() finds no step left
        RESUMED --> [*]

The state is not stored apart: it is read off the Interaction (``state_of``), which lives in Redis
with its TTL (``idp.oidc.interaction``). ``complete_authentication`` is the single exit of every
primary authentication (password, federation): it opens a new IdP session (new id: no fixation),
then runs the post-login steps.
"""

from __future__ import annotations

from enum import Enum

from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from idp.flows.steps import POST_LOGIN_STEPS
from idp.oidc import interaction as interactions
from idp.services import accounts, audit, devices, sessions, throttle
from shared.web import safe_local_path

INTERNAL = ""  # the client id of interactions started at the IdP itself (account page), not by a client
IDENTIFIER_MAX_LENGTH = 320


class State(str, Enum):
    IDENTIFIER = "identifier"  # waiting for the email address or seed-002 identifier
    PASSWORD = "password"  # noqa: S105 - a state name: identifier typed, waiting for the password
    STEPS = "steps"            # authenticated; post-login steps (second factor, organisation) under way
    RESUMED = "resumed"        # handed back to the protocol, or to the IdP page the sign-in started from


def state_of(interaction: interactions.Interaction) -> State:
    """Read off the Interaction, never stored apart, so it cannot disagree with it (moves: the diagram above)."""
    if interaction.authenticated_at is not None:
        return State.STEPS
    return State.PASSWORD if interaction.identifier else State.IDENTIFIER


def submit_identifier(interaction: interactions.Interaction, value: str) -> str | None:
    """Continuer on the identifier page: remember what was typed (never whether it exists) and
    return None, or return the message to show."""
    value = value.strip()
    if not value:
        return _("Saisissez votre adresse e-mail ou votre identifiant.")
    interaction.identifier = value[:IDENTIFIER_MAX_LENGTH]
    interactions.save(interaction)
    return None


class LoginRefused(Exception):
    """``action``: the way back, as (path, label) to show as a link beside the message, or None."""

    def __init__(self, message: str, status: int = 400, action: tuple[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.action = action


def inactive_account_message(account) -> str:
    """What a non-active account's owner is told at sign-in (and never before the password matched),
    and by email when they ask for a new password: the true reason and its own way back."""
    if account.status == "pending":
        return _("Votre compte n'est pas encore validé. Cliquez sur le lien du courriel de validation que vous avez reçu, ou demandez un nouveau lien.")
    reason = account.deactivation_reason
    if reason in ("invalidated_by_admin", "invalidated_by_organisation"):
        return _("Votre compte a été désactivé lorsque l'administrateur d'une organisation a invalidé votre inscription. Demandez-lui de valider à nouveau votre inscription, ou faites une demande d'assistance pour réactiver votre compte.")
    if reason == "activation_expired":
        return _("Votre compte a été désactivé car le lien d'activation n'a pas été utilisé à temps. Demandez un nouveau lien d'activation.")
    if reason == "dormant":
        return _("Votre compte a été désactivé après 16 mois sans connexion. Demandez un nouveau lien d'activation pour le réactiver, ou faites une demande d'assistance.")
    return _("Votre compte a été désactivé par l'assistance. Faites une demande d'assistance pour en connaître la raison.")


def inactive_account_action(account) -> tuple[str, str] | None:
    """The link that goes with ``inactive_account_message``: a new activation link where one helps."""
    if account.status == "pending" or account.deactivation_reason in ("activation_expired", "dormant"):
        return "/activate", _("Demander un nouveau lien d'activation")
    return None


def too_many_attempts(seconds: int) -> str:
    """The throttle's refusal of a password or a second-factor code, with the wait in words."""
    return ngettext("Trop de tentatives. Réessayez dans %(num)s seconde.",
                    "Trop de tentatives. Réessayez dans %(num)s secondes.", seconds)


def submit_password(uid: str, identifier: str, password: str):
    """Check the password; return the account, or raise LoginRefused with a non-enumerating message."""
    account = accounts.find_by_identifier(identifier)
    # counted per account and client (known device, else address): strangers never hold the owner back
    client = (account.id if account else f"unknown:{identifier.strip().lower()}",
              devices.known_device(account.id if account else None), request.remote_addr or "unknown")
    if wait := throttle.sign_in_wait(*client):
        raise LoginRefused(too_many_attempts(wait), 429)
    if not accounts.check_password(account, password):
        throttle.sign_in_failed(*client)
        audit.record("sign_in_failed", account.id if account else None, identifier=identifier[:100])
        raise LoginRefused(_("Identifiant ou mot de passe incorrect."))
    throttle.sign_in_succeeded(*client)
    if account.status != "active":
        audit.record("sign_in_refused_inactive", account.id, status=account.status)
        raise LoginRefused(inactive_account_message(account), 403, inactive_account_action(account))
    return account


def complete_authentication(uid: str, account_id: str, amr: list[str], acr: str | None = None,
                            context: dict | None = None):
    """Open a fresh IdP session for this account and go straight to what comes next (a post-login
    step, the page the sign-in started from, or the authorization): no intermediate hop."""
    session = open_session(account_id, amr, acr, context)
    interaction = interactions.load(uid)
    if interaction is not None:
        interaction.authenticated_at = session.auth_time
    response = redirect(continue_url(uid, interaction, session))
    sessions.set_cookie(response, session)
    return response


def open_session(account_id: str, amr: list[str], acr: str | None = None, context: dict | None = None,
                 **audit_detail) -> sessions.IdpSession:
    """A new session id at every sign-in (no fixation); another account's session in this browser ends.
    From here on, this request acts for the new session."""
    old = sessions.current_session()
    if old is not None and old.account_id != account_id:
        sessions.end_session(old.sid)
    session = sessions.create(account_id, amr, acr, context)
    accounts.record_sign_in(account_id, amr=amr, acr=acr, **audit_detail)
    return session


def continue_url(uid: str, interaction: interactions.Interaction | None = None,
                 session: sessions.IdpSession | None = None) -> str:
    """Where the browser goes once signed in: the next post-login step; when none is left, the page
    an interaction started at the IdP itself returns to (the interaction ends), or the protocol's
    resume URL. The interaction is saved once, with every step passed through."""
    interaction = interaction or interactions.load(uid)
    session = session or sessions.current_session()
    if interaction is None or session is None:
        return interactions.resume_url(uid)
    account = accounts.get(session.account_id)
    for step in POST_LOGIN_STEPS:
        if step.__name__ in interaction.steps_done:
            continue
        target = step(interaction, account)
        if target:
            interactions.save(interaction)
            return target
        interaction.steps_done.append(step.__name__)
    if interaction.client_id == INTERNAL:
        interactions.delete(uid)
        return safe_local_path(interaction.params.get("return_to"), "/")
    interactions.save(interaction)
    return interactions.resume_url(uid)


def steps_pending(interaction: interactions.Interaction) -> bool:
    """Whether this sign-in still has a post-login step it has not passed. What comes after the
    steps (the consent page, the code) must not answer meanwhile, or a typed URL would skip them:
    the second factor a client requires, the organisation the session acts for."""
    return interaction.authenticated_at is not None and any(
        step.__name__ not in interaction.steps_done for step in POST_LOGIN_STEPS)


def mark_done(uid: str, step_name: str) -> None:
    interaction = interactions.load(uid)
    if interaction and step_name not in interaction.steps_done:
        interaction.steps_done.append(step_name)
        interactions.save(interaction)


def resume_interaction(uid: str):
    """For sub-flows: continue with the remaining steps, then the authorization."""
    return redirect(url_for("login.resume_login", uid=uid))
