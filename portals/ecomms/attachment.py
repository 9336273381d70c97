"""Who an application is attached to, and what an address change does (seed 000: "la modification de
votre adresse email dans eComms supprimera le contenu de vos dossiers eComms"; "votre liste de
documents ne sera pas transférée").

The IdP tells eComms that an account's address changed with a Security Event Token (RFC 8417,
pushed as RFC 8935; the OpenID RISC ``identifier-changed`` event) signed with its keys and meant
for this client. On it, every application of that subject is detached: the account no longer
sees it, the mails still waiting for the old address are cancelled and nothing more is sent
there, and the registry is told so it can re-attach the application to the new address — from
which the applicant sees only what arrives after the re-attachment (``parties.detach_subject``,
``parties.reattach``).
"""

from __future__ import annotations

import time
from typing import Any

from shared.tokens import LEEWAY, ProviderMetadata, TokenError, decode_verified

IDENTIFIER_CHANGED = "https://schemas.openid.net/secevent/risc/event-type/identifier-changed"
SET_MAX_AGE = 24 * 3600  # a retried event may arrive late; older ones are refused


def verify_event(token: str, provider: ProviderMetadata, client_id: str) -> dict[str, Any]:
    """The claims of a Security Event Token from our IdP for this client, else TokenError."""
    claims = decode_verified(token, provider)
    if claims.get("iss") != provider.issuer:
        raise TokenError("wrong issuer")
    aud = claims.get("aud")
    if client_id not in (aud if isinstance(aud, list) else [aud]):
        raise TokenError("wrong audience")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or iat > time.time() + LEEWAY or iat < time.time() - SET_MAX_AGE:
        raise TokenError("missing, future or stale iat")
    if not claims.get("jti"):
        raise TokenError("missing jti")
    if "exp" in claims or "nonce" in claims:
        raise TokenError("a security event token carries neither exp nor nonce")  # RFC 8417 §2.2
    events = claims.get("events")
    if not isinstance(events, dict) or IDENTIFIER_CHANGED not in events:
        raise TokenError("not an identifier-changed event")
    subject = events[IDENTIFIER_CHANGED].get("subject") if isinstance(events[IDENTIFIER_CHANGED], dict) else None
    if not isinstance(subject, dict) or subject.get("iss") != provider.issuer or not subject.get("sub"):
        raise TokenError("event without an iss_sub subject")
    return claims
