"""Justice: the list page with filters for a person with 500 attached cases in a database of
1,000,000 cases (BENCH_JUSTICE_CASES to change it): p95 latency, and the query plans, which must
use indexes (no full scan of cases, parties or events). The database is built once and kept in
instance/bench/ for the next runs."""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, text

from tests.bench.table import Row

REPO = Path(__file__).resolve().parents[2]
CASES = int(os.environ.get("BENCH_JUSTICE_CASES", 1_000_000))
ATTACHED = 500
SUB = "bench-citizen"


def build(url: str, app) -> None:
    from portals.justice.models import Attachment, Case, Event, Party
    from portals.justice.search import folded, name_key
    from shared.timeutil import utcnow

    engine = app.extensions["db"].engine
    now = utcnow()
    rng = random.Random(7)
    courts = [f"Tribunal judiciaire de Ville{i:03d}" for i in range(160)]
    with engine.begin() as connection:
        for start in range(0, CASES, 20_000):
            cases, parties, events = [], [], []
            for i in range(start, min(CASES, start + 20_000)):
                case_id = f"c{i:09d}"
                finished = i % 5 == 0
                cases.append({"id": case_id, "reference": f"RG {i:09d}", "nature": "Divorce",
                              "state": "finished" if finished else "ongoing", "state_label": "",
                              "court_name": courts[i % len(courts)], "court_address": "", "court_phone": "",
                              "court_email": "", "court_search": folded(courts[i % len(courts)]), "updating": False, "created_at": now, "updated_at":
                              now - timedelta(minutes=i % 10_000), "ended_at": now - timedelta(days=i % 500) if finished
                              else None})
                parties.append({"id": f"p{i:09d}", "case_id": case_id, "role": "Demandeur",
                                "last_name": (last := f"NOM{rng.randrange(50_000):05d}"), "first_name": "Prénom",
                                "search_name": name_key("Prénom", last),
                                "access_cut": False})
                events.append({"id": f"e{i:09d}", "case_id": case_id, "kind": "hearing" if i % 2 else "document",
                               "label": "Audience", "at": now + timedelta(days=(i % 60) - 30), "location": ""})
            connection.execute(insert(Case), cases)
            connection.execute(insert(Party), parties)
            connection.execute(insert(Event), events)
        step = CASES // ATTACHED
        connection.execute(insert(Attachment), [{"id": f"a{k:05d}", "sub": SUB, "party_id": f"p{k * step:09d}",
                                                 "alerts": True, "created_at": now} for k in range(ATTACHED)])
        # everyone else's attachments: one case in ten attached by someone
        others = [{"id": f"o{i:09d}", "sub": f"citizen-{i % (CASES // 20 or 1)}", "party_id": f"p{i:09d}",
                   "alerts": True, "created_at": now} for i in range(1, CASES, 10) if i % step]
        for start in range(0, len(others), 20_000):
            connection.execute(insert(Attachment), others[start:start + 20_000])


def plans(app, filters) -> list[str]:
    """EXPLAIN QUERY PLAN of the list query: every table must be reached by an index."""
    from portals.justice import services

    engine = app.extensions["db"].engine
    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "attachments" in statement:
            captured.append((statement, parameters))

    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", capture)
    with app.app_context(), app.extensions["db"].session() as session:
        services.list_cases(session, SUB, filters)
    event.remove(engine, "before_cursor_execute", capture)
    lines = []
    with engine.connect() as connection:
        for statement, parameters in captured:
            lines += [row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    return lines


def run(budget: float) -> list[Row]:
    from portals.justice import create_app, upgrade_database
    from portals.justice.services import Filters
    from shared.rp.testing import sign_in

    folder = REPO / "instance" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / f"justice-{CASES}.db"
    url = f"sqlite:///{database}"
    fresh = not database.exists()
    upgrade_database(url)
    (folder / "instance").mkdir(exist_ok=True)
    app = create_app({"database_url": url, "instance_path": folder / "instance", "_quiet": True,
                      "raw": {"outbox": {"manual": True}}})
    if fresh:
        started = time.monotonic()
        print(f"  building {CASES:,} cases (once; kept in {database.relative_to(REPO)}) …", flush=True)
        build(url, app)
        with app.extensions["db"].engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        print(f"  built in {time.monotonic() - started:.0f} s", flush=True)
    client = app.test_client()
    sign_in(client, sub=SUB)
    queries = [{}, {"ongoing": "1"}, {"upcoming": "1"}, {"recent": "1"}, {"court": "ville042"},
               {"name": "nom01"}, {"finished": "1", "sort": "court"}]
    timings = []
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline or len(timings) < 30:
        for query in queries:
            started = time.perf_counter()
            answer = client.get("/", query_string=query)
            timings.append(time.perf_counter() - started)
            assert answer.status_code == 200
    p95 = statistics.quantiles(timings, n=20)[-1] * 1000
    scans = [line for query in queries for line in plans(app, Filters.from_args(query))
             if line.startswith("SCAN") and "USING" not in line and "INDEX" not in line]
    return [
        Row("justice list", f"list page p95, {ATTACHED} of {CASES:,} cases", p95, "ms",
            "budget 200 ms", 200.0, higher_is_better=False, target=1.0,
            note=f"{len(timings)} pages, filters and sorts mixed"),
        Row("justice list", "full scans in the list queries' plans", float(len(set(scans))), "scans",
            note="; ".join(sorted(set(scans)))[:120] or "every table reached by an index"),
    ]


if __name__ == "__main__":
    from tests.bench.table import print_table

    print_table(run(float(os.environ.get("BENCH_BUDGET", 10))))
