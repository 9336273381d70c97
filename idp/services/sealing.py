"""Secrets the IdP must read back (a client_secret_jwt client's HMAC key), sealed at rest with
AES-256-GCM under a key derived from the IdP's SECRET_KEY (HKDF-SHA256, one ``purpose`` each).

A database dump alone does not yield the secret; rotating SECRET_KEY makes sealed values
unreadable (those clients then get new secrets).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.appkit import get_settings


def _key(purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"civic-idp:{purpose}".encode()).derive(get_settings().secret_key.encode())


def seal(value: str, purpose: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(purpose)).encrypt(nonce, value.encode(), purpose.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(value: str, purpose: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(value.encode())
        return AESGCM(_key(purpose)).decrypt(raw[:12], raw[12:], purpose.encode()).decode()
    except (InvalidTag, ValueError):
        return None
