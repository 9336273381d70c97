"""Deposit receipts: a JWS (ES256) signed by the portal, verifiable by anyone with the portal's
published key (``/.well-known/jwks.json``), now or years later."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from shared.files import create_private, private_dir

ALG = "ES256"


@cache
def signing_key(folder: str) -> ECKey:
    path = Path(folder) / "receipts-es256.pem"
    if not path.exists():
        private_dir(path.parent)
        key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": ALG}, auto_kid=True)
        create_private(path, key.as_pem(private=True))  # another process may have been first: its key is read
    key = ECKey.import_key(path.read_bytes(), parameters={"use": "sig", "alg": ALG})
    key.ensure_kid()
    return key


def public_jwks(folder: str) -> dict[str, Any]:
    return {"keys": [signing_key(folder).as_dict(private=False)]}


def sign(folder: str, claims: dict[str, Any]) -> str:
    key = signing_key(folder)
    payload = json.dumps(claims, ensure_ascii=False, sort_keys=True).encode()
    return jws.serialize_compact({"alg": ALG, "kid": key.kid, "typ": "ecomms-receipt+jws"}, payload, key,
                                 algorithms=[ALG])


def verify(receipt: str, jwks: dict[str, Any]) -> dict[str, Any] | None:
    """The receipt's content when its signature holds under these keys, else None."""
    try:
        obj = jws.deserialize_compact(receipt.strip(), KeySet.import_key_set(jwks), algorithms=[ALG])
        return json.loads(obj.payload)
    except (JoseError, ValueError, TypeError):
        return None
