"""The emails that tell a person a factor of their account changed or was used: a passkey added
or removed, a recovery code spent. Sent through the outbox, in the account's language, so that
someone who did not do it learns it at once and knows the way back."""

from __future__ import annotations

from flask_babel import gettext as _

from idp.services import lifecycle
from idp.storage.sql.models import Account
from shared.appkit import get_db


def _passkey_added_email(name: str, account: str):
    return (_("Une clé d'accès a été ajoutée à votre compte"),
            _("Bonjour,\n\nLa clé d'accès « %(name)s » a été ajoutée à votre compte %(account)s : elle permet "
              "désormais de vous connecter. Si vous n'êtes pas à l'origine de cet ajout, retirez-la depuis la "
              "page « Mon compte » et changez votre mot de passe.", name=name, account=account))


def _passkey_removed_email(name: str, account: str):
    return (_("Une clé d'accès a été retirée de votre compte"),
            _("Bonjour,\n\nLa clé d'accès « %(name)s » a été retirée de votre compte %(account)s : elle ne "
              "permet plus de vous connecter. Si vous n'êtes pas à l'origine de ce retrait, changez votre mot de "
              "passe et contactez l'assistance.", name=name, account=account))


def _recovery_code_used_email(left: int, account: str):
    return (_("Un code de secours a été utilisé"),
            _("Bonjour,\n\nUn code de secours vient d'être utilisé pour vous connecter à votre compte %(account)s. "
              "Il vous en reste %(left)s. Si ce n'était pas vous, quelqu'un connaît votre mot de passe et un de vos "
              "codes : changez votre mot de passe, générez de nouveaux codes de secours depuis la page « Mon "
              "compte » et contactez l'assistance.", left=left, account=account))


EMAILS = {"passkey_added": _passkey_added_email, "passkey_removed": _passkey_removed_email,
          "recovery_code_used": _recovery_code_used_email}
lifecycle.EMAILS.update(EMAILS)  # one sending path (outbox, language, signature) for every account email


def send(account_id: str, kind: str, **values) -> None:
    with get_db().session() as session:
        account = session.get(Account, account_id)
        if account is not None:
            lifecycle._send(session, account, kind, **values)
