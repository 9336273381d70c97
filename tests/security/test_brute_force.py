"""Brute force against passwords: growing delays per account and per address, the same message for
an unknown account, never a permanent lock-out (delays capped, counters expire)."""

from __future__ import annotations

import re
from html import unescape

from idp.services import accounts, throttle


def attempt(client, identifier: str, password: str):
    page = client.get("/signin?next=/account", follow_redirects=True)
    token = unescape(re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1))
    page = client.post(page.request.path, data={"csrf_token": token, "identifier": identifier}, follow_redirects=True)
    return client.post(page.request.path, data={"csrf_token": token, "password": password})


def test_password_guessing_is_slowed_down_and_never_locked_for_good(tmp_path):
    from idp import create_app, upgrade_database

    url = f"sqlite:///{tmp_path / 'idp.db'}"
    upgrade_database(url)
    app = create_app({"database_url": url, "instance_path": tmp_path, "_quiet": True,
                      "raw": {"outbox": {"manual": True}}})
    with app.app_context():
        accounts.create("victim@example.org", "Bonne-Passe-2026")
    client = app.test_client()
    statuses = [attempt(client, "victim@example.org", f"Guess-{n}aA").status_code for n in range(5)]
    assert statuses == [400] * 5
    slowed = attempt(client, "victim@example.org", "Bonne-Passe-2026")
    assert slowed.status_code == 429 and "Trop de tentatives" in slowed.get_data(as_text=True)
    # an unknown account gets the same treatment (no enumeration through the throttle)
    for n in range(5):
        attempt(client, "nobody@example.org", f"Guess-{n}aA")
    assert attempt(client, "nobody@example.org", "x").status_code == 429
    with app.app_context():
        for _ in range(50):
            throttle.failure("password", "id:victim@example.org")
        assert throttle.wait_seconds("password", "id:victim@example.org") <= throttle.MAX_DELAY
        redis = app.extensions["redis"]
        assert 0 < redis.ttl("idp:throttle:password:id:victim@example.org") <= throttle.WINDOW
        # once the delay has passed, the owner signs in
        for key in redis.scan_iter("idp:throttle:password:*"):
            redis.hset(key, "last", 0)
    assert attempt(client, "victim@example.org", "Bonne-Passe-2026").status_code == 302
