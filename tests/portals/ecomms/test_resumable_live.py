"""Issue 17's done-when: a 50 MB upload interrupted halfway resumes and completes. A real TCP proxy
between the client and the live eComms cuts the connection once, after half the file; the client
(Chromium running the page's own script, and a Python client speaking tus) asks the server where
it stands and goes on from there; the document sent is the file, byte for byte, and the bytes that
crossed the proxy show it resumed rather than started again."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
import time
from html import unescape

import pytest
import requests
from sqlalchemy import select

from portals.ecomms.models import Document
from shared.rp.testing import sign_in
from tests.servers import LiveServer, free_port

SIZE = 50 * 1024 * 1024 - 4096
CUT_AFTER = SIZE // 2


def big_pdf(size: int) -> bytes:
    """A valid one-page PDF of exactly ``size`` bytes: an unreferenced stream of random bytes fills it."""
    def build(filler: int) -> bytes:
        objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                   b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                   b"<< /Length 0 >>\nstream\n\nendstream",
                   b"<< /Length %d >>\nstream\n" % filler + os.urandom(filler) + b"\nendstream"]
        out = bytearray(b"%PDF-1.4\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
        return bytes(out)

    filler = size - len(build(size))
    pdf = build(size + filler)
    assert len(pdf) == size
    return pdf


class CuttingProxy:
    """A TCP proxy that forwards everything, except that once, when the bytes sent towards the server
    (all connections together) pass ``cut_after``, it closes that connection on both sides."""

    def __init__(self, upstream_port: int, cut_after: int):
        self.upstream_port, self.cut_after = upstream_port, cut_after
        self.sent_upstream = 0
        self.cuts = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    @staticmethod
    def _close(*sockets: socket.socket) -> None:
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _pump(self, source: socket.socket, target: socket.socket, towards_server: bool) -> None:
        try:
            while data := source.recv(65536):
                if towards_server:
                    with self._lock:
                        if not self.cuts and self.sent_upstream + len(data) > self.cut_after:
                            allowed = self.cut_after - self.sent_upstream
                            target.sendall(data[:allowed])
                            self.sent_upstream += allowed
                            self.cuts += 1
                            self._close(source, target)
                            return
                        self.sent_upstream += len(data)
                target.sendall(data)
        except OSError:
            pass
        self._close(source, target)

    def stop(self) -> None:
        self._listener.close()
        self._close(*self._open)


@pytest.fixture
def live(app):
    server = LiveServer(app, free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def proxy(live):
    cutting = CuttingProxy(live.port, CUT_AFTER)
    yield cutting
    cutting.stop()


@pytest.fixture(scope="module")
def pdf_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "Requete-complete.pdf"
    content = big_pdf(SIZE)
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest()


def session_cookie(live):
    client = live.app.test_client()
    sign_in(client, sub="applicant-1", claims={"email": "a@example.org", "name": "Marie REQUERANTE"})
    name = live.app.config["SESSION_COOKIE_NAME"]
    return name, client.get_cookie(name).value


def sent_document(app) -> Document:
    with app.extensions["db"].session() as session:
        [document] = session.scalars(select(Document))
        session.expunge(document)
        return document


def test_a_python_client_resumes_a_50_mb_upload_cut_halfway(app, live, proxy, pdf_file):
    path, digest = pdf_file
    content = path.read_bytes()
    http = requests.Session()
    name, value = session_cookie(live)
    http.cookies.set(name, value, domain="127.0.0.1")
    page = http.get(proxy.url + "/applications/app-1/send").text
    token = unescape(re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))
    tus = {"Tus-Resumable": "1.0.0", "X-CSRFToken": token}
    created = http.post(proxy.url + "/applications/app-1/uploads", headers={
        **tus, "Upload-Length": str(SIZE), "Upload-Metadata": "filename UmVxdWV0ZS1jb21wbGV0ZS5wZGY="})
    assert created.status_code == 201
    location = proxy.url + created.headers["Location"]
    with pytest.raises(requests.RequestException):  # the whole file in one piece: cut halfway
        http.patch(location, data=content, headers={**tus, "Upload-Offset": "0",
                                                     "Content-Type": "application/offset+octet-stream"})
    assert proxy.cuts == 1
    for _attempt in range(80):  # as a client does: ask where the server stands (busy while it still
        probe = http.head(location, headers=tus)  # writes the cut piece), then go on from there
        if probe.status_code != 423:
            break
        time.sleep(0.25)
    assert probe.status_code == 200
    offset = int(probe.headers["Upload-Offset"])
    answer = http.patch(location, data=content[offset:], headers={
        **tus, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
    assert answer.status_code == 200, answer.text
    assert SIZE // 4 < offset <= CUT_AFTER, "it resumed from where the cut left it, not from zero"
    assert proxy.sent_upstream < SIZE * 1.1, "the first half was not sent again"
    upload_id = answer.json()["id"]
    sent = http.post(proxy.url + "/applications/app-1/send", data={
        "csrf_token": token, "upload_ids": upload_id, f"type_{upload_id}": "form", "confirm": "yes"},
        allow_redirects=False)
    assert sent.status_code == 302
    document = sent_document(app)
    assert document.sha256 == digest and document.size == SIZE


@pytest.mark.browser
def test_chromium_resumes_a_50_mb_upload_cut_halfway_with_the_pages_script(app, live, proxy, pdf_file, chromium):
    path, digest = pdf_file
    name, value = session_cookie(live)
    context = chromium.new_context(locale="fr-FR")
    context.add_cookies([{"name": name, "value": value, "url": proxy.url}])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(proxy.url + "/applications/app-1/send")
    page.evaluate("""() => {
        window.__heard = [];
        new MutationObserver(() => window.__heard.push(document.getElementById('upload-announcer').textContent))
            .observe(document.getElementById('upload-announcer'), {childList: true, characterData: true, subtree: true});
        window.__statuses = [];
        new MutationObserver(() => document.querySelectorAll('.file-row__status').forEach(
            s => window.__statuses.push(s.textContent))).observe(document.getElementById('upload-list'),
            {childList: true, characterData: true, subtree: true});
    }""")
    page.locator("#picker").set_input_files(str(path))
    row = page.locator("#upload-list li[data-upload-id]")
    row.wait_for(timeout=180_000)
    assert proxy.cuts == 1, "the connection was cut once"
    assert proxy.sent_upstream < SIZE * 1.2, "the upload resumed instead of starting again"
    statuses = page.evaluate("window.__statuses")
    assert any("reprise du téléchargement" in s for s in statuses), "the row said it was resuming"
    heard = page.evaluate("window.__heard")
    percents = [int(m.group(1)) for h in heard if (m := re.fullmatch(r"Requete-complete\.pdf : (\d+) % téléchargés", h))]
    assert len({p // 10 for p in percents}) >= 5, heard  # announced at every tenth, not at every event
    assert len(percents) <= 25, heard
    assert any("téléchargement terminé" in h for h in heard), heard
    assert page.locator("#upload-list .file-row__percent").inner_text() == "100 %"
    page.get_by_label("Type de document — Requete-complete.pdf").select_option("form")
    page.locator("label[for=confirm]").click()
    page.locator("#send-button").click()
    page.wait_for_url(re.compile(r".*/applications/app-1\?tab=sent"))
    document = sent_document(app)
    assert document.sha256 == digest and document.size == SIZE
    assert not errors
    context.close()
