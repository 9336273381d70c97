"""French by default, English on request; one catalogue folder per area, merged at start-up.

Message ids are the French texts of the seeds (French is the default language and the seeds'
wording is what users know); each ``translations/<area>/en/LC_MESSAGES/messages.po`` gives the
English. Catalogues are compiled to ``.mo`` at start-up when missing or stale, so a fresh clone
needs no build step.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request
from flask_babel import Babel

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LANG_COOKIE = "lang"
SHARED_TRANSLATIONS = Path(__file__).parent / "translations"


def translation_dirs(*roots: Path) -> list[Path]:
    """Every ``translations/<area>`` folder (or a flat ``translations``) under the given roots."""
    found: list[Path] = []
    for root in roots:
        if not root.exists():
            continue
        for po in sorted(root.glob("**/LC_MESSAGES/messages.po")):
            catalogue_root = po.parents[2]
            if catalogue_root not in found:
                found.append(catalogue_root)
    return found


def compile_catalogues(dirs: list[Path]) -> None:
    for directory in dirs:
        for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            with po_path.open("rb") as fh:
                catalog = read_po(fh)
            with mo_path.open("wb") as fh:
                write_mo(fh, catalog)
            mo_path.chmod(0o644)  # a public file: readable by another user even under the private umask


def select_locale() -> str:
    """The person's explicit choice (?lang=, the switch's cookie), else what the relying party
    asked for on their behalf (OIDC ``ui_locales``, set on ``g.ui_locales`` by the IdP), else French."""
    from flask import g

    chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for asked in g.get("ui_locales", ()):
        language = asked.split("-")[0].lower()
        if language in LANGUAGES:
            return language
    return DEFAULT_LANGUAGE


def speak_by_default(locale: str | None) -> None:
    """The language to use without an explicit choice (the switch): e.g. the signed-in account's
    own, on the IdP's account pages (outside walk: an English speaker's account page was French)."""
    if locale:
        from flask import g

        g.ui_locales = [locale]


def init_i18n(app: Flask, *roots: Path) -> Babel:
    dirs = translation_dirs(SHARED_TRANSLATIONS, *roots)
    compile_catalogues(dirs)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LANGUAGE
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Europe/Paris"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(d) for d in dirs) or str(SHARED_TRANSLATIONS)
    return Babel(app, locale_selector=select_locale)
