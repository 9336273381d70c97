"""What the provider advertises: OpenID Connect Discovery 1.0 (``/.well-known/openid-configuration``)
and RFC 8414 authorization server metadata (``/.well-known/oauth-authorization-server``), one
document for both. It says exactly what works, each value exercised by a test
(tests/idp/test_metadata.py holds the list and fails when the two part).
"""

from __future__ import annotations

from idp.oidc import claims, dpop, grants
from idp.oidc.client_auth import ASYMMETRIC, SYMMETRIC
from idp.oidc.introspection import INTROSPECTION_AUTH_METHODS
from shared import authorization


def document(issuer: str) -> dict:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks",
        "end_session_endpoint": f"{issuer}/logout",
        "revocation_endpoint": f"{issuer}/revoke",
        "introspection_endpoint": f"{issuer}/introspect",
        "pushed_authorization_request_endpoint": f"{issuer}/par",
        "registration_endpoint": f"{issuer}/register",  # behind an initial access token (RFC 7591 §3)
        "require_pushed_authorization_requests": False,  # per client (policy.require_par)
        "scopes_supported": authorization.model().known_scopes(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": grants.TOKEN_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASYMMETRIC + SYMMETRIC,
        "revocation_endpoint_auth_methods_supported": grants.TOKEN_AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": ASYMMETRIC + SYMMETRIC,
        "introspection_endpoint_auth_methods_supported": INTROSPECTION_AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": ASYMMETRIC + SYMMETRIC,
        "dpop_signing_alg_values_supported": dpop.ALGORITHMS,
        "claims_supported": claims.all_claim_names(),
        "acr_values_supported": ["pwd", "mfa", "phr", "eidas1", "eidas2", "eidas3"],
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["fr", "en"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,  # only PAR's own request_uri (RFC 9126), never fetched
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
    }
