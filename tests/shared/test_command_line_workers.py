"""A command line builds the app to read and write through it, and must not run its background
workers: with the operator's environment rather than the server's, its outbox worker claimed the
server's queued emails and failed them against another SMTP address (the lifecycle tests lost
emails for two minutes after `idp audit` ran in their process)."""

from __future__ import annotations

import threading

from click.testing import CliRunner

WORKER_PREFIXES = ("outbox-", "job-", "backchannel-logout")


def worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(WORKER_PREFIXES)]


def test_a_command_starts_no_background_worker(tmp_path, monkeypatch):
    from idp.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'idp.db'}")
    migrated = CliRunner().invoke(main, ["db", "upgrade"])
    assert migrated.exit_code == 0, migrated.output
    before = set(worker_threads())
    result = CliRunner().invoke(main, ["audit", "--kind", "sign_in"])
    assert result.exit_code == 0, result.output
    # none started; one of an app an earlier test dropped may end meanwhile (its next round finds it gone)
    assert not set(worker_threads()) - before


def test_a_served_app_runs_its_workers(tmp_path, monkeypatch):
    from idp import create_app

    before = set(worker_threads())
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'idp.db'}", "_quiet": True})
    assert app.config["SETTINGS"].background
    started = {t.name for t in set(worker_threads()) - before}
    assert "outbox-idp" in started and "job-idp-housekeeping" in started
