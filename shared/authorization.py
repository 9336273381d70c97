"""The authorization model of ``config/authorization.toml``, read by the IdP (what it issues) and
by every protected API (what it accepts): which client may obtain which scope, through which
grant, for which audience. Loaded once per process; see the file for the rules."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from shared.config import ConfigError, load_toml

USER_GRANTS = ("authorization_code", "refresh_token")


@dataclass(frozen=True)
class Api:
    name: str
    audience: str
    scope: str
    clients: frozenset[str]
    grants: frozenset[str]
    # clients serving this API that may introspect its tokens (RFC 7662); the IdP's own APIs need none
    resource_servers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AuthorizationModel:
    person_scopes: frozenset[str]
    person_grants: frozenset[str]
    apis: tuple[Api, ...]

    def api_for_scope(self, scope: str) -> Api | None:
        return next((api for api in self.apis if api.scope == scope), None)

    def api(self, name: str) -> Api:
        found = next((api for api in self.apis if api.name == name), None)
        if found is None:
            raise ConfigError(f"config/authorization.toml: no API named {name!r}")
        return found

    def known_scopes(self) -> list[str]:
        return sorted(self.person_scopes) + [api.scope for api in self.apis]

    def may_obtain(self, client_id: str, scope: str, grant_type: str) -> bool:
        """Whether this client may be issued this scope through this grant (registration apart)."""
        if scope in self.person_scopes:
            return grant_type in self.person_grants
        api = self.api_for_scope(scope)
        return api is not None and client_id in api.clients and grant_type in api.grants

    def allowed(self, client_id: str, registered: str, requested: str, grant_type: str) -> list[str]:
        """The requested scopes this client gets: registered for it and allowed by the model."""
        registered_set = set(registered.split())
        return [s for s in dict.fromkeys(requested.split())
                if s in registered_set and self.may_obtain(client_id, s, grant_type)]

    def audiences(self, scopes: list[str]) -> list[str]:
        return [api.audience for api in self.apis if api.scope in scopes]

    def refused_registration(self, client_id: str, scopes: str, grant_types: list[str]) -> list[str]:
        """Scopes a client registration asks for that the model would never issue to it."""
        refused = []
        for scope in scopes.split():
            if not any(self.may_obtain(client_id, scope, grant) for grant in grant_types):
                refused.append(scope)
        return refused


def parse(data: dict) -> AuthorizationModel:
    person = data.get("person", {})
    apis = []
    for name, entry in data.get("api", {}).items():
        try:
            apis.append(Api(name, entry["audience"], entry["scope"], frozenset(entry["clients"]),
                            frozenset(entry["grants"]), frozenset(entry.get("resource_servers", []))))
        except KeyError as missing:
            raise ConfigError(f"config/authorization.toml: api.{name} needs {missing}") from None
    return AuthorizationModel(frozenset(person.get("scopes", [])), frozenset(person.get("grants", USER_GRANTS)),
                              tuple(apis))


@cache
def model() -> AuthorizationModel:
    return parse(load_toml("authorization.toml"))


def token_acceptable(claims: dict, api: Api) -> str | None:
    """Why an API refuses this (already verified) access token, or None: its audience, its scope
    and the client it was issued to must all be this API's."""
    aud = claims.get("aud")
    if api.audience not in (aud if isinstance(aud, list) else [aud]):
        return "wrong audience"
    if api.scope not in str(claims.get("scope", "")).split():
        return "insufficient scope"
    if claims.get("client_id") not in api.clients:
        return "client not allowed"
    return None
