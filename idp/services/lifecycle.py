"""The life of an account (seed 000 §1, §2, §5; seed 002): registration, invitation by a portal,
validation links, password reset, email change, deactivation and its ways back.

Every emailed link is single-use, stored as a SHA-256 digest, and expires; a new link of the
same purpose supersedes the previous one. Emails are queued in the outbox inside the same
transaction as the change they announce, in the recipient's language.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from flask import Flask, after_this_request, current_app, has_request_context
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.services import audit, branding, rate_limits, returning, sessions, text_fields
from idp.services.accounts import normalise_email
from idp.services.identifiers import make_identifier
from idp.services.passwords import hash_password, unmet_rules, verify_password
from idp.storage.sql.lifecycle import AccountLink
from idp.storage.sql.models import Account, AuditEvent, RefreshToken
from idp.storage.sql.organisations import Membership
from idp.storage.sql.outbox import OutboxMessage
from shared.appkit import get_db, get_settings
from shared.outbox import queue_email
from shared.request_log import carry_request_id, request_id
from shared.timeutil import as_utc, to_strasbourg, utcnow

DEFAULT_LIFETIMES = {"activation": timedelta(days=7), "reset": timedelta(hours=1), "email_change": timedelta(days=1)}
DORMANT_AFTER = timedelta(days=487)  # 16 months (seed 002)
REASONS = ("dormant", "activation_expired", "invalidated_by_admin", "by_support")


class LinkProblem(Exception):
    """``code``: invalid (unknown or tampered), used (already used or superseded), expired."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class Problems(Exception):
    """Form errors as {field: code}; the web layer words them in the user's language."""

    def __init__(self, errors: dict[str, str], unmet: list[str] | None = None):
        super().__init__(errors)
        self.errors, self.unmet = errors, list(unmet or [])


def valid_email(email: str) -> bool:
    return text_fields.problem("email", email) is None


def password_problems(password: str, confirm: str, field_name: str = "password") -> tuple[dict[str, str], list[str]]:
    errors, unmet = {}, []
    if not password:
        errors[field_name] = "required"
    elif unmet := unmet_rules(password):
        errors[field_name] = "weak"
    if password and confirm != password:
        errors[f"{field_name}_confirm"] = "mismatch"
    return errors, unmet


# ---------------------------------------------------------------------------------------------
# Links

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lifetime(purpose: str) -> timedelta:
    configured = get_settings().section("lifecycle").get(f"{purpose}_link_seconds")
    return timedelta(seconds=int(configured)) if configured else DEFAULT_LIFETIMES[purpose]


def issue_link(session: Session, account_id: str, purpose: str, data: dict | None = None) -> str:
    now = utcnow()
    session.execute(update(AccountLink).where(
        AccountLink.account_id == account_id, AccountLink.purpose == purpose, AccountLink.used_at.is_(None))
        .values(used_at=now))
    token = secrets.token_urlsafe(32)
    session.add(AccountLink(token_hash=_digest(token), account_id=account_id, purpose=purpose, data=data or {},
                            expires_at=now + _lifetime(purpose)))
    return token


def link_url(purpose: str, token: str) -> str:
    path = {"activation": "activate", "reset": "recovery", "email_change": "email-change"}[purpose]
    return f"{get_settings().issuer}/{path}/{token}"


def peek_link(token: str, purpose: str) -> tuple[AccountLink, Account]:
    """The link and its account, without using it (GET shows a form; mail scanners may fetch it)."""
    if not token or len(token) > 100:
        raise LinkProblem("invalid")
    with get_db().session() as session:
        link = session.scalar(select(AccountLink).where(AccountLink.token_hash == _digest(token),
                                                        AccountLink.purpose == purpose))
        if link is None:
            raise LinkProblem("invalid")
        if link.used_at is not None:
            raise LinkProblem("used")
        if as_utc(link.expires_at) <= utcnow():
            raise LinkProblem("expired")
        return link, session.get(Account, link.account_id)


def consume_link(session: Session, token: str, purpose: str) -> AccountLink:
    """Use the link once: a conditional UPDATE, so two simultaneous uses cannot both succeed."""
    now = utcnow()
    used = session.execute(update(AccountLink).where(
        AccountLink.token_hash == _digest(token), AccountLink.purpose == purpose,
        AccountLink.used_at.is_(None), AccountLink.expires_at > now).values(used_at=now)).rowcount
    if used != 1:
        raise LinkProblem("used")
    return session.scalar(select(AccountLink).where(AccountLink.token_hash == _digest(token)))


# ---------------------------------------------------------------------------------------------
# Emails (in the recipient's language)

def _send(session: Session, account_or_email, kind: str, locale: str | None = None, client_id: str | None = None,
          **values) -> None:
    """Queue one of EMAILS in the recipient's language, worded and signed for the portal the flow
    started from (``client_id``: the inviting or returning portal; none: the IdP's own brand), so an
    email about a justice-space account does not call it an eComms one."""
    if isinstance(account_or_email, Account):
        to, locale = account_or_email.email, locale or account_or_email.locale or "fr"
    else:
        to, locale = account_or_email, locale or "fr"
    sender = branding.mail_identity(client_id)
    with force_locale(locale):
        subject, body = EMAILS[kind](account=sender.account, **values)
        body += "\n\n-- \n" + _("%(service)s — ce message est envoyé automatiquement, n'y répondez pas.",
                                   service=sender.name)
    queue_email(session, OutboxMessage, to=to, subject=subject, body_text=body, locale=locale,
                sender_name=sender.name)


def _delay(hours: int) -> str:
    """A link's lifetime as people say it: "7 jours", not "168 heures"."""
    if hours >= 48 and hours % 24 == 0:
        return ngettext("%(num)s jour", "%(num)s jours", hours // 24)
    return ngettext("%(num)s heure", "%(num)s heures", hours)


def _activation_email(url: str, hours: int, account: str):
    return (_("Validez votre adresse électronique"),
            _("Bonjour,\n\nPour activer votre compte %(account)s, ouvrez ce lien :\n%(url)s\n\n"
              "Ce lien ne sert qu'une fois et expire dans %(delay)s. Si vous n'êtes pas à l'origine de "
              "cette inscription, ignorez ce message.", url=url, delay=_delay(hours), account=account))


def _invitation_email(url: str, hours: int, client_name: str, account: str):
    return (_("%(client)s vous invite à créer votre compte", client=client_name),
            _("Bonjour,\n\n%(client)s vous invite à communiquer par voie électronique. Pour activer votre compte "
              "%(account)s et choisir votre mot de passe, ouvrez ce lien :\n%(url)s\n\nCe lien ne sert qu'une fois et "
              "expire dans %(delay)s.", client=client_name, url=url, delay=_delay(hours), account=account))


def _invited_existing_email(client_name: str, url: str, account: str):
    return (_("%(client)s vous donne accès à son service", client=client_name),
            _("Bonjour,\n\n%(client)s vous donne accès à son service en ligne. Connectez-vous avec votre compte "
              "%(account)s habituel :\n%(url)s", client=client_name, url=url, account=account))


def _already_registered_email(url: str, account: str):
    return (_("Demande d'inscription"),
            _("Bonjour,\n\nUne inscription a été demandée avec cette adresse, qui a déjà un compte %(account)s. "
              "Si vous avez oublié votre mot de passe, vous pouvez le réinitialiser ici :\n%(url)s\n\n"
              "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.", url=url, account=account))


def _reset_email(url: str, account: str):
    return (_("Réinitialisation de votre mot de passe"),
            _("Bonjour,\n\nPour choisir un nouveau mot de passe, ouvrez ce lien :\n%(url)s\n\nCe lien ne sert "
              "qu'une fois et expire dans une heure. Si vous n'avez rien demandé, ignorez ce message : votre mot "
              "de passe actuel reste valable.", url=url))


def _deactivated_email(reason_text: str, account: str):
    return (_("Votre compte est désactivé"), _("Bonjour,\n\n%(reason)s", reason=reason_text))


def _dormancy_warning_email(date: str, url: str, account: str):
    return (_("Votre compte sera désactivé le %(date)s sans connexion", date=date),
            _("Bonjour,\n\nVous ne vous êtes pas connecté(e) au portail e-services depuis bientôt 16 mois. Sans "
              "connexion d'ici le %(date)s, votre compte sera désactivé. Pour le garder, il suffit de vous "
              "connecter :\n%(url)s", date=date, url=url))


def _password_changed_email(account: str):
    return (_("Votre mot de passe a été modifié"),
            _("Bonjour,\n\nLe mot de passe de votre compte %(account)s vient d'être modifié, et toutes vos "
              "sessions ont été fermées. Si vous n'êtes pas à l'origine de ce changement, réinitialisez "
              "immédiatement votre mot de passe avec « Mot de passe oublié ? ».", account=account))


def _email_change_email(url: str, account: str):
    return (_("Confirmez votre nouvelle adresse électronique"),
            _("Bonjour,\n\nPour confirmer cette adresse comme nouvelle adresse de votre compte %(account)s, "
              "ouvrez ce lien :\n%(url)s\n\nCe lien ne sert qu'une fois et expire dans 24 heures.", url=url, account=account))


def _email_change_requested_email(new_email: str, account: str):
    return (_("Changement d'adresse électronique demandé"),
            _("Bonjour,\n\nUn changement de l'adresse de votre compte vers %(email)s a été demandé. Il prendra "
              "effet lorsque la nouvelle adresse sera confirmée. Si vous n'êtes pas à l'origine de cette "
              "demande, changez votre mot de passe.", email=new_email))


def _email_changed_email(new_email: str, account: str):
    return (_("Votre adresse électronique a été modifiée"),
            _("Bonjour,\n\nL'adresse de votre compte %(account)s est désormais %(email)s. Ce message est le "
              "dernier envoyé à cette adresse.", email=new_email, account=account))


def _address_in_use_email(account: str):
    return (_("Changement d'adresse électronique"),
            _("Bonjour,\n\nQuelqu'un a demandé à utiliser cette adresse pour un autre compte %(account)s. Elle "
              "est déjà celle de votre compte : rien n'a été changé.", account=account))


def _second_factor_email(enabled: bool, account: str):
    if enabled:
        return (_("Validation en deux étapes activée"),
                _("Bonjour,\n\nLa validation en deux étapes est désormais demandée à chaque connexion à votre "
                  "compte. Si vous n'êtes pas à l'origine de ce changement, contactez l'assistance."))
    return (_("Validation en deux étapes désactivée"),
            _("Bonjour,\n\nLa validation en deux étapes de votre compte a été désactivée. Si vous n'êtes pas à "
              "l'origine de ce changement, réinitialisez votre mot de passe."))


def _mailbox_code_email(code: str, purpose: str, minutes: int, account: str):
    what = {"totp": _("activer la validation en deux étapes avec une application d'authentification"),
            "passkey": _("ajouter une première clé d'accès"),
            "email": _("changer l'adresse électronique du compte")}[purpose]
    return (_("Votre code de confirmation"),  # never the code itself: the outbox keeps subjects after delivery
            _("Bonjour,\n\nPour %(what)s sur votre compte %(account)s, saisissez ce code dans la page ouverte :\n\n"
              "%(code)s\n\nIl ne sert qu'une fois et expire dans %(minutes)s minutes. Ne le communiquez à personne : "
              "aucun agent ne vous le demandera. Si vous n'êtes pas à l'origine de cette demande, quelqu'un connaît "
              "votre mot de passe : changez-le dès maintenant.", what=what, account=account, code=code,
              minutes=minutes))


EMAILS = {"activation": _activation_email, "invitation": _invitation_email,
          "invited_existing": _invited_existing_email, "already_registered": _already_registered_email,
          "reset": _reset_email, "deactivated": _deactivated_email, "password_changed": _password_changed_email,
          "email_change": _email_change_email, "email_change_requested": _email_change_requested_email,
          "email_changed": _email_changed_email, "address_in_use": _address_in_use_email,
          "second_factor": _second_factor_email, "dormancy_warning": _dormancy_warning_email,
          "mailbox_code": _mailbox_code_email}


def format_date(moment: datetime) -> str:
    return to_strasbourg(as_utc(moment)).strftime("%d/%m/%Y")


def _hours(purpose: str) -> int:
    return max(1, int(_lifetime(purpose).total_seconds() // 3600))


# ---------------------------------------------------------------------------------------------
# Registration and activation

REGISTRATION_PER_EMAIL = "3 per hour"


class RegistrationThrottled(Exception):
    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


def check_registration_rate(email: str) -> None:
    """Count one registration for this address (every registration form: this one and the
    organisations'); RegistrationThrottled past the limit. One address is not flooded with emails
    from many network addresses (outside review): the same count for every address, with or without
    an account, so it tells nothing."""
    limit = rate_limits.configured("registration_per_email", REGISTRATION_PER_EMAIL)
    if wait := rate_limits.hit(limit, "registration-email", hashlib.sha256(normalise_email(email).encode()).hexdigest()):
        raise RegistrationThrottled(wait)


def register(email: str, accepted_terms: bool, locale: str, given_name: str = "", family_name: str = "",
             return_client: str | None = None) -> None:
    """Create a pending account and send its activation link; raise Problems on bad input.

    Names are asked wherever an account is created (seed 002: the identifier is built from them,
    ``Frédéric DUPONT DURAND`` → ``frederic-dupont-dura``), so no account reaches an organisation's
    console without names; registering again gives names to a pending account that has none and
    keeps the ones it holds (whoever registers again has not proven the address).

    The account holds no password until its address is proven: the password is chosen on the
    activation link's page (seed 000 §1). Someone who registers an address that is not theirs
    holds nothing the owner's activation would keep (account pre-hijacking). An address that
    already has an account gets the same answer on screen (no enumeration) and the same work
    (no password hash on either path); its owner receives an email saying so instead.
    ``return_client``: the portal the registration started from (``idp.services.returning``), whose
    brand the activation page wears and to whose sign-in it leads.
    """
    email = normalise_email(email)
    errors: dict[str, str] = text_fields.check({"given_name": given_name, "family_name": family_name},
                                               ("given_name", "family_name"), required=("given_name", "family_name"))
    if not email:  # the form's order: names, then the address
        errors["email"] = "required"
    elif not valid_email(email):
        errors["email"] = "invalid"
    if not accepted_terms:
        errors["terms"] = "required"
    if errors:
        raise Problems(errors)
    given_name, family_name = text_fields.clean(given_name), text_fields.clean(family_name)
    check_registration_rate(email)
    with get_db().session() as session:
        existing = session.scalar(select(Account).where(Account.email == email))
        if existing is not None:
            if existing.status == "pending" and not existing.username:
                give_names(session, existing, given_name, family_name)
            # registering again is the seed's way back for a lost activation email: a new link, of the
            # kind of the last one (someone registering an invitee's address must not turn the
            # portal's invitation into a plain link)
            if not send_new_activation(session, existing):
                _send(session, existing, "already_registered", url=f"{get_settings().issuer}/recovery",
                      client_id=return_client)
            existing_id = existing.id
    if existing is not None:
        audit.record("registration_existing_address", existing_id)
        return
    try:
        with get_db().session() as session:
            account = Account(email=email, password_hash=None, status="pending", locale=locale,
                              email_verified=False)
            give_names(session, account, given_name, family_name)
            session.add(account)
            session.flush()
            send_activation(session, account, return_client=return_client)
    except IntegrityError:  # the same address registered at the same moment: one account, same answer
        return
    audit.record("registration", account.id)


def give_names(session: Session, account: Account, given_name: str, family_name: str) -> None:
    """Names, and the identifier built from them (unique), for an account that has none yet."""
    account.given_name, account.family_name = given_name, family_name
    account.username = make_identifier(given_name, family_name, lambda candidate: session.scalar(
        select(Account.id).where(Account.username == candidate)) is not None)


def _last_activation_data(session: Session, account_id: str) -> dict:
    last = session.scalar(select(AccountLink).where(AccountLink.account_id == account_id,
                                                    AccountLink.purpose == "activation")
                          .order_by(AccountLink.created_at.desc()).limit(1))
    return dict(last.data or {}) if last else {}


def send_activation(session: Session, account: Account, client_id: str | None = None,
                    return_client: str | None = None) -> None:
    """Queue the activation email (a hook also used by the organisations' registration):
    ``client_id`` the inviting portal's, ``return_client`` the portal a self-registration started from."""
    session.flush()
    data = {"client_id": client_id} if client_id else returning.link_data(return_client)
    token = issue_link(session, account.id, "activation", data)
    if client_id:
        from idp.services import clients

        client = clients.get(client_id)
        _send(session, account, "invitation", url=link_url("activation", token), hours=_hours("activation"),
              client_id=client_id, client_name=branding.brand_for(client).name)
    else:
        _send(session, account, "activation", url=link_url("activation", token), hours=_hours("activation"),
              client_id=return_client)


def resend_activation(email: str, locale: str) -> None:
    """"Demander un nouveau lien": same answer whatever the address; a pending, expired or dormant
    account gets a link (an expired one goes back to pending; a dormant one is active again once the
    link is used, as the seed's "cliquez sur le lien d'activation" says)."""
    email = normalise_email(email)
    with get_db().session() as session:
        account = session.scalar(select(Account).where(Account.email == email))
        resent = account.id if account is not None and send_new_activation(session, account) else None
    if resent:
        audit.record("activation_resent", resent)


def awaits_activation(account: Account) -> bool:
    """An account whose owner may be sent a (new) activation link: never proven, or gone dormant."""
    return account.status == "pending" or (
        account.status == "deactivated" and account.deactivation_reason in ("activation_expired", "dormant"))


def send_new_activation(session: Session, account: Account) -> bool:
    """A new activation link for an account that awaits one (True), of the kind of the last one
    (a portal's invitation stays one); nothing for any other account (False)."""
    if not awaits_activation(account):
        return False
    if account.deactivation_reason == "activation_expired":
        account.status, account.deactivation_reason = "pending", None
    last = _last_activation_data(session, account.id)
    send_activation(session, account, last.get("client_id"), return_client=last.get(returning.LINK_KEY))
    return True


ACTIVATION_HOOKS: list = []  # callables (session, account) run in the activation's transaction (organisations)


def activate(token: str, password: str | None = None, password_confirm: str | None = None) -> tuple[Account, dict]:
    """Use an activation link: the person who holds it (the address is proven) always sets the
    password here, whoever created the pending account. Returns the account and the link's data
    (``client_id`` of the inviting portal)."""
    peek_link(token, "activation")
    errors, unmet = password_problems(password or "", password_confirm or "")
    if errors:
        raise Problems(errors, unmet)
    with get_db().session() as session:
        link = consume_link(session, token, "activation")
        account = session.get(Account, link.account_id)
        account.password_hash, account.password_changed_at = hash_password(password), utcnow()
        if account.status == "deactivated":  # a dormant account: its 16 months start again
            account.last_login_at = utcnow()
        account.status, account.deactivation_reason, account.email_verified = "active", None, True
        data = dict(link.data or {})
        for hook in ACTIVATION_HOOKS:  # e.g. the registrations waiting for this proven address
            hook(session, account)
    audit.record("account_activated", account.id, client_id=data.get("client_id"))
    return account, data


# ---------------------------------------------------------------------------------------------
# Invitation by a portal (provisioning API)

def invite(email: str, client, locale: str = "fr", given_name: str | None = None,
           family_name: str | None = None) -> tuple[Account, str]:
    """A pending account for this address (or the existing one); returns (account, status)."""
    email = normalise_email(email)
    if not valid_email(email):
        raise Problems({"email": "invalid"})
    names = text_fields.require(given_name=given_name, family_name=family_name)  # BadText: not one line
    given_name, family_name = names["given_name"], names["family_name"]
    with get_db().session() as session:
        account = session.scalar(select(Account).where(Account.email == email))
        if account is None:
            account = Account(email=email, status="pending", locale=locale if locale in ("fr", "en") else "fr",
                              given_name=given_name, family_name=family_name, email_verified=False)
            session.add(account)
            session.flush()
            send_activation(session, account, client.client_id)
            created = True
        else:
            created = False
            if account.status == "pending":
                # whoever created this pending account (perhaps not its owner) keeps nothing of it:
                # the portal's names, no password (the owner sets hers on the activation page)
                account.password_hash = None
                account.given_name, account.family_name = given_name, family_name
                send_activation(session, account, client.client_id)
            elif account.status == "active":
                from idp.services.clients import login_url

                _send(session, account, "invited_existing", client_id=client.client_id, client_name=client.name,
                      url=login_url(client))
        status = account.status
    audit.record("invitation", account.id, client_id=client.client_id, created=created)
    return account, status


# ---------------------------------------------------------------------------------------------
# Password reset ("Mot de passe oublié ?")

RECOVERY_WORKERS = 2
_executor = ThreadPoolExecutor(max_workers=RECOVERY_WORKERS, thread_name_prefix="recovery")


class RecoveryThrottled(Exception):
    """This address was asked for too often lately: ``seconds`` until it can be asked for again."""

    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


RECOVERY_PER_EMAIL = "3 per hour"


def request_recovery(email: str, locale: str, return_client: str | None = None) -> None:
    """Hand the request to a background worker and return at once: the answer and its timing are
    the same whether or not the address has an account. One address is not flooded with emails:
    past the limit the requester is told to wait (RecoveryThrottled) — never a silent drop; the
    count is the same for every address, with or without an account, so it tells nothing.
    ``return_client``: the portal the request started from, kept in the reset link's data."""
    email = normalise_email(email)
    limit = rate_limits.configured("recovery_per_email", RECOVERY_PER_EMAIL)
    if wait := rate_limits.hit(limit, "recovery-email", hashlib.sha256(email.encode()).hexdigest()):
        raise RecoveryThrottled(wait)
    app = current_app._get_current_object()
    after_the_answer(_executor.submit, _recovery_job, app, request_id(), email, locale, return_client)


def after_the_answer(start: Callable[..., object], *args) -> None:
    """Run ``start(*args)`` once the answer has left, so the job's CPU (it shares the process)
    cannot slow the answer it would otherwise betray; outside a request, at once."""
    if not has_request_context():
        start(*args)
        return

    @after_this_request
    def defer(response):
        response.call_on_close(lambda: start(*args))
        return response


def _recovery_job(app: Flask, rid: str | None, email: str, locale: str, return_client: str | None = None) -> None:
    with app.app_context():
        carry_request_id(rid)  # the reset email's delivery is logged under the request that asked for it
        process_recovery(email, locale, return_client)


def process_recovery(email: str, locale: str, return_client: str | None = None) -> None:
    with get_db().session() as session:
        account = session.scalar(select(Account).where(Account.email == email))
        if account is None:
            return
        if account.status == "active":
            token = issue_link(session, account.id, "reset", returning.link_data(return_client))
            _send(session, account, "reset", url=link_url("reset", token), client_id=return_client)
        elif account.status == "pending":
            send_activation(session, account, return_client=return_client)
        else:
            from idp.flows.login import inactive_account_message

            with force_locale(account.locale or locale):
                reason = inactive_account_message(account)
            _send(session, account, "deactivated", reason_text=reason, client_id=return_client)
        account_id = account.id
    audit.record("reset_requested", account_id)


def reset_password(token: str, password: str, password_confirm: str) -> Account:
    _link, account = peek_link(token, "reset")
    errors, unmet = password_problems(password, password_confirm)
    if errors:
        raise Problems(errors, unmet)
    with get_db().session() as session:
        link = consume_link(session, token, "reset")
        account = session.get(Account, link.account_id)
        account.password_hash, account.password_changed_at = hash_password(password), utcnow()
        _send(session, account, "password_changed", client_id=(link.data or {}).get(returning.LINK_KEY))
    revoke_everything(account.id)
    audit.record("password_reset", account.id)
    return account


def revoke_everything(account_id: str, keep_sid: str | None = None) -> None:
    """End every IdP session (back-channel logout to each portal) and revoke every refresh token."""
    sessions.end_all_sessions(account_id, keep_sid=keep_sid)
    with get_db().session() as session:
        query = update(RefreshToken).where(RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
        if keep_sid:
            query = query.where(or_(RefreshToken.sid.is_(None), RefreshToken.sid != keep_sid))
        session.execute(query.values(revoked_at=utcnow()))


# ---------------------------------------------------------------------------------------------
# Changes from the account page

def change_password(account_id: str, current: str, password: str, password_confirm: str, keep_sid: str) -> None:
    with get_db().session() as session:
        account = session.get(Account, account_id)
        errors, unmet = password_problems(password, password_confirm)
        if not verify_password(account.password_hash, current).ok:
            errors = {"current_password": "wrong", **errors}
        if errors:
            raise Problems(errors, unmet)
        account.password_hash, account.password_changed_at = hash_password(password), utcnow()
        _send(session, account, "password_changed")
    revoke_everything(account_id, keep_sid=keep_sid)
    audit.record("password_changed", account_id)


def request_email_change(account_id: str, new_email: str, current_password: str, *, sid: str | None,
                         session_amr: list[str]) -> None:
    """An account guarded by its password alone moves only once its mailbox is proven in session
    ``sid`` (mailbox_proof): otherwise a stolen password would take the account to the thief's
    address, and with it the proof that binds a first factor."""
    from idp.services import mailbox_proof

    mailbox_proof.demand(sid, account_id, session_amr)
    new_email = normalise_email(new_email)
    with get_db().session() as session:
        account = session.get(Account, account_id)
        errors = {}
        if not valid_email(new_email):
            errors["new_email"] = "invalid"
        elif new_email == account.email:
            errors["new_email"] = "same"
        if not verify_password(account.password_hash, current_password).ok:
            errors["current_password"] = "wrong"  # noqa: S105 (an error code, not a password)
        if errors:
            raise Problems(errors)
        owner = session.scalar(select(Account).where(Account.email == new_email))
        if owner is not None:  # same screen; the address's owner is told, nothing changes
            _send(session, owner, "address_in_use")
        else:
            token = issue_link(session, account.id, "email_change", {"new_email": new_email})
            _send(session, new_email, "email_change", locale=account.locale, url=link_url("email_change", token))
            _send(session, account, "email_change_requested", new_email=new_email)
    mailbox_proof.spend(sid)
    audit.record("email_change_requested", account_id)


# Called with (account id, new address) once an address change is confirmed (the relying
# parties' account events register here).
EMAIL_CHANGED_HOOKS: list = []


def confirm_email_change(token: str) -> Account:
    with get_db().session() as session:
        link = consume_link(session, token, "email_change")
        new_email = link.data["new_email"]
        if session.scalar(select(Account.id).where(Account.email == new_email)):
            raise LinkProblem("taken")
        account = session.get(Account, link.account_id)
        old_email = account.email
        account.email, account.email_verified = new_email, True
        _send(session, old_email, "email_changed", locale=account.locale, new_email=new_email)
    audit.record("email_changed", account.id, old=old_email, new=new_email)
    for hook in EMAIL_CHANGED_HOOKS:
        hook(account.id, new_email)
    return account


# ---------------------------------------------------------------------------------------------
# Deactivation and its ways back

def deactivate(account_id: str, reason: str) -> None:
    """Deactivate (hook of the organisations' invalidation): no sign-in, no token, every session ended."""
    with get_db().session() as session:
        account = session.get(Account, account_id)
        if account is None:
            return
        account.status, account.deactivation_reason = "deactivated", reason
    revoke_everything(account_id)
    audit.record("account_deactivated", account_id, reason=reason)


def reactivate(account_id: str) -> None:
    with get_db().session() as session:
        account = session.get(Account, account_id)
        account.status, account.deactivation_reason = ("active" if account.password_hash else "pending"), None
        account.last_login_at = utcnow()  # the 16 months start again
    audit.record("account_reactivated", account_id)


DORMANCY_WARNING = timedelta(days=30)


def dormant_after() -> timedelta:
    """Seed 002's 16 months, or ``[lifecycle] dormant_after_days`` of config/idp.toml."""
    days = get_settings().section("lifecycle").get("dormant_after_days")
    return timedelta(days=float(days)) if days else DORMANT_AFTER


def _dormancy_candidates(session: Session, older_than: datetime):
    """Active e-services accounts (those with an organisation membership: seed 002's rule is about the
    e-services portal) whose last sign-in is older than ``older_than``. eComms applicants, registry
    staff and federated people without a membership are never made dormant."""
    last_seen = func.coalesce(Account.last_login_at, Account.created_at)
    return session.scalars(select(Account).where(
        Account.status == "active", last_seen < older_than,
        Account.id.in_(select(Membership.account_id).where(Membership.status != "invalidated"))))


def warn_dormant(now: datetime | None = None) -> int:
    """Thirty days before: the owner is told the date and that signing in keeps the account (once per
    period without sign-in)."""
    now, count = now or utcnow(), 0
    with get_db().session() as session:
        for account in _dormancy_candidates(session, now - dormant_after() + DORMANCY_WARNING):
            since = as_utc(account.last_login_at or account.created_at)
            warned = session.scalar(select(AuditEvent.id).where(
                AuditEvent.kind == "dormancy_warned", AuditEvent.account_id == account.id, AuditEvent.at > since))
            if warned:
                continue
            with force_locale(account.locale or "fr"):
                deadline = format_date(since + dormant_after())
            _send(session, account, "dormancy_warning", date=deadline, url=f"{get_settings().issuer}/account")
            session.add(AuditEvent(kind="dormancy_warned", account_id=account.id, detail={}))
            count += 1
    return count


def deactivate_dormant(now: datetime | None = None) -> int:
    """Seed 002: e-services accounts without sign-in for 16 months are deactivated, and told so with
    the way back (a new activation link)."""
    now = now or utcnow()
    with get_db().session() as session:
        ids = [a.id for a in _dormancy_candidates(session, now - dormant_after())]
    for account_id in ids:
        deactivate(account_id, "dormant")
        with get_db().session() as session:
            account = session.get(Account, account_id)
            from idp.flows.login import inactive_account_message

            with force_locale(account.locale or "fr"):
                reason = inactive_account_message(account)
            _send(session, account, "deactivated", reason_text=f"{reason}\n{get_settings().issuer}/activate")
    return len(ids)


def expire_activations(now: datetime | None = None) -> int:
    """Pending accounts whose last activation link expired unused are deactivated (a new link is the way back)."""
    now = now or utcnow()
    with get_db().session() as session:
        live = select(AccountLink.account_id).where(AccountLink.purpose == "activation",
                                                    AccountLink.used_at.is_(None), AccountLink.expires_at > now)
        expired = select(AccountLink.account_id).where(AccountLink.purpose == "activation",
                                                       AccountLink.expires_at <= now)
        ids = list(session.scalars(select(Account.id).where(
            Account.status == "pending", Account.id.in_(expired), Account.id.not_in(live))))
    for account_id in ids:
        deactivate(account_id, "activation_expired")
    return len(ids)


HOUSEKEEPING_JOBS: list[Callable[[datetime], dict[str, int]]] = []  # e.g. the organisations' expiry


def housekeeping(now: datetime | None = None) -> dict[str, int]:
    done = {"dormancy_warned": warn_dormant(now), "dormant": deactivate_dormant(now),
            "activation_expired": expire_activations(now)}
    for job in HOUSEKEEPING_JOBS:
        done.update(job(now or utcnow()))
    return done


def start_scheduler(app: Flask, interval: float = 3600.0) -> None:
    """Run the housekeeping hourly (one instance of many per round: shared.jobs)."""
    from shared.jobs import start_periodic

    start_periodic(app, "housekeeping", interval, housekeeping)
