"""List the French message ids used in given files that a catalogue does not translate yet.

Usage: python scripts/i18n_extract.py <catalogue.po> <file or dir>...
Prints a .po fragment (msgid + empty msgstr) for each missing id, ready to translate.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po

CALL = re.compile(r"""(?<![A-Za-z0-9_])_\(\s*(?P<q>["'])(?P<text>(?:\\.|(?!(?P=q)).)*)(?P=q)""", re.S)


def ids_in(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in CALL.finditer(text):
        raw = match.group("text")
        found.append(raw.encode().decode("unicode_escape").encode("latin-1").decode("utf-8") if "\\" in raw else raw)
    return found


def files(args: list[str]) -> list[Path]:
    out = []
    for arg in args:
        p = Path(arg)
        out.extend(sorted(q for q in p.rglob("*") if q.suffix in (".py", ".html", ".txt")) if p.is_dir() else [p])
    return out


def main() -> None:
    catalogue = Path(sys.argv[1])
    known = set()
    if catalogue.exists():
        with catalogue.open("rb") as fh:
            known = {m.id for m in read_po(fh) if m.id and m.string}
    missing = []
    for path in files(sys.argv[2:]):
        for msgid in ids_in(path):
            if msgid not in known and msgid not in missing:
                missing.append(msgid)
    for msgid in missing:
        escaped = msgid.replace("\\", "\\\\").replace('"', '\\"')
        print(f'msgid "{escaped}"\nmsgstr ""\n')


if __name__ == "__main__":
    main()
