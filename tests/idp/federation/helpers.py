"""Test helpers for federation: live sandbox providers and a tiny form-following browser."""

from __future__ import annotations

from contextlib import contextmanager
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

from idp.upstream.sandbox import create_sandbox_app
from tests.servers import LiveServer, free_port


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._current = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                             "fields": {}, "buttons": []}
            self.forms.append(self._current)
        elif self._current is not None and tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self._current["fields"][a["name"]] = a.get("value") or ""
        elif self._current is not None and tag == "button" and a.get("name"):
            self._current["buttons"].append((a["name"], a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Browser:
    """A requests session that submits forms the way a person would (hidden fields included)."""

    def __init__(self):
        self.http = requests.Session()

    def get(self, url, **kw):
        return self.http.get(url, **kw)

    def submit(self, response, data: dict | None = None, action_contains: str = "", button: tuple | None = None,
               follow: bool = True):
        candidates = [f for f in forms(response.text) if action_contains in f["action"] and f["method"] == "post"]
        assert candidates, f"no POST form with action containing {action_contains!r} on {response.url}"
        form = candidates[0]
        payload = dict(form["fields"])
        if button:
            payload[button[0]] = button[1]
        payload.update(data or {})
        return self.http.post(urljoin(response.url, form["action"]), data=payload, allow_redirects=follow)


def query(url: str) -> dict:
    return dict(parse_qsl(urlsplit(url).query))


@contextmanager
def live_sandbox(name: str, **kwargs):
    port = free_port()
    app = create_sandbox_app(name, issuer=f"http://127.0.0.1:{port}", **kwargs)
    server = LiveServer(app, port).start()
    try:
        yield app, server.url
    finally:
        server.stop()
