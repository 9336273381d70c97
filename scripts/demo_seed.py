"""Demo data: migrations, client registration and seeds for each area that exists.

Each area exposes its own seed function; this module only calls them in order and collects
the lines to print (credentials, identification numbers, where to look).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO_PASSWORD = "Demo-Passw0rd"


def idp_cli(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "idp.cli", *args], cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"idp {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def migrate(apps) -> None:
    for app in apps:
        module = importlib.import_module(app.module)
        upgrade = getattr(module, "upgrade_database", None)
        if upgrade is None:
            continue
        from shared.config import load_settings

        upgrade(load_settings(app.name, {"_quiet": True}).database_url)


def run(apps) -> list[str]:
    os.environ.setdefault("PYTHONPATH", str(REPO))
    migrate(apps)
    notes: list[str] = []
    idp_cli("clients", "sync")
    return notes


def extra_processes() -> list[dict]:
    """Processes beyond the main apps (sandbox upstream providers...)."""
    return []
