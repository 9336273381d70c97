"""The support desk's command line (``flask --app portals.eservices support …``): the support
requests of the form at the bottom of every page, as the operators read and close them until the
operators' console lists them. The desk also receives each request by email (``ESERVICES_SUPPORT_ADDRESS``).
"""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from portals.eservices import services
from shared.appkit import get_db


@click.group("support")
def support() -> None:
    """Support requests (demandes d'assistance)."""


@support.command("list")
@click.option("--all", "everything", is_flag=True, help="closed requests too")
@with_appcontext
def list_requests(everything: bool) -> None:
    """One JSON line per request, oldest first: reference, date (UTC), topic, who, message."""
    with get_db().session() as session:
        for record in services.support_requests(session, None if everything else "open"):
            click.echo(json.dumps({
                "reference": record.reference, "created_at": record.created_at.isoformat(), "status": record.status,
                "topic": record.topic, "name": record.name, "email": record.email,
                "organisation_id": record.organisation_id, "page": record.page, "message": record.message,
            }, ensure_ascii=False))


@support.command("close")
@click.argument("reference")
@with_appcontext
def close_request(reference: str) -> None:
    """Mark a request answered (it leaves the list of open requests)."""
    with get_db().session() as session:
        record = services.close_support_request(session, reference)
        if record is None:
            raise click.ClickException(f"no support request {reference}")
    click.echo(f"{reference.upper()} closed")
