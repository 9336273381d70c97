"""Periodic jobs (retention, reminders, housekeeping): a daemon thread per process, and a Redis
lock so that one instance of many runs each round. Tests that drive jobs themselves set
``[outbox] manual`` (no background threads); a command line's app has none either
(``Settings.background``)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask


def runs_workers(settings) -> bool:
    """Whether this process runs background threads: not for a command line, nor for tests that
    drive delivery and jobs themselves."""
    return settings.background and not settings.section("outbox").get("manual")


def start_periodic(app: Flask, name: str, interval: float, job: Callable[[], object]) -> None:
    settings = app.config["SETTINGS"]
    if not runs_workers(settings):
        return

    def loop():
        stop = threading.Event()
        while not stop.wait(interval):
            try:
                with app.app_context():
                    from shared.appkit import get_redis

                    if get_redis().set(f"jobs:{settings.app_name}:{name}", "1", nx=True, ex=max(1, int(interval) - 1)):
                        job()
            except Exception as error:  # the next round retries
                app.logger.warning("job %s: %s", name, error.__class__.__name__)

    threading.Thread(target=loop, name=f"job-{settings.app_name}-{name}", daemon=True).start()
