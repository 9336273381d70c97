"""What every page must pass in a browser besides axe-core (issue 20): nothing wider than the screen
at 360 px, and no character a person's fonts may lack (emoji, dingbats, symbols drawn from a symbol
font, which render as empty boxes): only Latin letters, their accents and ordinary punctuation."""

from __future__ import annotations

import unicodedata

# Basic Latin, Latin-1, Latin Extended-A/B (French, German, the Court's languages), general
# punctuation (dashes, quotes, ellipsis, narrow no-break space), the euro sign, ™ and №.
ALLOWED = [(0x20, 0x7E), (0xA0, 0x24F), (0x2000, 0x206F), (0x20AC, 0x20AC), (0x2116, 0x2116), (0x2122, 0x2122)]


def unsafe_characters(text: str) -> set[str]:
    return {ch for ch in text if not ch.isspace() and not any(lo <= ord(ch) <= hi for lo, hi in ALLOWED)}


def describe_characters(found: set[str]) -> str:
    return ", ".join(f"U+{ord(ch):04X} {unicodedata.name(ch, '?')}" for ch in sorted(found))


VISIBLE_TEXT = """() => {
  const parts = [document.body.innerText, document.title];
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title], input[type=submit], input[type=button]'))
    parts.push(el.getAttribute('placeholder') || '', el.getAttribute('aria-label') || '', el.getAttribute('title') || '', el.value || '');
  return parts.join('\\n');
}"""

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1 && getComputedStyle(el).position !== 'absolute' && !el.closest('.table-wrap, .visually-hidden, .skip-link'))
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' (' + Math.round(box.right) + 'px)');
  }
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}"""


def page_problems(page) -> list[str]:
    """The page as it is now: horizontal overflow (the page scrolls sideways) and unsafe characters."""
    problems = []
    overflow = page.evaluate(OVERFLOW)
    if overflow["scroll"] > overflow["width"]:
        problems.append(f"overflows horizontally: {overflow['scroll']} px wide at {overflow['width']} px "
                        f"({', '.join(overflow['wide'])})")
    if found := unsafe_characters(page.evaluate(VISIBLE_TEXT)):
        problems.append(f"characters a font may lack: {describe_characters(found)}")
    return problems
