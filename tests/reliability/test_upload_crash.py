"""The eComms process killed with -9 in the middle of an upload: no document appears, and the
cleanup removes the temporary file it left."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from html import unescape
from pathlib import Path

import requests
from sqlalchemy import func, select

from tests.servers import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]
SERVE = """
import sys
from portals.ecomms import create_app
from werkzeug.serving import run_simple
app = create_app({"database_url": sys.argv[1], "instance_path": sys.argv[2], "redis_url": sys.argv[3],
                  "_quiet": True, "raw": {"outbox": {"manual": True}}})
run_simple("127.0.0.1", int(sys.argv[4]), app, threaded=True)
"""


def test_kill_9_during_an_upload_leaves_no_document_and_cleanup_removes_the_rest(tmp_path, real_redis_url):
    from portals.ecomms import create_app, services, upgrade_database
    from portals.ecomms.models import Application, Document
    from shared.rp.testing import sign_in

    database = f"sqlite:///{tmp_path / 'ecomms.db'}"
    instance = tmp_path / "instance"
    instance.mkdir()
    upgrade_database(database)
    config = {"database_url": database, "instance_path": instance, "redis_url": real_redis_url, "_quiet": True,
              "raw": {"outbox": {"manual": True}}}
    app = create_app(config)
    with app.extensions["db"].session() as session:
        session.add(Application(id="app-1", number="5/26", title="x", applicant_email="a@example.org",
                                applicant_sub="applicant-1", created_by="registry"))
    client = app.test_client()
    sign_in(client, sub="applicant-1")  # the session lives in the shared Redis; the cookie is signed alike
    cookie = client.get_cookie("ecomms_session").value

    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVE, database, str(instance), real_redis_url, str(port)],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        http = requests.Session()
        http.cookies.set("ecomms_session", cookie)
        page = http.get(f"http://127.0.0.1:{port}/applications/app-1/send")
        token = unescape(re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1))
        session_cookie = [c.value for c in http.cookies if c.name == "ecomms_session"][-1]
        with socket.create_connection(("127.0.0.1", port)) as sock:
            head = (f"POST /applications/app-1/uploads HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"Cookie: ecomms_session={session_cookie}\r\nX-CSRFToken: {token}\r\nX-File-Name: big.pdf\r\n"
                    f"Content-Type: application/pdf\r\nContent-Length: {20 * 1024 * 1024}\r\n\r\n")
            sock.sendall(head.encode() + b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024))
            folder = instance / "ecomms-documents"
            deadline = time.monotonic() + 10
            while not (folder.exists() and any(p.name.startswith(".upload-") and p.stat().st_size > 1024 * 1024
                                               for p in folder.iterdir())):
                assert time.monotonic() < deadline, "the upload never reached the disk"
                time.sleep(0.05)
            os.kill(server.pid, signal.SIGKILL)  # mid-upload
            server.wait(10)
    finally:
        if server.poll() is None:
            server.kill()
    with app.extensions["db"].session() as session:
        assert session.scalar(select(func.count(Document.id))) == 0, "no partial document is visible"
    leftovers = [p.name for p in folder.iterdir()]
    assert leftovers and all(name.startswith(".upload-") for name in leftovers)
    with app.app_context(), app.extensions["db"].session() as session:
        assert services.cleanup_storage(session) == []  # too recent: maybe an upload still running
        from portals.ecomms import storage

        removed = storage.cleanup(services.storage_folder(), set(), now=time.time() + 2 * storage.STALE_SECONDS)
    assert sorted(removed) == sorted(leftovers) and list(folder.iterdir()) == []
