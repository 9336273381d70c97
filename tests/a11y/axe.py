"""axe-core (npm, pinned in tests/a11y/axe/package.json) run inside Chromium on a page.

``npm ci`` runs when node_modules is missing; without npm the sweep skips locally and FAILS
under CI, like every other real tool the tests need.
"""

from __future__ import annotations

from pathlib import Path

from tests.servers import npm_install

AXE_DIR = Path(__file__).parent / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def ensure_axe() -> Path:
    if not AXE_JS.exists():
        npm_install(AXE_DIR, "axe-core")
    return AXE_JS


def violations(page) -> list[dict]:
    """Run axe on the page as it is now; the context must bypass CSP (axe is injected inline)."""
    page.add_script_tag(path=str(ensure_axe()))
    result = page.evaluate("""tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})""", WCAG_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]


def describe(found: dict[str, list[dict]]) -> str:
    lines = []
    for where, items in found.items():
        for item in items:
            lines.append(f"{where}: {item['id']} ({item['impact']}): {item['help']} at {item['targets']}")
    return "\n".join(lines)
