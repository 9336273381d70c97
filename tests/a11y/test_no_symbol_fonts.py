"""No template, script or stylesheet of any app draws a character a person's fonts may lack (issue
20): icons are inline SVG beside a text label, never emoji or symbol characters (which render as
empty boxes where the font lacks them). The pages themselves: tests/a11y/test_every_page.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.a11y.checks import describe_characters, unsafe_characters

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for folder in ("idp", "portals", "shared") for pattern in ("*.html", "*.js", "*.css")
                 for p in (REPO / folder).rglob(pattern) if "node_modules" not in p.parts)


def test_there_are_templates_to_check():
    assert len([p for p in SOURCES if p.suffix == ".html"]) > 50


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_source_relies_on_a_symbol_font(source):
    found = unsafe_characters(source.read_text(encoding="utf-8"))
    assert not found, describe_characters(found)
