"""The FAPI 2.0 Security Profile (final, 2025) as a per-client policy: ``policy.profile = "fapi2"``.

What the profile asks of the authorization server, and where it is enforced:

| FAPI 2.0 SP §5.3 requirement                                    | here                                      |
|------------------------------------------------------------------|-------------------------------------------|
| pushed authorization requests only, client-authenticated          | ``require_par`` (oidc/par.py, oidc/server.check_par_required) |
| PKCE S256                                                         | ``require_pkce`` (oidc/server.check_pkce_required) |
| confidential clients with private_key_jwt (or mTLS, not offered)  | ``check_registration``                    |
| sender-constrained access tokens (DPoP)                           | ``require_dpop`` (oidc/dpop.py)           |
| PS256, ES256 or EdDSA for every signature                         | assertions (oidc/client_auth.py) and DPoP proofs: ``algorithms``; ID tokens ES256 |
| https redirect URIs, sent in the pushed request                   | ``check_registration``; PAR validates the redirect_uri |
| ``iss`` in the authorization response (RFC 9207)                   | always                                    |
| codes live at most 60 s, request_uri single use, under 600 s      | always (60 s and 60 s)                    |

Not applied to FAPI clients: the profile advises against refresh-token rotation (§5.3.2.1,
"should not"); ours rotates for every client, with the reuse grace.
"""

from __future__ import annotations

import re

PROFILE = "fapi2"
ALGORITHMS = ["PS256", "ES256"]  # FAPI 2.0 SP §5.4.1 (EdDSA is not offered by this IdP)


def applies(client) -> bool:
    return applies_to_policy(client.policy)


def applies_to_policy(policy: dict | None) -> bool:
    return (policy or {}).get("profile") == PROFILE


def algorithms(client, offered: list[str]) -> list[str]:
    """The signing algorithms this client's assertions and proofs may use."""
    return [alg for alg in offered if alg in ALGORITHMS] if applies(client) else offered


def check_registration(policy: dict, auth_method: str, id_token_alg: str, redirect_uris: list[str]) -> dict:
    """Refuse a FAPI 2.0 client the profile would not allow; return its policy with what the
    profile implies (PAR and DPoP required)."""
    if policy.get("profile") != PROFILE:
        return policy
    problems = []
    if auth_method != "private_key_jwt":
        problems.append("authenticate with private_key_jwt")
    if id_token_alg not in ALGORITHMS:
        problems.append("have its ID tokens signed with ES256")
    if any(not re.match(r"^https://", uri) for uri in redirect_uris):
        problems.append("use https redirect URIs")
    if problems:
        raise ValueError("a FAPI 2.0 client must " + ", ".join(problems))
    return {**policy, "require_par": True, "require_dpop": True}
