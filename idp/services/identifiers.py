"""Seed-002 identifiers built from a person's names (``Account.username``).

The rule of seed 002 ("Vous avez un prénom ou un nom composé"): lowercase, accents removed,
words joined by ``-``, cut to 20 characters — ``Frédéric DUPONT DURAND`` → ``frederic-dupont-dura``.
Anything that is not a latin letter or a digit separates words; letters of other scripts that
have no ASCII form are dropped. A name with nothing usable falls back to ``utilisateur``.
Uniqueness: when the base is taken, a numeric suffix replaces its tail (``-2``, ``-3``…), still
within 20 characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

MAX_LENGTH = 20
FALLBACK = "utilisateur"
VALID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Letters that NFKD does not decompose into an ASCII base letter.
_SPECIAL = str.maketrans({
    "ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d",
    "ł": "l", "Ł": "l", "ı": "i", "þ": "th", "Þ": "th", "ð": "d", "Ð": "d", "ħ": "h", "Ħ": "h",
})


def ascii_words(text: str) -> list[str]:
    """The name's words in lowercase ASCII (accents removed, separators dropped)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return re.findall(r"[a-z0-9]+", ascii_only)


def base_identifier(given_name: str, family_name: str) -> str:
    """The identifier before uniqueness: ``frederic-dupont-dura``."""
    words = ascii_words(f"{given_name} {family_name}")
    joined = "-".join(words) or FALLBACK
    return joined[:MAX_LENGTH].rstrip("-")


def with_suffix(base: str, number: int) -> str:
    suffix = f"-{number}"
    return base[: MAX_LENGTH - len(suffix)].rstrip("-") + suffix


def make_identifier(given_name: str, family_name: str, is_taken: Callable[[str], bool]) -> str:
    """A valid identifier not yet taken (``is_taken`` asks the account store)."""
    base = base_identifier(given_name, family_name)
    if not is_taken(base):
        return base
    number = 2
    while True:
        candidate = with_suffix(base, number)
        if not is_taken(candidate):
            return candidate
        number += 1


def is_valid_identifier(value: str) -> bool:
    return len(value) <= MAX_LENGTH and bool(VALID.match(value))
