"""Every user-visible French string has its English translation (issue 7: a test fails on an
untranslated string). Extraction uses Babel's own extractors, as `pybabel extract` would."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}


def translated(package: Path) -> set[str]:
    ids: set[str] = set()
    for po in [*package.glob("translations/*/en/LC_MESSAGES/messages.po"),
               *(REPO / "shared").glob("translations/*/en/LC_MESSAGES/messages.po")]:
        with po.open("rb") as handle:
            ids |= {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id and m.string}
    return ids


def used(package: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.html")]):
        relative = str(path.relative_to(REPO))
        if "/tests/" in relative:  # the dev inbox's pages included: French by default, English on the switch
            continue
        method = "jinja2.ext.babel_extract" if path.suffix == ".html" else "python"
        options = {"extensions": "jinja2.ext.i18n"} if path.suffix == ".html" else {}
        for lineno, message, _comments, _context in extract_from_file(method, str(path), keywords=KEYWORDS,
                                                                     options=options):
            text = message if isinstance(message, str) else message[0]
            if text:
                found.setdefault(text, f"{relative}:{lineno}")
    return found


def packages() -> list[Path]:
    found = [REPO / "idp", REPO / "shared"]
    found += [p for p in sorted((REPO / "portals").iterdir()) if (p / "__init__.py").exists()]
    return found


@pytest.mark.parametrize("package", packages(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_string_has_an_english_translation(package):
    english = translated(package)
    if package.name == "shared":  # the frame's strings are used by every app
        english |= set().union(*(translated(p) for p in packages() if p.name != "shared"))
    missing = {text: where for text, where in used(package).items() if text not in english}
    assert not missing, "untranslated:\n" + "\n".join(f"  {where}: {text!r}" for text, where in missing.items())
