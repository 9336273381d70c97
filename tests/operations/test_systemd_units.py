"""The systemd units shipped in deploy/systemd/: one per app, each running the app's factory under
gunicorn with config/gunicorn.conf.py, in production mode, hardened (no new privileges, the system
read-only but for instance/ and keys/, a private /tmp), its secrets from an EnvironmentFile; and
systemd itself accepts them (``systemd-analyze verify``, on Debian)."""

from __future__ import annotations

import importlib
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "deploy" / "systemd"
INSTALLED_AT = "/opt/civic-idp"  # where the units expect the repository (and its .venv)
APPS = {"civic-idp@.service": "idp", "civic-ecomms.service": "portals.ecomms",
        "civic-justice.service": "portals.justice", "civic-eservices.service": "portals.eservices"}


def directives(unit: Path) -> dict[str, list[str]]:
    """``Key=value`` lines of a unit file, every value of a repeated key kept (Environment=)."""
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def environment(values: dict[str, list[str]]) -> dict[str, str]:
    return dict(item.split("=", 1) for line in values.get("Environment", []) for item in shlex.split(line))


def test_one_unit_per_app_and_nothing_else():
    assert sorted(p.name for p in UNITS.glob("*.service")) == sorted(APPS)


@pytest.mark.parametrize("name", sorted(APPS))
def test_each_unit_runs_its_app_under_gunicorn_hardened(name):
    values = directives(UNITS / name)
    [start] = values["ExecStart"]
    command = shlex.split(start)
    assert command[:3] == [f"{INSTALLED_AT}/.venv/bin/gunicorn", "-c", "config/gunicorn.conf.py"]
    module, _, factory = command[3].partition(":")
    assert module == APPS[name] and factory == "create_app()"
    assert hasattr(importlib.import_module(module), "create_app"), "the unit names a real factory"
    assert values["WorkingDirectory"] == [INSTALLED_AT]
    env = environment(values)
    assert env["APP_ENV"] == "production" and env["GUNICORN_BIND"].startswith("127.0.0.1:")
    for key, expected in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes",
                          "ProtectHome": "yes", "CapabilityBoundingSet": ""}.items():
        assert values.get(key) == [expected], f"{name}: {key}={expected}"
    writable = " ".join(values["ReadWritePaths"]).split()
    assert sorted(writable) == sorted([env["INSTANCE_PATH"], env["KEYS_DIR"]]), "only instance/ and keys/ writable"
    [env_file] = values["EnvironmentFile"]
    assert env_file.startswith("/etc/civic-idp/") and env_file.endswith(".env"), "secrets outside the unit"
    assert values["User"] != ["root"] and values["Type"] == ["notify"]


def test_systemd_accepts_every_unit(tmp_path):
    """``systemd-analyze verify`` on each unit, installed as the guide says (paths pointing at this
    checkout so that the gunicorn it names exists); any warning fails too."""
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed (the directives are checked above)")
    if not (REPO / ".venv" / "bin" / "gunicorn").exists():
        pytest.skip("no .venv/bin/gunicorn in this checkout to stand for the installed one")
    for name in APPS:
        text = (UNITS / name).read_text().replace(INSTALLED_AT, str(REPO))
        installed = tmp_path / name.replace("@.", "@8000.")  # a template is verified as one of its instances
        installed.write_text(text)
        result = subprocess.run([analyze, "verify", str(installed)], capture_output=True, text=True, timeout=60)
        problems = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        assert result.returncode == 0 and not problems, f"{name}:\n" + "\n".join(problems)
