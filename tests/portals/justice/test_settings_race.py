"""Two first visits at once (two tabs) to the settings page, on PostgreSQL: the second waits on the
first's row, then finds it — one row, no server error (the 500 the load test on every portal found)."""

from __future__ import annotations

import sys
import threading
import time
import traceback
import uuid

from sqlalchemy import func, select, text

from portals.justice import services, upgrade_database
from portals.justice.models import PersonSettings
from shared.storage import Database
from tests.servers import create_database


def test_two_first_visits_at_once_make_one_settings_row(postgres_server_url):
    url = create_database(postgres_server_url, f"justice_{uuid.uuid4().hex[:8]}")
    upgrade_database(url)
    db = Database(url)
    first = db.sessions()
    first.add(PersonSettings(sub="citizen-1", alerts=False))
    first.flush()  # the first visit's row, written but not committed yet
    seen: dict[str, object] = {}

    def second_visit() -> None:
        try:
            with db.session() as session:
                seen["alerts"] = services.settings_of(session, "citizen-1").alerts
        except Exception as error:  # what would have been the 500
            seen["error"] = error

    visit = threading.Thread(target=second_visit)
    visit.start()
    deadline = time.monotonic() + 60  # a loaded machine may take seconds to start the thread's connection
    def second_visit_waits(watcher) -> bool:
        # each look in its own transaction: PostgreSQL keeps one snapshot of pg_stat_activity per
        # transaction, so a watcher that started before the second visit connected never saw it
        waiting = watcher.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       "AND datname = current_database()")).scalar()
        watcher.rollback()
        return bool(waiting)

    with db.engine.connect() as watcher:  # wait until the second visit waits on the first's row
        while not second_visit_waits(watcher):
            assert visit.is_alive(), f"the second visit ended without meeting the first's row: {seen}"
            assert time.monotonic() < deadline, (
                "the second visit never reached the first's row; where it stands:\n"
                + "".join(traceback.format_stack(sys._current_frames()[visit.ident]))
                + "\n".join(str(row) for row in watcher.execute(text(
                    "SELECT datname, state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity"))))
            time.sleep(0.02)
    first.commit()
    first.close()
    visit.join(10)
    assert "error" not in seen, seen.get("error")
    assert seen["alerts"] is False, "the second visit reads the first's settings"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(PersonSettings)) == 1
    db.dispose()
