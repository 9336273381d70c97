"""Passwords: argon2id hashing (with rehash when parameters change) and the seed-002 rules.

Rules (seed 002): at least 8 characters, at least one digit, one lowercase and one uppercase
letter; plus refusal of the most common breached passwords (``common_passwords.txt``).
Argon2id parameters default to at least OWASP's minimum (19 MiB, t=2, p=1) and can be raised
with ARGON2_MEMORY_KIB / ARGON2_TIME_COST / ARGON2_PARALLELISM. ``ARGON2_PROFILE=test`` (set by
the test suite only) uses cheap parameters so the suite stays fast; production refuses it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from shared.config import argon2_parameters

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def hasher() -> PasswordHasher:
    if os.environ.get("ARGON2_PROFILE") == "test" and os.environ.get("APP_ENV") != "production":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    parameters = argon2_parameters()  # the production guard refuses less than OWASP's minimum
    return PasswordHasher(time_cost=parameters.time_cost, memory_cost=parameters.memory_kib,
                          parallelism=parameters.parallelism)


def hash_password(password: str) -> str:
    return hasher().hash(password)


# A valid hash of a random string: verifying against it costs what a real verification costs,
# so an unknown account and a wrong password take the same time.
@cache
def _dummy_hash() -> str:
    return hasher().hash(os.urandom(16).hex())


@dataclass(frozen=True)
class Verification:
    ok: bool
    new_hash: str | None = None  # set when the stored hash used older parameters


def verify_password(stored_hash: str | None, password: str) -> Verification:
    """Constant work whether or not there is a stored hash; returns a rehash when parameters changed."""
    ph = hasher()
    try:
        ph.verify(stored_hash or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return Verification(ok=False)
    if stored_hash is None:
        return Verification(ok=False)
    return Verification(ok=True, new_hash=ph.hash(password) if ph.check_needs_rehash(stored_hash) else None)


@cache
def common_passwords() -> frozenset[str]:
    if not COMMON_PASSWORDS_FILE.exists():
        return frozenset()
    return frozenset(line.strip().lower() for line in COMMON_PASSWORDS_FILE.read_text().splitlines() if line.strip())


# Rule codes, in display order; messages live with the UI (translated there).
RULES = ("min_length", "digit", "lowercase", "uppercase", "not_common")
RULE_MESSAGES_FR = {
    "min_length": "au moins 8 caractères",
    "digit": "au moins un chiffre",
    "lowercase": "au moins une lettre minuscule",
    "uppercase": "au moins une lettre majuscule",
    "not_common": "ne pas figurer parmi les mots de passe les plus courants",
}


def unmet_rules(password: str) -> list[str]:
    """The codes of every rule the password breaks (empty list: acceptable)."""
    unmet = []
    if len(password) < 8:
        unmet.append("min_length")
    if not any(c.isdigit() for c in password):
        unmet.append("digit")
    if not any(c.islower() for c in password):
        unmet.append("lowercase")
    if not any(c.isupper() for c in password):
        unmet.append("uppercase")
    if password.lower() in common_passwords():
        unmet.append("not_common")
    return unmet
