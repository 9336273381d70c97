"""``idp operators …``: who may use the operators' console (the ``operator`` role), each change audited."""

from __future__ import annotations

import json

import click


def _app():
    from idp import create_app

    return create_app({"_quiet": True})


def _echo(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


@click.group("operators")
def operators_cli() -> None:
    """The operators' console's role (a second factor is required to use it)."""


def _change(email: str, present: bool) -> None:
    from idp.services import mfa, operators

    with _app().app_context():
        try:
            account = (operators.grant if present else operators.revoke)(email, by="cli")
        except operators.UnknownAccount:
            raise click.ClickException(f"no account for {email!r}") from None
        except operators.NoSecondFactor:
            raise click.ClickException(
                f"{email!r} has no second factor: the person turns on two-step verification or adds a passkey "
                "at /account first, then grant again") from None
        _echo({"email": account.email, "operator": present, "second_factor": mfa.is_enabled(account.id)})


@operators_cli.command("grant")
@click.argument("email")
def grant(email: str) -> None:
    """Give EMAIL's account the operator role; refused unless it already has a second factor (TOTP or passkey)."""
    _change(email, True)


@operators_cli.command("revoke")
@click.argument("email")
def revoke(email: str) -> None:
    """Take the operator role away; the console refuses the account's next request."""
    _change(email, False)


@operators_cli.command("list")
def list_operators() -> None:
    from idp.services import mfa, operators

    with _app().app_context():
        _echo([{"email": a.email, "second_factor": mfa.is_enabled(a.id)} for a in operators.operators()])
