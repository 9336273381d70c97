"""The operators' console on registered clients: each change goes through ``idp.services.clients``
(the same rules as ``idp clients add``; config/authorization.toml still decides the scopes) and
leaves an audit event naming the operator."""

from __future__ import annotations

from dataclasses import dataclass

from idp.services import audit, clients
from idp.services.clients import RegisteredClient

# The policies an operator switches on or off; every other policy key is kept as registered.
SWITCHABLE_POLICIES = ("require_mfa", "require_par", "require_dpop", "require_federation", "require_pivot")


def lines(text: str | None) -> list[str]:
    """A textarea's addresses, one per line, blanks dropped, duplicates once."""
    return list(dict.fromkeys(line.strip() for line in (text or "").splitlines() if line.strip()))


def listing() -> list[RegisteredClient]:
    return sorted(clients.all_clients(), key=lambda c: (c.name.lower(), c.client_id))


def find(client_id: str) -> RegisteredClient | None:
    return clients.get(client_id, fresh=True, include_disabled=True)


@dataclass
class Registration:
    """What the console's form asks; the rules are ``clients.create``'s."""

    name: str
    client_id: str | None
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    backchannel_logout_uri: str | None
    auth_method: str
    grant_types: list[str]
    scope: str
    first_party: bool
    require_par: bool
    jwks_uri: str | None


def register(operator_id: str, form: Registration) -> tuple[RegisteredClient, str | None]:
    if not form.name.strip():
        raise clients.RegistrationRefused("a client needs a name", "name_required")
    clients.check_operator_uris(form.redirect_uris, form.post_logout_redirect_uris)
    client, secret = clients.create(
        form.name.strip(), form.redirect_uris, form.post_logout_redirect_uris, form.backchannel_logout_uri or None,
        scope=form.scope, client_id=form.client_id or None, first_party=form.first_party,
        grant_types=form.grant_types or None, token_endpoint_auth_method=form.auth_method,
        jwks_uri=form.jwks_uri or None, policy={"require_par": True} if form.require_par else None)
    audit.record("operations_client_registered", operator_id, client.client_id, operator=operator_id,
                 grant_types=list(client.grant_types), scope=client.scope)
    return client, secret


def change_redirect_uris(operator_id: str, client_id: str, redirect_uris: list[str],
                         post_logout_redirect_uris: list[str]) -> RegisteredClient:
    before = find(client_id)
    clients.check_operator_uris(redirect_uris, post_logout_redirect_uris)
    client = clients.change(client_id, redirect_uris=redirect_uris, post_logout_redirect_uris=post_logout_redirect_uris)
    audit.record("operations_client_redirect_uris", operator_id, client_id, operator=operator_id,
                 before=list(before.redirect_uris), after=list(client.redirect_uris),
                 post_logout_after=list(client.post_logout_redirect_uris))
    return client


def change_policies(operator_id: str, client_id: str, switched_on: set[str]) -> RegisteredClient:
    current = find(client_id)
    if current is None:
        raise ValueError(f"no client {client_id}")
    unknown = sorted(switched_on - set(SWITCHABLE_POLICIES))
    if unknown:  # a forged or stale form: say so rather than save the others and drop these silently
        raise clients.RegistrationRefused(f"unknown policy: {', '.join(unknown)}", "unknown_policy",
                                          names=", ".join(name[:40] for name in unknown[:5]))
    policy = {key: value for key, value in current.policy.items() if key not in SWITCHABLE_POLICIES}
    policy.update({key: True for key in SWITCHABLE_POLICIES if key in switched_on})
    client = clients.change(client_id, policy=policy)
    audit.record("operations_client_policies", operator_id, client_id, operator=operator_id,
                 on=sorted(k for k in SWITCHABLE_POLICIES if client.policy.get(k)))
    return client


def rotate_secret(operator_id: str, client_id: str) -> str:
    secret = clients.rotate_secret(client_id)
    audit.record("operations_client_secret_rotated", operator_id, client_id, operator=operator_id)
    return secret


def set_disabled(operator_id: str, client_id: str, disabled: bool) -> RegisteredClient:
    client = clients.set_disabled(client_id, disabled)
    audit.record("operations_client_disabled" if disabled else "operations_client_enabled", operator_id, client_id,
                 operator=operator_id)
    return client
