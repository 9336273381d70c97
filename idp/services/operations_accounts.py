"""The operators' console on accounts: search, status and reason, reactivation, the second
factor's reset after a documented identity check, and ending every session.

A reset is the one action here that gives an account away if abused: the operator records which
identity check was made (one of ``IDENTITY_CHECKS``) and its reference (the ticket, the letter's
number), the audit event keeps both, and the person is emailed in their language at once, so a
reset they did not ask for is seen by them, not only by whoever reads the trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from idp.services import audit, branding, lifecycle, mfa, sessions, text_fields
from idp.storage.sql.models import Account, AuditEvent
from idp.storage.sql.outbox import OutboxMessage
from shared.appkit import get_db
from shared.outbox import queue_email

PAGE_SIZE = 25
# How the operator made sure the person asking is the account's owner (the reset form's choices).
IDENTITY_CHECKS = ("id_document_video", "id_document_in_person", "letter_code", "callback_known_phone")
REFERENCE_MAX = 100


@dataclass
class Found:
    accounts: list[Account]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def search(text: str, page: int = 1) -> Found:
    """Accounts whose email, identifier or name contains ``text`` (case-insensitive), by email."""
    words = " ".join(text.split())[:200].lower()
    if not words:
        return Found([], 0, 1)
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    full_name = func.lower(func.coalesce(Account.given_name, "") + " " + func.coalesce(Account.family_name, ""))
    condition = or_(Account.email.like(pattern, escape="\\"), func.lower(Account.username).like(pattern, escape="\\"),
                    full_name.like(pattern, escape="\\"),
                    func.lower(func.coalesce(Account.family_name, "") + " " + func.coalesce(Account.given_name, ""))
                    .like(pattern, escape="\\"))
    with get_db().session() as session:
        total = session.scalar(select(func.count()).select_from(Account).where(condition)) or 0
        page = min(max(1, page), max(1, -(-total // PAGE_SIZE)))
        rows = list(session.scalars(select(Account).where(condition).order_by(Account.email)
                                    .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    return Found(rows, total, page)


@dataclass
class AccountView:
    account: Account
    second_factor: bool
    sessions: list[sessions.IdpSession]
    events: list[AuditEvent]


def view(account_id: str) -> AccountView | None:
    with get_db().session() as session:
        account = session.get(Account, account_id)
        if account is None:
            return None
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.account_id == account_id)
                                      .order_by(AuditEvent.id.desc()).limit(20)))
    return AccountView(account, mfa.has_second_factor(account_id), sessions.list_sessions(account_id), events)


class NotApplicable(ValueError):
    """The action does not apply to the account as it is; the message is its code
    (not_deactivated, no_second_factor, own_account: an operator's own factor is not reset here)."""


def reactivate(operator_id: str, account_id: str) -> None:
    """What ``idp accounts reactivate`` does, from the console."""
    account = view(account_id).account
    if account.status != "deactivated":
        raise NotApplicable("not_deactivated")
    lifecycle.reactivate(account_id)
    audit.record("operations_account_reactivated", account_id, operator=operator_id,
                 reason_was=account.deactivation_reason)


def end_sessions(operator_id: str, account_id: str, sid: str | None = None) -> int:
    """End one session of this account (``sid``) or all of them, as signing out does: back-channel
    logout to every client they touched, refresh tokens revoked."""
    if sid is not None:
        if sid not in {s.sid for s in sessions.list_sessions(account_id)}:
            raise LookupError("not a session of this account")
        sessions.end_session(sid)
        ended = 1
    else:
        ended = len(sessions.list_sessions(account_id))
        lifecycle.revoke_everything(account_id)
    audit.record("operations_sessions_ended", account_id, operator=operator_id, sessions=ended,
                 one=bool(sid))
    return ended


class ResetRefused(ValueError):
    """``errors``: field → code (check: required/invalid; reference: required/control/too_long)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(errors))
        self.errors = errors


def check_reset_input(check: str, reference: str) -> str:
    errors = {}
    if check not in IDENTITY_CHECKS:
        errors["check"] = "required" if not check else "invalid"
    reference = text_fields.clean(reference)
    if not reference:
        errors["reference"] = "required"
    elif text_fields.has_forbidden(reference):
        errors["reference"] = "control"
    elif len(reference) > REFERENCE_MAX:
        errors["reference"] = "too_long"
    if errors:
        raise ResetRefused(errors)
    return reference


def reset_second_factor(operator_id: str, account_id: str, check: str, reference: str) -> None:
    """Remove the factor (the person enrols again at next sign-in or from the account page), end
    every session and token, email the person, audit the check and its reference."""
    reference = check_reset_input(check, reference)
    account = view(account_id).account
    if operator_id == account_id:
        raise NotApplicable("own_account")
    if not mfa.remove(account_id):
        raise NotApplicable("no_second_factor")
    lifecycle.revoke_everything(account_id)
    with get_db().session() as session:
        notify_reset(session, account, check)
        audit.record("operations_second_factor_reset", account_id, within=session, operator=operator_id,
                     check=check, reference=reference)


def check_labels() -> dict[str, str]:
    return {"id_document_video": _("Pièce d'identité présentée en visioconférence"),
            "id_document_in_person": _("Pièce d'identité présentée en personne"),
            "letter_code": _("Code envoyé par courrier à l'adresse postale connue"),
            "callback_known_phone": _("Rappel au numéro de téléphone déjà connu")}


def notify_reset(session, account: Account, check: str) -> None:
    """The person hears of the reset at once, in their language, from the IdP's own brand."""
    locale = account.locale or "fr"
    sender = branding.mail_identity(None)
    with force_locale(locale):
        subject = _("La validation en deux étapes de votre compte a été réinitialisée")
        body = _("Bonjour,\n\nÀ votre demande, l'assistance a réinitialisé la validation en deux étapes de votre "
                 "compte, après cette vérification de votre identité : %(check)s.\nToutes vos sessions ont été "
                 "fermées. À votre prochaine connexion, activez-la de nouveau depuis la page « Mon compte ».\n\n"
                 "Si vous n'avez rien demandé, changez votre mot de passe et contactez l'assistance sans attendre.",
                 check=check_labels()[check])
        body += "\n\n-- \n" + _("%(service)s — ce message est envoyé automatiquement, n'y répondez pas.",
                                   service=sender.name)
    queue_email(session, OutboxMessage, to=account.email, subject=subject, body_text=body, locale=locale,
                sender_name=sender.name)
