"""The authorization server: Authlib's server with our grants, token generator and storage.

``/authorize`` checks run as an ordered table of small functions (node-oidc-provider style), see
``AUTHORIZE_CHECKS``; Authlib validates client, redirect URI, response type, scope and PKCE shape.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from flask import Flask, g, redirect

from idp.oidc import claims as claims_module
from idp.oidc import client_auth, grants, par, response_modes, tokens
from idp.oidc.introspection import Introspection
from idp.oidc.revocation import Revocation
from idp.services import clients
from idp.storage.sql.models import new_id
from shared import authorization
from shared.appkit import get_redis, get_settings
from shared.metrics import TOKENS_ISSUED
from shared.timeutil import utcnow

SCOPES = authorization.model().known_scopes()

server = AuthorizationServer()


def granted_scopes(client, requested: str | None, grant_type: str) -> list[str]:
    """The one choke point of every grant: at most what the client is registered for and what the
    authorization model (config/authorization.toml) lets it obtain through this grant."""
    return authorization.model().allowed(client.client_id, client.scope, requested or "", grant_type)


def generate_token(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
    granted = granted_scopes(client, scope, grant_type)
    TOKENS_ISSUED.labels(grant_type).inc()
    scope = " ".join(granted)
    audiences = authorization.model().audiences(granted)
    jkt = g.get("dpop_jkt")  # the token request's DPoP proof, verified by the route (dpop.py)
    if jkt is None and client.policy.get("require_dpop"):  # the authenticated client's own rule, again
        raise InvalidRequestError("this client must send a DPoP proof")
    bound = {"cnf": {"jkt": jkt}} if jkt else {}
    if user is not None:
        sub = claims_module.pairwise_sub(user.account.id, client)
        extra = {"sid": user.sid, **bound} if user.sid else bound
        access, lifetime = tokens.access_token(sub, client, scope, user.gid, extra, [client.client_id, *audiences])
        # userinfo maps the pairwise sub back to the account while the access token lives (written
        # by save_token, in the same round trip to Redis as its revocation check)
        g.sub_index = (f"idp:sub-index:{client.client_id}:{sub}", user.account.id, lifetime + 300)
    else:  # client credentials: the client acts for itself, towards the APIs it was granted
        access, lifetime = tokens.access_token(client.client_id, client, scope, None, bound,
                                               audiences or [client.client_id])
    token = {"token_type": "DPoP" if jkt else "Bearer", "access_token": access, "expires_in": lifetime, "scope": scope}
    # a refresh always gets a successor (RFC 6749 §6: even for a narrower scope, which applies to
    # this access token only), else the client's next refresh looks like a stolen token's
    if include_refresh_token and user is not None and ("offline_access" in granted or grant_type == "refresh_token"):
        token["refresh_token"] = secrets.token_urlsafe(48)
    return token


def save_token(token: dict, request) -> None:
    """Store the new refresh token, if any; on a refresh grant, mark the presented one used in the
    same transaction. When a concurrent request rotated it first, nothing is stored, the family is
    revoked (one of the two holders is not the client) and the grant is refused."""
    user, presented = request.user, request.refresh_token
    successor = None
    if "refresh_token" in token and user is not None:
        successor = dict(
            id=new_id(), token_hash=grants.digest(token["refresh_token"]), family_id=user.gid,
            client_id=request.client.client_id, account_id=user.account.id, sid=user.sid,
            scope=presented.row.scope if presented is not None else token["scope"],  # the grant's, not a narrowed one
            auth_time=user.auth_time, acr=user.acr, amr=list(user.amr or []), claims=dict(user.context or {}),
            issued_at=utcnow(), expires_at=grants.refresh_expiry(),
            # RFC 9449 §5: a public client's refresh token is bound to its DPoP key (a
            # confidential client's is bound to its client authentication already)
            dpop_jkt=g.get("dpop_jkt") if request.client.is_public else None,
        )
    if (presented is not None or successor is not None) and not grants.rotate_refresh_token(
            presented.row.id if presented else None, successor):
        grants.revoke_family(presented.row.family_id, "refresh token raced")
        raise InvalidGrantError()
    index = g.pop("sub_index", None)
    if index is None and successor is None:
        return
    pipe = get_redis().pipeline(transaction=False)  # one round trip
    if index is not None:
        key, account_id, seconds = index
        pipe.set(key, account_id, ex=seconds)
    if successor is not None:
        # a replay of this grant's code or refresh token revoked it while these tokens were being
        # made (revoke_family marks the grant before touching its refresh tokens): none goes out
        pipe.exists(tokens.revoked_grant_key(user.gid))
    if pipe.execute()[-1] and successor is not None:
        grants.revoke_family(user.gid, "grant revoked while issuing")
        raise InvalidGrantError()


def init_server(app: Flask) -> None:
    # Authlib's debug lines print every issued token and the client record in full: never below
    # INFO, whatever level an operator gives the root logger (tests/operations/test_logs.py)
    logging.getLogger("authlib").setLevel(logging.INFO)
    server.init_app(app, query_client=clients.get, save_token=save_token)
    server.scopes_supported = SCOPES
    server.register_token_generator("default", generate_token)
    server.register_grant(grants.AuthorizationCodeGrant, [grants.S256CodeChallenge(required=True), grants.OpenIDCode()])
    server.register_grant(grants.RefreshTokenGrant, [grants.OpenIDRefresh()])
    server.register_grant(grants.ClientCredentialsGrant)
    client_auth.register(server)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    server.register_endpoint(par.PushedAuthorization(server, validate_params, grants.TOKEN_AUTH_METHODS))


# --- /authorize ------------------------------------------------------------------------------

class AuthorizationRequest:
    """A validated authorization request: the grant, its client, redirect URI and parameters."""

    def __init__(self, grant, redirect_uri: str, params: dict[str, str], through_front_door: bool = False):
        self.grant = grant
        self.client = grant.request.client
        self.redirect_uri = redirect_uri
        self.params = params
        # came as a plain browser request to /authorize (not pushed, not resumed from an
        # interaction that an accepted request began): what "PAR required" refuses
        self.through_front_door = through_front_door

    @property
    def response_mode(self) -> str:
        return self.params.get("response_mode", "query")

    @property
    def prompt(self) -> set[str]:
        return set(self.params.get("prompt", "").split())

    @property
    def scopes(self) -> list[str]:
        """What the code will carry: the requested scopes the client may obtain for a person."""
        return granted_scopes(self.client, self.params.get("scope"), "authorization_code")

    @property
    def requested_acr(self) -> list[str]:
        requested = self.params.get("acr_values", "").split()
        default = self.client.policy.get("default_acr")
        return requested or ([default] if default else [])


def check_pkce_required(request: AuthorizationRequest) -> None:
    if request.client.require_pkce and not request.params.get("code_challenge"):
        raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256",
                                  redirect_uri=request.redirect_uri)
    if request.params.get("code_challenge") and request.params.get("code_challenge_method", "plain") != "S256":
        raise InvalidRequestError("Only code_challenge_method=S256 is supported", redirect_uri=request.redirect_uri)


def check_openid_scope(request: AuthorizationRequest) -> None:
    if "openid" not in request.params.get("scope", "").split() and request.params.get("prompt"):
        return


def check_prompt_values(request: AuthorizationRequest) -> None:
    unknown = request.prompt - {"none", "login", "consent", "select_account"}
    if unknown or ("none" in request.prompt and len(request.prompt) > 1):
        raise InvalidRequestError("Invalid 'prompt' parameter", redirect_uri=request.redirect_uri)


def check_max_age(request: AuthorizationRequest) -> None:
    value = request.params.get("max_age")
    if value is not None and not value.isdigit():
        raise InvalidRequestError("Invalid 'max_age' parameter", redirect_uri=request.redirect_uri)


def check_unsupported_parameters(request: AuthorizationRequest) -> None:
    """Refuse what we do not support instead of ignoring it (node-oidc-provider's answers): a
    client that signs its request or asks for another response mode must know it was not honoured."""
    if "request" in request.params:
        raise _error("request_not_supported", "Request objects are not supported", request)
    if "request_uri" in request.params:
        raise _error("request_uri_not_supported", "request_uri is not supported", request)
    mode = request.params.get("response_mode")
    if mode is not None and mode not in RESPONSE_MODES:
        raise _error("unsupported_response_mode", "Only response_mode=query and form_post are supported", request)


def check_par_required(request: AuthorizationRequest) -> None:
    """A client registered "PAR required" starts only with a pushed request (RFC 9126 §6)."""
    if request.client.require_par and request.through_front_door:
        raise InvalidRequestError("This client must push its authorization request first (PAR)",
                                  redirect_uri=request.redirect_uri)


def _error(code: str, description: str, request: AuthorizationRequest) -> OAuth2Error:
    error = InvalidRequestError(description, redirect_uri=request.redirect_uri)
    error.error = code
    return error


RESPONSE_MODES = ("query", "form_post")
AUTHORIZE_CHECKS = [check_unsupported_parameters, check_par_required, check_pkce_required, check_prompt_values,
                    check_max_age]


def _grant_for(oauth_request: OAuth2Request, params: dict[str, str],
               through_front_door: bool = False) -> AuthorizationRequest:
    try:
        grant = server.get_authorization_grant(oauth_request)
    except ValueError as error:  # Authlib will not echo a value holding '"' or '\\' in its error text
        raise InvalidRequestError("Invalid 'response_type' parameter") from error
    grant.validate_no_multiple_request_parameter(oauth_request)
    try:
        redirect_uri = grant.validate_authorization_request()
    except ValueError as error:  # Authlib cannot word an error holding '"', '\\' or non-ASCII (a redirect_uri)
        raise InvalidRequestError("Invalid 'redirect_uri' parameter") from error
    request = AuthorizationRequest(grant, redirect_uri, params, through_front_door)
    for check in AUTHORIZE_CHECKS:
        check(request)
    return request


def validate_flask_request(flask_request) -> AuthorizationRequest:
    params = {k: v for k, v in flask_request.values.items()}
    if params.get("request_uri", "").startswith(par.REQUEST_URI_PREFIX):
        pushed = par.take(params["request_uri"], params.get("client_id"))
        if pushed is None:  # no redirect URI to trust: the browser is told, on an error page
            error = InvalidRequestError("This request_uri is unknown, expired, already used or another client's")
            error.error = "invalid_request_uri"
            raise error
        return validate_params(pushed)
    return _grant_for(server.create_oauth2_request(flask_request), params, through_front_door=True)


def validate_params(params: dict[str, str]) -> AuthorizationRequest:
    """Validate stored or pushed parameters: a pushed request (PAR), or one resuming after an
    interaction that an accepted request began."""
    oauth_request = OAuth2Request("GET", f"{get_settings().issuer}/authorize?{urlencode(params)}")
    oauth_request.payload = BasicOAuth2Payload(params)
    return _grant_for(oauth_request, params)


def authorization_response(request: AuthorizationRequest, user: grants.AuthenticatedUser):
    """Issue the code and answer in the request's response mode; adds ``iss`` (RFC 9207)."""
    response = server.create_authorization_response(request=request.grant.request, grant_user=user,
                                                    grant=request.grant)
    response = add_issuer(response)
    location = response.headers.get("Location")
    if request.response_mode == "form_post" and location:
        own = set(parse_qsl(urlsplit(request.redirect_uri).query))
        params = [pair for pair in parse_qsl(urlsplit(location).query) if pair not in own]
        return response_modes.form_post(request.redirect_uri, params)
    return response


def error_redirect(error: OAuth2Error, redirect_uri: str, state: str | None, response_mode: str | None = "query"):
    params: dict[str, Any] = {"error": error.error}
    if error.description:
        params["error_description"] = error.description
    if state:
        params["state"] = state
    params["iss"] = get_settings().issuer
    if response_mode == "form_post":
        return response_modes.form_post(redirect_uri, list(params.items()))
    separator = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{separator}{urlencode(params)}")


def add_issuer(response):
    location = response.headers.get("Location")
    if location and "iss=" not in location.split("?", 1)[-1]:
        separator = "&" if "?" in location else "?"
        response.headers["Location"] = f"{location}{separator}{urlencode({'iss': get_settings().issuer})}"
    return response
