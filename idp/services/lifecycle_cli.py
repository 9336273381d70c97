"""``idp accounts …`` (deactivation, reactivation, housekeeping) and ``idp audit`` (the security trail)."""

from __future__ import annotations

import json
from datetime import datetime

import click
from sqlalchemy import select

from idp.services.lifecycle import REASONS


def _app():
    from idp import create_app

    return create_app({"_quiet": True})


def _echo(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


def _account_or_fail(identifier: str):
    from idp.services import accounts

    account = accounts.find_by_identifier(identifier)
    if account is None:
        raise click.ClickException(f"no account for {identifier!r}")
    return account


@click.group("accounts")
def accounts_cli() -> None:
    """Account lifecycle operations for the support team."""


@accounts_cli.command("deactivate")
@click.argument("identifier")
@click.option("--reason", type=click.Choice(REASONS), default="by_support")
def deactivate(identifier: str, reason: str) -> None:
    from idp.services import lifecycle

    with _app().app_context():
        account = _account_or_fail(identifier)
        lifecycle.deactivate(account.id, reason)
        _echo({"account": account.email, "status": "deactivated", "reason": reason})


@accounts_cli.command("reactivate")
@click.argument("identifier")
def reactivate(identifier: str) -> None:
    """The way back for a dormant account (seed 002: after a support request)."""
    from idp.services import accounts, lifecycle

    with _app().app_context():
        account = _account_or_fail(identifier)
        lifecycle.reactivate(account.id)
        _echo({"account": account.email, "status": accounts.get(account.id).status})


@accounts_cli.command("housekeeping")
def housekeeping() -> None:
    """Deactivate accounts dormant for 16 months and pending accounts whose activation link expired."""
    from idp.services import lifecycle

    with _app().app_context():
        _echo(lifecycle.housekeeping())


@click.command("audit")
@click.option("--account", "identifier", help="email or identifier")
@click.option("--kind", help="e.g. sign_in, sign_in_failed, password_reset, second_factor_enabled")
@click.option("--since", type=click.DateTime(), help="YYYY-MM-DD[ HH:MM:SS] (UTC)")
@click.option("--limit", default=100, show_default=True)
def audit(identifier: str | None, kind: str | None, since: datetime | None, limit: int) -> None:
    """The security events, newest first, one JSON object per line."""
    from idp.storage.sql.models import AuditEvent
    from shared.appkit import get_db

    with _app().app_context():
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if identifier:
            query = query.where(AuditEvent.account_id == _account_or_fail(identifier).id)
        if kind:
            query = query.where(AuditEvent.kind == kind)
        if since:
            query = query.where(AuditEvent.at >= since)
        with get_db().session() as session:
            for event in session.scalars(query):
                _echo({"at": event.at, "kind": event.kind, "account_id": event.account_id,
                       "client_id": event.client_id, "ip": event.ip, "detail": event.detail})
