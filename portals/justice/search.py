"""Search as people type it: accents, case and punctuation ignored, full names in either order.

Names and courts are kept beside a folded copy (``Électroménager de l'Est`` → ``electromenager de
l est``) written on every insert and update, so the search is one indexed ``LIKE`` on the folded
copy and gives the same results on SQLite and PostgreSQL (no ``unaccent``, no collation). What a
person types is folded by the same rule and its ``LIKE`` wildcards are escaped, so ``%`` and ``_``
are letters, never patterns.
"""

from __future__ import annotations

import unicodedata

ESCAPE = "\\"


def folded(text: str | None) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    bare = bare.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    return " ".join("".join(ch if ch.isalnum() else " " for ch in bare).split())


def name_key(first_name: str | None, last_name: str | None) -> str:
    """Both orders, so "Angela DUBOIS" and "DUBOIS Angela" each find the party."""
    first, last = folded(first_name), folded(last_name)
    return f"{first} {last} | {last} {first}".strip()


def contains_pattern(typed: str) -> str | None:
    """The ``LIKE`` pattern for what a person typed (use with ``escape=ESCAPE``); None when nothing
    searchable is left (only punctuation), which matches nothing rather than everything."""
    needle = folded(typed)
    if not needle:
        return None
    for special in (ESCAPE, "%", "_"):
        needle = needle.replace(special, ESCAPE + special)
    return f"%{needle}%"
