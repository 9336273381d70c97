"""The pivot identity: the one internal identity record every upstream provider maps into.

FranceConnect's "identité pivot" (given names, family name, birth date, gender, birth place,
birth country) plus the email address. It is the ONLY identity the IdP passes on from an upstream
provider (SATOSA's internal attributes: each backend maps its own claims into this record through
a declarative table, ``[provider.claims]`` in ``config/upstream_providers.toml``).

Linking: the same person reaching the IdP through two providers has the same pivot identity,
hence the same ``linking_key()`` — normalised given names + family name + birth date + gender +
birth place + birth country. The email is deliberately NOT part of the key: email alone never links.

Two kinds of upstream provider (``identity`` in ``config/upstream_providers.toml``):

- ``pivot``: a FranceConnect-qualified provider, trusted to assert the pivot identity. Its identity
  must be complete (:data:`REQUIRED_FIELDS`) and links accounts across providers.
- ``standard`` (the default): any OpenID provider. Only OIDC's standard claims are kept (names,
  birthdate, gender, email; never FranceConnect's birth place or country), nothing is required,
  and the identity never links to another provider's account (``pivot`` is False: an upstream that
  nobody vouches for cannot claim to be someone's pivot identity). Portals whose policy requires
  the pivot (``require_pivot``) never accept it; the others do.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from idp.services import text_fields

PIVOT_FIELDS = ("given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry", "email")
# What must be present for a pivot identity to be usable (birthplace may be empty: born abroad).
REQUIRED_FIELDS = ("given_name", "family_name", "birthdate", "gender", "birthcountry")
GENDERS = ("female", "male")
# The fields a standard (non-pivot) provider may give: OIDC Core §5.1 standard claims only.
STANDARD_FIELDS = ("given_name", "family_name", "birthdate", "gender", "email")
FRANCE_COG = "99100"  # INSEE code of France in the country list (the birth country of people born in France)

# Default mapping pivot field → upstream claim name (OIDC standard claims + FranceConnect's).
DEFAULT_CLAIM_MAPPING: dict[str, str] = {
    "given_name": "given_name",
    "family_name": "family_name",
    "birthdate": "birthdate",
    "gender": "gender",
    "birthplace": "birthplace",
    "birthcountry": "birthcountry",
    "email": "email",
}


class PivotIdentityError(ValueError):
    """The upstream identity cannot be used; ``missing`` lists the fields at fault."""

    def __init__(self, missing: list[str]):
        super().__init__("incomplete or invalid pivot identity: " + ", ".join(missing))
        self.missing = missing


@dataclass(frozen=True)
class PivotIdentity:
    given_name: str
    family_name: str
    birthdate: str  # ISO 8601 YYYY-MM-DD
    gender: str  # "female" | "male"
    birthplace: str  # INSEE COG code of the commune; "" when born abroad
    birthcountry: str  # INSEE COG code of the country (99100 = France)
    email: str | None = None
    email_verified: bool = False
    pivot: bool = True  # asserted by a provider trusted for the pivot identity, and complete

    def linking_key(self) -> str | None:
        """SHA-256 of the normalised identity (no email): equal for the same person everywhere.

        ``None`` for a standard identity: it never links accounts."""
        if not self.pivot:
            return None
        parts = [
            normalise_name(self.given_name),
            normalise_name(self.family_name),
            self.birthdate,
            self.gender,
            self.birthplace.strip().upper(),
            self.birthcountry.strip().upper(),
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def claims(self) -> dict[str, Any]:
        """The claims a portal may receive (OIDC names); nothing else of the upstream response.

        A field without a value is omitted (OIDC Core §5.3.2), never sent empty or null; a born-
        abroad pivot identity's empty birth place included."""
        data = asdict(self)
        data.pop("pivot")
        if not data["email"]:
            data.pop("email_verified")
        return {name: value for name, value in data.items() if value not in ("", None)}


def normalise_name(value: str) -> str:
    """Case, accents, hyphens, apostrophes and spacing do not make another person.

    ``"Jean-Éric  D'Arcy"`` and ``"jean eric d arcy"`` normalise alike.
    """
    decomposed = unicodedata.normalize("NFKD", value)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = without_marks.casefold()
    spaced = re.sub(r"[\s\-'’‐.]+", " ", lowered)
    return spaced.strip()


def _clean_date(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        return None


def map_claims(upstream_claims: dict[str, Any], mapping: dict[str, str] | None = None, *,
               pivot: bool = True) -> PivotIdentity:
    """Build the pivot identity from an upstream provider's claims through ``mapping``.

    ``mapping`` maps pivot field → upstream claim name (dotted paths reach nested objects, e.g.
    ``"address.country"``). Unknown upstream claims are dropped; missing or malformed required
    fields raise :class:`PivotIdentityError`. With ``pivot=False`` (a standard provider) only the
    standard fields are kept, a missing or malformed one is left empty, and nothing is required.
    """
    table = {**DEFAULT_CLAIM_MAPPING, **(mapping or {})}

    def pick(field: str) -> Any:
        value: Any = upstream_claims
        for part in table[field].split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    values: dict[str, Any] = {}
    bad: list[str] = []
    for field in ("given_name", "family_name", "birthcountry", "birthplace"):
        raw = pick(field)
        # names reach emails, letters and portals: one line, whatever the provider sent
        values[field] = text_fields.one_line(str(raw), field) if isinstance(raw, str | int) else ""
    values["birthdate"] = _clean_date(pick("birthdate")) or ""
    gender = pick("gender")
    values["gender"] = gender.strip().lower() if isinstance(gender, str) else ""
    if values["gender"] not in GENDERS:
        values["gender"] = ""
    email = pick("email")
    values["email"] = email.strip().lower() if isinstance(email, str) and not text_fields.problem("email", email) else None
    verified = upstream_claims.get("email_verified")
    values["email_verified"] = bool(values["email"]) and (verified is True or verified == "true")
    if not pivot:
        for field in PIVOT_FIELDS:
            if field not in STANDARD_FIELDS:
                values[field] = ""
        return PivotIdentity(**values, pivot=False)
    if values["birthcountry"] == FRANCE_COG and not values["birthplace"]:
        bad.append("birthplace")
    bad.extend(field for field in REQUIRED_FIELDS if not values[field])
    if bad:
        raise PivotIdentityError(sorted(set(bad)))
    return PivotIdentity(**values)
