"""Portal pages: requests per second of an authenticated eComms page under gunicorn (session in
Redis, checks local: no call to the IdP per request — the IdP is not even running here), beside a
static file from the same server as the bound. Load from wrk on loopback."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from tests.bench.table import Row
from tests.bench.wrk import wrk
from tests.servers import free_port, gunicorn, redis_server


def run(budget: float) -> list[Row]:
    if not shutil.which("wrk"):
        return [Row("portal", "skipped: needs wrk", float("nan"), "")]
    from portals.ecomms import create_app, upgrade_database
    from portals.ecomms.models import Application
    from shared.rp.testing import sign_in

    folder = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    (folder / "instance").mkdir()
    database = f"sqlite:///{folder / 'ecomms.db'}"
    upgrade_database(database)
    workers = os.cpu_count() or 1
    with redis_server() as redis_url:
        config = {"database_url": database, "instance_path": folder / "instance", "redis_url": redis_url,
                  "issuer": f"http://127.0.0.1:{free_port()}", "_quiet": True, "raw": {"outbox": {"manual": True}}}
        app = create_app(config)
        with app.extensions["db"].session() as session:
            for i in range(20):
                session.add(Application(number=f"{i + 1}/26", title=f"Requête {i}", applicant_email="a@example.org",
                                        applicant_sub="bench-user", created_by="registry"))
        client = app.test_client()
        sign_in(client, sub="bench-user")
        cookie = f"ecomms_session={client.get_cookie('ecomms_session').value}"
        port = free_port()
        env = {**os.environ, "INSTANCE_PATH": str(folder / "instance"), "ECOMMS_DATABASE_URL": database,
               "REDIS_URL": redis_url, "ISSUER": config["issuer"]}
        server = gunicorn("portals.ecomms:create_app()", port, env, workers)
        try:
            base = f"http://127.0.0.1:{port}"
            wrk(base + "/", 2, headers={"Cookie": cookie})  # warm-up
            page_rps, page_p99 = wrk(base + "/", budget / 2, headers={"Cookie": cookie})
            static_rps, _ = wrk(base + "/static/ecomms.css", budget / 2)
        finally:
            server.terminate()
            server.wait(10)
    shutil.rmtree(folder, ignore_errors=True)
    return [
        Row("portal", f"eComms list page, signed in, {workers} procs", page_rps, "req/s", "static file, same server",
            static_rps, target=0.5, note=f"p99 {page_p99:.0f} ms; the IdP is not running: every check is local"),
    ]


if __name__ == "__main__":
    from tests.bench.table import print_table

    print_table(run(float(os.environ.get("BENCH_BUDGET", 10))))
