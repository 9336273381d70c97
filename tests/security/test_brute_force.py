"""Brute force against passwords slows the attacker without locking the owner out: counters per
account *and* client (a known device's signed cookie, else the network address), growing delays
never permanent, the same treatment for an unknown account; per-address limits across identifiers
(Flask-Limiter); "Mot de passe oublié ?" limited per requester and per address asked for, and the
person is always told to wait, in her language, never silently dropped."""

from __future__ import annotations

import re
import time
from html import unescape

import pytest

from idp.services import accounts, devices, throttle
from idp.storage.sql.outbox import OutboxMessage

PASSWORD = "Bonne-Passe-2026"
OWNER_ADDRESS, ATTACKER_ADDRESS = "198.51.100.10", "203.0.113.66"


@pytest.fixture
def app(tmp_path):
    from idp import create_app, upgrade_database

    url = f"sqlite:///{tmp_path / 'idp.db'}"
    upgrade_database(url)
    app = create_app({"database_url": url, "instance_path": tmp_path, "_quiet": True,
                      "raw": {"outbox": {"manual": True}}})
    with app.app_context():
        accounts.create("victim@example.org", PASSWORD)
    yield app
    app.extensions["db"].dispose()


def browser(app, address: str, lang: str = "fr"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.set_cookie("lang", lang)
    return client


def csrf(page) -> str:
    return unescape(re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1))


def attempt(client, identifier: str, password: str):
    page = client.get("/signin?next=/account", follow_redirects=True)
    token = csrf(page)
    page = client.post(page.request.path, data={"csrf_token": token, "identifier": identifier}, follow_redirects=True)
    return client.post(page.request.path, data={"csrf_token": token, "password": password})


def test_password_guessing_is_slowed_down_and_never_locked_for_good(app):
    attacker = browser(app, ATTACKER_ADDRESS)
    statuses = [attempt(attacker, "victim@example.org", f"Guess-{n}aA").status_code for n in range(5)]
    assert statuses == [400] * 5
    slowed = attempt(attacker, "victim@example.org", PASSWORD)  # even the right one: the attacker learns nothing
    assert slowed.status_code == 429 and "Trop de tentatives" in slowed.get_data(as_text=True)
    # an unknown account gets the same treatment (no enumeration through the throttle)
    for n in range(5):
        attempt(attacker, "nobody@example.org", f"Guess-{n}aA")
    assert attempt(attacker, "nobody@example.org", "x").status_code == 429
    with app.app_context():
        client = (accounts.find_by_identifier("victim@example.org").id, None, ATTACKER_ADDRESS)
        for _ in range(50):
            throttle.sign_in_failed(*client)
        assert 0 < throttle.sign_in_wait(*client) <= throttle.MAX_DELAY
        redis = app.extensions["redis"]
        keys = list(redis.scan_iter("idp:throttle:password*"))
        assert keys and all(0 < redis.ttl(key) <= throttle.WINDOW for key in keys)  # counters expire
        for key in keys:  # once the delay has passed, the attacker's client may try again
            redis.hset(key, "last", 0)
    assert attempt(attacker, "victim@example.org", PASSWORD).status_code == 302


def test_the_owner_on_her_known_device_is_let_through_while_strangers_guess(app):
    owner = browser(app, OWNER_ADDRESS)
    signed_in = attempt(owner, "victim@example.org", PASSWORD)
    assert signed_in.status_code == 302 and owner.get_cookie(devices.COOKIE) is not None
    owner.post("/signout", data={"csrf_token": csrf(owner.get("/account", follow_redirects=True))})
    # strangers guess from many addresses, past every counter that applies to them (and from hers too)
    for n in range(throttle.UNTRUSTED_FREE + 5):
        attempt(browser(app, f"203.0.113.{n % 60 + 1}"), "victim@example.org", f"Guess-{n}aA")
    for _ in range(6):
        attempt(browser(app, OWNER_ADDRESS), "victim@example.org", "Wrong-Guess-1")
    with app.app_context():  # the attack goes on now, however slowly this machine ran the loops above
        redis = app.extensions["redis"]
        for key in redis.scan_iter("idp:throttle:password*"):
            redis.hset(key, "last", time.time())
    assert attempt(browser(app, "203.0.113.200"), "victim@example.org", PASSWORD).status_code == 429
    assert attempt(browser(app, OWNER_ADDRESS), "victim@example.org", PASSWORD).status_code == 429
    # her own browser: the right password goes through at once
    assert attempt(owner, "victim@example.org", PASSWORD).status_code == 302


def test_the_owner_on_a_new_browser_elsewhere_is_not_held_back_by_one_strangers_guesses(app):
    for n in range(12):
        attempt(browser(app, ATTACKER_ADDRESS), "victim@example.org", f"Guess-{n}aA")
    assert attempt(browser(app, ATTACKER_ADDRESS), "victim@example.org", PASSWORD).status_code == 429
    assert attempt(browser(app, OWNER_ADDRESS), "victim@example.org", PASSWORD).status_code == 302


def test_a_forged_or_another_accounts_device_cookie_is_no_device(app):
    with app.app_context():
        accounts.create("mallory@example.org", PASSWORD)
    attacker = browser(app, ATTACKER_ADDRESS)
    assert attempt(attacker, "mallory@example.org", PASSWORD).status_code == 302  # a real cookie, for her account
    genuine = attacker.get_cookie(devices.COOKIE).value
    attacker.delete_cookie("idp_sid")  # signed out; the device cookie stays
    for cookie in (genuine, genuine[:-4] + "AAAA"):
        attacker.set_cookie(devices.COOKIE, cookie)
        for n in range(5):
            attempt(attacker, "victim@example.org", f"Guess-{n}aA")
        assert attempt(attacker, "victim@example.org", PASSWORD).status_code == 429, cookie
        with app.app_context():
            for key in app.extensions["redis"].scan_iter("idp:throttle:password*"):
                app.extensions["redis"].delete(key)


@pytest.mark.parametrize(("lang", "expected"), [("fr", "Trop de demandes depuis votre adresse réseau"),
                                                 ("en", "Too many requests from your network address")])
def test_one_address_trying_many_accounts_is_limited_and_told_how_long(app, lang, expected):
    sprayer = browser(app, ATTACKER_ADDRESS, lang)
    for n in range(30):  # one guess per account: no account's own counter is reached
        assert attempt(sprayer, f"person{n}@example.org", "Spring-2026").status_code == 400
    refused = attempt(sprayer, "victim@example.org", PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert expected in unescape(refused.get_data(as_text=True))
    # successes are not counted: an office behind one address signs in freely
    for _ in range(35):
        assert attempt(browser(app, OWNER_ADDRESS), "victim@example.org", PASSWORD).status_code == 302


def recover(client, email: str):
    page = client.get("/recovery")
    answer = client.post("/recovery", data={"csrf_token": csrf(page), "email": email})
    answer.get_data()
    answer.close()  # the answer has left, as a server closes it: the recovery job starts now
    return answer


@pytest.mark.parametrize(("lang", "expected"), [("fr", "Une demande a déjà été faite récemment pour cette adresse"),
                                                 ("en", "A request was already made recently for this address")])
def test_recovery_for_one_address_is_limited_and_the_requester_is_told_to_wait(app, lang, expected):
    answers = {}
    for email in ("victim@example.org", "nobody@example.org"):  # alike with or without an account
        requester = browser(app, OWNER_ADDRESS, lang)
        assert [recover(requester, email).status_code for _ in range(3)] == [200] * 3
        answers[email] = recover(requester, email)
    said = {}
    for email, refused in answers.items():
        said[email] = re.search(r'<p class="field-error"[^>]*>(.*?)</p>', unescape(refused.get_data(as_text=True)),
                                re.S).group(1)
        assert refused.status_code == 429 and expected in said[email]
        assert re.search(r"(Réessayez|Try again) (dans|in) \d+ minutes?", said[email]), said[email]
    assert said["victim@example.org"] == said["nobody@example.org"]


def test_recovery_requests_from_one_address_are_limited(app):
    requester = browser(app, ATTACKER_ADDRESS)
    assert all(recover(requester, f"target{n}@example.org").status_code == 200 for n in range(30))
    refused = recover(requester, "victim@example.org")
    assert refused.status_code == 429 and "Trop de demandes depuis votre adresse réseau" in \
        unescape(refused.get_data(as_text=True))
    assert recover(browser(app, OWNER_ADDRESS), "victim@example.org").status_code == 200


def reset_email(app) -> str | None:
    with app.extensions["db"].session() as session:
        message = session.query(OutboxMessage).filter(OutboxMessage.subject.like("Réinitialisation%")).first()
        return message.body_text if message else None


def test_a_used_reset_link_makes_the_browser_a_known_device(app):
    for n in range(throttle.UNTRUSTED_FREE + 5):  # every unknown browser is slowed down now
        attempt(browser(app, f"203.0.113.{n % 60 + 1}"), "victim@example.org", f"Guess-{n}aA")
    owner = browser(app, OWNER_ADDRESS)
    assert attempt(owner, "victim@example.org", PASSWORD).status_code == 429
    assert recover(owner, "victim@example.org").status_code == 200
    deadline = time.monotonic() + 10
    while not (body := reset_email(app)):  # the recovery job runs after the answer
        assert time.monotonic() < deadline, "no reset email"
        time.sleep(0.02)
    link = re.search(r"/recovery/[\w-]+", body).group(0)
    form = owner.get(link)
    done = owner.post(link, data={"csrf_token": csrf(form), "password": "Nouvelle-Passe-7",
                                  "password_confirm": "Nouvelle-Passe-7"})
    assert done.status_code == 200 and owner.get_cookie(devices.COOKIE) is not None
    assert attempt(owner, "victim@example.org", "Nouvelle-Passe-7").status_code == 302


def test_the_limits_come_from_the_configuration(tmp_path):
    """config/idp.toml [throttle] sets them: here one recovery an hour per address asked for, and
    two failed passwords a minute per address."""
    from idp import create_app, upgrade_database

    url = f"sqlite:///{tmp_path / 'idp.db'}"
    upgrade_database(url)
    app = create_app({"database_url": url, "instance_path": tmp_path, "_quiet": True,
                      "raw": {"outbox": {"manual": True}, "throttle": {
                          "recovery_per_email": "1 per hour", "sign_in_failures_per_address": "2 per minute"}}})
    requester = browser(app, OWNER_ADDRESS)
    assert [recover(requester, "someone@example.org").status_code for _ in range(2)] == [200, 429]
    sprayer = browser(app, ATTACKER_ADDRESS)
    assert [attempt(sprayer, f"p{n}@example.org", "Spring-2026").status_code for n in range(3)] == [400, 400, 429]
    app.extensions["db"].dispose()
