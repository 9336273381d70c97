"""Periodic jobs (retention, reminders, housekeeping): a daemon thread per process, and a Redis
lock so that one instance of many runs each round. Tests that drive jobs themselves set
``[outbox] manual`` (no background threads); a command line's app has none either
(``Settings.background``)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

from flask import Flask


def runs_workers(settings) -> bool:
    """Whether this process runs background threads: not for a command line, nor for tests that
    drive delivery and jobs themselves."""
    return settings.background and not settings.section("outbox").get("manual")


def stop_workers(app: Flask) -> None:
    """End this app's background threads once their round is over (an app that stops serving; a
    test session makes hundreds of apps, whose workers would otherwise poll to the end)."""
    app.extensions.setdefault("workers_stop", threading.Event()).set()


def run_in_background(app: Flask, name: str, interval: float, one_round: Callable[[Flask], object],
                      wake: threading.Event | None = None) -> None:
    """``one_round(app)`` in a daemon thread every ``interval`` seconds (sooner when ``wake`` is set),
    for as long as the app exists and ``stop_workers`` was not called. The thread holds the app
    only during a round."""
    stop = app.extensions.setdefault("workers_stop", threading.Event())
    reference = weakref.ref(app)

    def loop():
        while not stop.is_set():
            if wake is not None:
                wake.wait(interval)
                wake.clear()
            elif stop.wait(interval):
                return
            live = reference()
            if live is None or stop.is_set():
                return
            one_round(live)
            del live

    threading.Thread(target=loop, name=name, daemon=True).start()


def start_periodic(app: Flask, name: str, interval: float, job: Callable[[], object]) -> None:
    settings = app.config["SETTINGS"]
    if not runs_workers(settings):
        return

    def one_round(live: Flask) -> None:
        try:
            with live.app_context():
                from shared.appkit import get_redis

                if get_redis().set(f"jobs:{settings.app_name}:{name}", "1", nx=True, ex=max(1, int(interval) - 1)):
                    job()
        except Exception as error:  # the next round retries
            live.logger.warning("job %s: %s", name, error.__class__.__name__)

    run_in_background(app, f"job-{settings.app_name}-{name}", interval, one_round)
