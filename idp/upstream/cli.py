"""``idp federation …``: the upstream providers as configured, and the sandbox providers for the demo."""

from __future__ import annotations

import json

import click


@click.group("federation")
def federation() -> None:
    """Upstream identity providers (federation)."""


@federation.command("providers")
@click.option("--check", is_flag=True, help="Fetch each provider's discovery document and JWKS.")
def providers(check: bool) -> None:
    """List the configured upstream providers (and whether they answer, with --check)."""
    from idp import create_app
    from idp.upstream.base import UpstreamError
    from idp.upstream.registry import get_upstreams

    app = create_app({"_quiet": True})
    with app.app_context():
        issuer = app.config["SETTINGS"].issuer
        rows = []
        for key, upstream in get_upstreams().items():
            d = upstream.describe()
            row = {"key": key, "name": d.display_name, "issuer": upstream.config.issuer,
                   "acr_levels": list(d.acr_levels), "default_acr": upstream.config.default_acr,
                   "identity": upstream.config.identity, "sandbox": d.sandbox,
                   "backchannel_logout_uri": f"{issuer}/federation/{key}/backchannel-logout"}
            if check:
                try:
                    upstream.discovery()
                    upstream.key_set()
                    row["status"] = "ok"
                except UpstreamError as error:
                    row["status"] = error.code
            rows.append(row)
    click.echo(json.dumps(rows, indent=2, ensure_ascii=False))


@federation.command("sandbox")
@click.argument("name", type=click.Choice(["impots", "ameli", "laposte"]))
@click.option("--port", type=int, help="Default: 8011 impots, 8012 ameli, 8013 laposte.")
def sandbox(name: str, port: int | None) -> None:
    """Run one sandbox upstream provider (development server)."""
    from idp.upstream.sandbox import SANDBOX_PROVIDERS, create_sandbox_app, demo_credentials

    click.echo(demo_credentials())
    create_sandbox_app(name).run(host="127.0.0.1", port=port or SANDBOX_PROVIDERS[name]["port"])


@federation.command("citizens")
def citizens() -> None:
    """Print the sandbox providers' demo citizens and their credentials."""
    from idp.upstream.sandbox import demo_credentials

    click.echo(demo_credentials())
