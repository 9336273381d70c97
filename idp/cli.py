"""The IdP's command line for operators and integrators (``idp …``). Output is JSON for scripts.

Other areas add their commands with one line in ``EXTENSIONS`` ("module:click_command_or_group").
"""

from __future__ import annotations

import json
import sys
from importlib import import_module

import click

EXTENSIONS: list[str] = [
    "idp.services.organisations:cli",
    "idp.upstream.cli:federation",
    "idp.services.lifecycle_cli:accounts_cli",
    "idp.services.lifecycle_cli:audit",
    "idp.services.operators_cli:operators_cli",
]


def _app():
    from idp import create_app

    return create_app({"_quiet": True})


def _print(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


@click.group()
def main() -> None:
    """Identity provider administration."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (all branches)."""
    from idp import upgrade_database
    from shared.config import load_settings

    upgrade_database(load_settings("idp", {"_quiet": True}).database_url)
    _print({"status": "upgraded"})


@main.group()
def clients() -> None:
    """Registered relying parties."""


@clients.command("add")
@click.option("--name", required=True)
@click.option("--client-id", help="Default: made from the name and a random suffix.")
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--post-logout-redirect-uri", "post_logout_uris", multiple=True)
@click.option("--backchannel-logout-uri")
@click.option("--no-pkce", is_flag=True, help="Allow code flow without PKCE (OpenID conformance Basic profile).")
@click.option("--id-token-alg", type=click.Choice(["RS256", "ES256"]), default="RS256")
@click.option("--scope", default="openid profile email offline_access")
@click.option("--first-party", is_flag=True, help="Implicit consent (our own portals).")
@click.option("--grant-type", "grant_types", multiple=True,
              type=click.Choice(["authorization_code", "refresh_token", "client_credentials"]),
              help="Default: authorization_code and refresh_token. client_credentials is off unless given, "
                   "and only the API scopes config/authorization.toml grants this client come with it.")
@click.option("--auth-method", "auth_method", default="client_secret_basic",
              type=click.Choice(["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt",
                                 "none"]),
              help="How it authenticates at the token endpoint: 'none' is a public client (SPA, native app; PKCE "
                   "required), private_key_jwt needs --jwks-uri or --jwks-file.")
@click.option("--allowed-origin", "allowed_origins", multiple=True,
              help="A browser origin (scheme://host[:port]) the client calls the IdP from (CORS), for a SPA.")
@click.option("--jwks-uri", help="private_key_jwt: the https URL serving the client's public keys.")
@click.option("--jwks-file", type=click.File(), help="private_key_jwt: a JSON file holding its public JWK set.")
@click.option("--require-par", is_flag=True, help="Authorization requests only through PAR (RFC 9126).")
@click.option("--profile", type=click.Choice(["fapi2"]),
              help="FAPI 2.0 Security Profile: PAR, PKCE, private_key_jwt (PS256/ES256), DPoP, ES256 ID tokens, https.")
@click.option("--resource-server", is_flag=True,
              help="An API's credentials only (no grant, no scope): it introspects the tokens made for it.")
def clients_add(name, client_id, redirect_uris, post_logout_uris, backchannel_logout_uri, no_pkce, id_token_alg, scope,
                first_party, grant_types, auth_method, allowed_origins, jwks_uri, jwks_file, require_par,
                profile, resource_server) -> None:
    """Register a client; prints its id and secret (the secret is shown only once; public and
    private_key_jwt clients have none).

    A client gets at most the scopes given here, and only those config/authorization.toml allows it."""
    from idp.services import clients as service

    with _app().app_context():
        try:
            service.check_operator_uris(list(redirect_uris), list(post_logout_uris))  # the console's rules too
            client, secret = service.create(name, list(redirect_uris), list(post_logout_uris), backchannel_logout_uri,
                                            require_pkce=not no_pkce, id_token_alg=id_token_alg,
                                            scope="" if resource_server else scope, first_party=first_party,
                                            grant_types=[] if resource_server else (list(grant_types) or None),
                                            token_endpoint_auth_method=auth_method, client_id=client_id,
                                            allowed_origins=list(allowed_origins),
                                            jwks=json.load(jwks_file) if jwks_file else None, jwks_uri=jwks_uri,
                                            policy={**({"require_par": True} if require_par else {}),
                                                    **({"profile": profile} if profile else {})})
        except (ValueError, json.JSONDecodeError) as error:
            raise click.ClickException(str(error)) from error
    _print({"client_id": client.client_id, "client_secret": secret, "name": client.name,
            "redirect_uris": list(client.redirect_uris), "require_pkce": client.require_pkce,
            "grant_types": list(client.grant_types), "scope": client.scope,
            "token_endpoint_auth_method": client.token_endpoint_auth_method,
            "allowed_origins": list(client.allowed_origins), "require_par": client.require_par,
            "id_token_signed_response_alg": client.id_token_signed_response_alg})


@clients.command("initial-token")
@click.option("--expires-in", type=int, default=86400, show_default=True, help="Seconds the token is valid.")
@click.option("--uses", type=int, default=1, show_default=True, help="How many registrations it allows.")
def clients_initial_token(expires_in, uses) -> None:
    """An initial access token for dynamic client registration (RFC 7591, POST /register)."""
    from idp.services import registration

    with _app().app_context():
        _print({"initial_access_token": registration.issue_initial_token(expires_in, uses), "expires_in": expires_in,
                "uses": uses})


@clients.command("sync")
def clients_sync() -> None:
    """Register or update the clients of config/clients.toml (secrets kept)."""
    from idp.services import clients as service
    from shared.appkit import get_settings

    with _app().app_context():
        _print(service.sync_from_config(get_settings()))


@clients.command("list")
def clients_list() -> None:
    from idp.services import clients as service

    with _app().app_context():
        _print([{"client_id": c.client_id, "name": c.name, "redirect_uris": list(c.redirect_uris)}
                for c in service.all_clients()])


@main.group()
def users() -> None:
    """Accounts."""


@users.command("add")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", "roles", multiple=True, help="e.g. registry (the Court's registry staff)")
@click.option("--given-name")
@click.option("--family-name")
@click.option("--locale", default="fr", type=click.Choice(["fr", "en"]))
def users_add(email, password, roles, given_name, family_name, locale) -> None:
    """Create an active, verified account; prints its id."""
    from idp.services import accounts

    with _app().app_context():
        try:
            account = accounts.create(email, password, roles=list(roles), given_name=given_name,
                                      family_name=family_name, locale=locale)
        except accounts.AccountError as error:
            messages = {"email_taken": "an account with this email exists",
                        "weak_password": f"password breaks the rules: {error.detail}"}
            raise click.ClickException(messages.get(error.code, error.code)) from error
    _print({"id": account.id, "email": account.email, "status": account.status, "roles": list(roles)})


@main.group()
def keys() -> None:
    """Signing keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """A new key signs from now on; the old one stays published for verification."""
    with _app().app_context() as _ctx:
        from flask import current_app

        ring = current_app.extensions["keyring"]
        ring.rotate()
        _print(ring.describe())


@keys.command("retire")
@click.argument("kid")
def keys_retire(kid) -> None:
    """Stop publishing a non-active key (tokens it signed no longer verify)."""
    with _app().app_context():
        from flask import current_app

        ring = current_app.extensions["keyring"]
        try:
            from idp.services.operations_keys import tokens_live_for

            ring.retire(kid, tokens_live_for())
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        _print(ring.describe())


@keys.command("list")
def keys_list() -> None:
    with _app().app_context():
        from flask import current_app

        _print(current_app.extensions["keyring"].describe())


def _load_extensions() -> None:
    for path in EXTENSIONS:
        module_name, attribute = path.split(":")
        try:
            main.add_command(getattr(import_module(module_name), attribute))
        except ImportError as error:  # an area mid-way: the rest of the CLI keeps working
            print(f"warning: CLI extension {path} unavailable: {error}", file=sys.stderr)


_load_extensions()

if __name__ == "__main__":
    main()
