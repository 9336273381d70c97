"""Person-facing text fields: what each one may hold, checked where the value enters the system.

Names, organisation fields and addresses end up in emails, in the official letter that carries
the legal representative's codes, in the administrator's console and in tokens. Each is a single
line of ordinary text of bounded length: no control character (CR, LF, tab, NUL, ESC…), no line
or paragraph separator (U+2028, U+2029), no invisible formatting character (bidirectional
overrides U+202A–U+202E and U+2066–U+2069, zero-width characters), no private-use or unassigned
code point. So a value cannot start a new line in a letter or an email, cannot reorder what a
reader sees, and cannot hide text.

The services call ``check`` (error codes for a form) or ``require`` (raise ``BadText``) on every
value they store, so no route, API or command skips the rule; the web layer words the codes.
Values are NFC-normalised and stripped before they are checked and stored.
"""

from __future__ import annotations

import re
import unicodedata

# Unicode general categories never allowed in a one-line field:
#   Cc control (CR, LF, tab, NUL, ESC, U+0085…), Cf format (bidi overrides, zero-width, soft hyphen),
#   Zl line separator (U+2028), Zp paragraph separator (U+2029), Co private use, Cs surrogate, Cn unassigned.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})

# Longest value of each field, in characters (what a letter's labelled field and the database hold).
LIMITS: dict[str, int] = {
    "given_name": 100,
    "family_name": 100,
    "org_name": 150,
    "org_address_line": 150,
    "org_city": 100,
    "legal_rep_name": 120,
    "legal_rep_title": 80,
    "reason": 200,  # an administrator's motive for a decision (kept in the history)
    "email": 254,  # RFC 5321's path limit less the angle brackets
}

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class BadText(ValueError):
    """A value that is not what its field holds: ``errors`` maps field → code
    (``required``, ``control``, ``too_long``, ``invalid``)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(f"{name}: {code}" for name, code in errors.items()))
        self.errors = errors


def clean(value: str | None) -> str:
    """The stored form: NFC, surrounding whitespace removed."""
    return unicodedata.normalize("NFC", value or "").strip()


def has_forbidden(value: str) -> bool:
    return any(unicodedata.category(character) in FORBIDDEN_CATEGORIES for character in value)


def problem(name: str, value: str | None, required: bool = True) -> str | None:
    """The error code of one field's value, or None when it is fine."""
    value = clean(value)
    if not value:
        return "required" if required else None
    if has_forbidden(value):
        return "control"
    if len(value) > LIMITS[name]:
        return "too_long"
    if name == "email" and not EMAIL_RE.match(value):
        return "invalid"
    return None


def check(data: dict[str, str | None], names: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, str]:
    """Field → error code for the named fields of ``data`` (only the ones in ``required`` may not be empty)."""
    errors = {}
    for name in names:
        code = problem(name, data.get(name), required=name in required)
        if code:
            errors[name] = code
    return errors


def require(**values: str | None) -> dict[str, str | None]:
    """The cleaned values (None stays None), or BadText naming each bad field."""
    errors = {name: code for name, value in values.items()
              if value is not None and (code := problem(name, value, required=False))}
    if errors:
        raise BadText(errors)
    return {name: (clean(value) or None) if value is not None else None for name, value in values.items()}


def limit(name: str) -> int:
    return LIMITS[name]


def one_line(value: str | None, name: str | None = None) -> str:
    """``value`` made one line, for text we show but did not take from a form (an upstream
    provider's claims, rows written before these rules): every forbidden character becomes a
    space, runs of spaces one, and the field's length bound applies."""
    value = "".join(" " if has_forbidden(c) else c for c in clean(value))
    value = " ".join(value.split())
    bound = LIMITS.get(name or "", 200)
    return value if len(value) <= bound else value[: bound - 1] + "…"
