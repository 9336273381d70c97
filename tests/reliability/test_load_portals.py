"""Load on every portal (slow: `make test-slow`, run by CI): the whole demo as `make demo` starts
it (every app and the sandbox upstream providers under gunicorn), but on PostgreSQL and a real
Redis, and 200 concurrent users spread over the three portals for 60 s (LOAD_SECONDS): each signs
in the way that portal asks — a password at eComms and the e-services portal (with the choice of
organisation), FranceConnect-style federation through the impots sandbox at the justice space —
then browses it. Zero server errors, every sign-in lands on its portal, the figures printed."""

from __future__ import annotations

import os
import re
import statistics
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from urllib3.util.retry import Retry

from tests.idp.federation.helpers import forms
from tests.servers import create_database, demo, free_demo_base

pytestmark = pytest.mark.slow
USERS = int(os.environ.get("LOAD_USERS", 200))
SECONDS = float(os.environ.get("LOAD_SECONDS", 60))
BASE = free_demo_base()  # this module's own demo, beside any other
PORTALS = {  # name: (home, how its users sign in, the pages they browse)
    "ecomms": (f"http://localhost:{BASE + 1}", ("password", "requerant@example.org", "Demo-Passw0rd"), ("/", "/help", "/terms")),
    "eservices": (f"http://localhost:{BASE + 3}", ("password", "claire.martin@example.org", "Demo-Passw0rd"),
                  ("/", "/catalogue", "/aide")),
    "justice": (f"http://localhost:{BASE + 2}", ("federation", "1234567890123", "Sandbox-Impots-1"), ("/", "/help", "/settings")),
}


def submit_first_form(http: requests.Session, page: requests.Response, data: dict[str, str],
                      action_contains: str = "") -> requests.Response:
    """Submit, as a browser would (hidden fields and the first named button included), the page's
    first POST form that has the fields being filled and whose action contains ``action_contains``
    (the page frame's own forms, such as the accessibility switch, are not the one)."""
    candidates = [f for f in forms(page.text) if f["method"] == "post" and action_contains in f["action"]
                  and "mode" not in f["fields"]]
    form = next((f for f in candidates if set(data) <= set(f["fields"])), None) or candidates[0]
    payload = dict(form["fields"])
    if form["buttons"]:
        payload.setdefault(*form["buttons"][0])
    payload.update(data)
    return http.post(requests.compat.urljoin(page.url, form["action"]), data=payload, timeout=60)


def sign_in(http: requests.Session, home: str, how: tuple[str, str, str]) -> requests.Response:
    method, login, password = how
    page = http.get(f"{home}/login", timeout=60)
    if method == "password":
        page = submit_first_form(http, page, {"identifier": login})
        page = submit_first_form(http, page, {"password": password})
        if not page.url.startswith(home):  # a post-login step: which organisation this session acts for
            first_choice = re.search(r'name="organisation_id"[^>]*value="([^"]+)"', page.text).group(1)
            page = submit_first_form(http, page, {"organisation_id": first_choice}, "/organisations/choix")
        return page
    page = submit_first_form(http, page, {}, "/federation/impots")  # the provider-choice page
    return submit_first_form(http, page, {"login": login, "password": password}, "/login")


@pytest.fixture
def demo_on_real_servers(tmp_path, postgres_server_url, real_redis_url):
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path / "instance"), "KEYS_DIR": str(tmp_path / "keys"),
           "REDIS_URL": real_redis_url, "PORT_BASE": str(BASE)}
    for variable in ("DATABASE_URL", "ECOMMS_DATABASE_URL", "JUSTICE_DATABASE_URL", "ESERVICES_DATABASE_URL"):
        env[variable] = create_database(postgres_server_url, f"{variable.lower()}_{uuid.uuid4().hex[:6]}")
    env.pop("ARGON2_PROFILE", None)  # the demo as shipped
    with demo(env):
        yield


def test_200_users_sign_in_and_browse_every_portal_without_a_server_error(demo_on_real_servers):
    latencies: list[float] = []
    errors: list[str] = []
    landed: Counter[str] = Counter()
    lock = threading.Lock()

    def user(index: int) -> None:
        name = list(PORTALS)[index % len(PORTALS)]
        home, how, pages = PORTALS[name]
        deadline = time.monotonic() + SECONDS
        http = requests.Session()
        # As browsers do: a request sent on a kept-alive connection the server closed meanwhile is
        # sent again on a new one (server errors are still counted: retries are on the socket only).
        http.mount("http://", requests.adapters.HTTPAdapter(max_retries=Retry(
            total=3, connect=3, read=2, status=0, other=0, allowed_methods=None, raise_on_status=False)))

        def record(answer: requests.Response, *_args, **_kwargs) -> None:
            with lock:
                latencies.append(answer.elapsed.total_seconds())
                if answer.status_code >= 500:
                    errors.append(f"{name}: {answer.request.method} {answer.url} {answer.status_code}")

        http.hooks["response"].append(record)  # every hop, redirects included
        try:
            page = sign_in(http, home, how)
            if page.url.rstrip("/") == home and "logout" in page.text:
                with lock:
                    landed[name] += 1
            else:
                with lock:
                    errors.append(f"{name}: user {index} ended at {page.url} ({page.status_code})")
            while time.monotonic() < deadline:
                for path in pages:
                    http.get(home + path, timeout=60)
        except Exception as error:  # a refused connection or a timeout is a failure too
            with lock:
                errors.append(f"{name}: user {index}: {error.__class__.__name__}: {error}")

    started = time.monotonic()
    with ThreadPoolExecutor(USERS) as pool:
        list(pool.map(user, range(USERS)))
    elapsed = time.monotonic() - started
    p95 = statistics.quantiles(latencies, n=20)[-1] * 1000 if len(latencies) > 20 else float("nan")
    print(f"\nload on every portal: {USERS} users, {elapsed:.0f} s, {len(latencies)} requests, "
          f"{len(latencies) / elapsed:.0f} req/s, p95 {p95:.0f} ms, sign-ins {dict(landed)}, {len(errors)} errors")
    assert errors == [], errors[:10]
    assert sum(landed.values()) == USERS, "every user's sign-in landed on their portal"
    assert set(landed) == set(PORTALS)
