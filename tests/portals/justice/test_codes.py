"""The SMS code as a person experiences it, and its abuse bounds: the code field stays while a
code is pending (after a session renewal, after a too-early resend), each refusal says what to
do; wrong guesses are counted atomically (real Redis, concurrent guesses); number look-ups are
bounded per person and per number; the SMS sent to one party are bounded per day."""

from __future__ import annotations

import re
import threading

from sqlalchemy import select

from portals.justice import codes, create_app, services, upgrade_database
from portals.justice.models import Attachment
from shared.rp.testing import sign_in
from tests.portals.justice.conftest import csrf_of, make_case, outbox
from tests.portals.justice.test_space import citizen


def last_code(app) -> str:
    return re.search(r"est (\d{6})", outbox(app, "sms")[-1].body_text).group(1)


def forget_resend_wait(app) -> None:
    with app.app_context():
        app.extensions["redis"].delete(*app.extensions["redis"].keys("justice:sms-sent:*") or ["none"])


def test_a_pending_code_survives_a_session_renewal(app):
    [number] = make_case(app, "RG 24/00020").values()
    client = citizen(app)
    client.post("/cases/add", data={"csrf_token": csrf_of(client, "/cases/add"), "number": number})
    code = last_code(app)
    renewed = app.test_client()  # the session expired; the person signs in again (same sub)
    sign_in(renewed, sub="citizen-1")
    page = renewed.get("/cases/add").get_data(as_text=True)
    assert 'name="code"' in page and "RG 24/00020" in page, "the code field is still there"
    challenge = re.search(r'name="challenge" value="([^"]+)"', page).group(1)
    done = renewed.post("/cases/add", data={"csrf_token": csrf_of(renewed, "/cases/add"), "challenge": challenge,
                                            "action": "confirm", "code": code}, follow_redirects=True)
    assert "Ce dossier vient d'être ajouté à votre compte." in done.get_data(as_text=True)


def test_asking_a_new_code_too_soon_keeps_the_code_field_and_says_when(app):
    [number] = make_case(app, "RG 24/00021").values()
    client = citizen(app)
    token = csrf_of(client, "/cases/add")
    client.post("/cases/add", data={"csrf_token": token, "number": number})
    code = last_code(app)
    again = client.post("/cases/add", data={"csrf_token": token, "action": "resend"})
    page = again.get_data(as_text=True)
    assert again.status_code == 400 and 'name="code"' in page
    assert re.search(r"dans \d+ secondes", page) and 'data-countdown="' in page
    challenge = re.search(r'name="challenge" value="([^"]+)"', page).group(1)
    assert client.post("/cases/add", data={"csrf_token": token, "challenge": challenge, "action": "confirm",
                                           "code": code}).status_code == 302, "the first code still works"


def test_a_new_code_replaces_the_last_one(app):
    [number] = make_case(app, "RG 24/00022").values()
    client = citizen(app)
    token = csrf_of(client, "/cases/add")
    first_page = client.post("/cases/add", data={"csrf_token": token, "number": number}).get_data(as_text=True)
    first_challenge = re.search(r'name="challenge" value="([^"]+)"', first_page).group(1)
    first = last_code(app)
    forget_resend_wait(app)
    page = client.post("/cases/add", data={"csrf_token": token, "action": "resend"}).get_data(as_text=True)
    assert "Un nouveau code vient d&#39;être envoyé" in page and len(outbox(app, "sms")) == 2
    old = client.post("/cases/add", data={"csrf_token": token, "challenge": first_challenge, "action": "confirm",
                                          "code": first})
    assert "a expiré ou a déjà été utilisé" in old.get_data(as_text=True)


def test_number_look_ups_are_bounded_per_person_and_per_number(app):
    [number] = make_case(app, "RG 24/00023").values()
    client = citizen(app)
    token = csrf_of(client, "/cases/add")
    limit, _window = codes.LOOKUPS_PER_PERSON
    for index in range(limit):
        client.post("/cases/add", data={"csrf_token": token, "number": f"AAAA-BBBB-{index:04d}"})
    refused = client.post("/cases/add", data={"csrf_token": token, "number": number})
    assert refused.status_code == 400 and "Trop de numéros d&#39;identification saisis" in refused.get_data(as_text=True)
    assert outbox(app, "sms") == [], "even a valid number is refused once the person's bound is reached"
    limit, _window = codes.LOOKUPS_PER_NUMBER
    for index in range(limit):  # several people (or one with many accounts) on one number
        other = citizen(app, sub=f"other-{index}")
        other.post("/cases/add", data={"csrf_token": csrf_of(other, "/cases/add"), "number": number})
        forget_resend_wait(app)
    last = citizen(app, sub="one-more")
    answer = last.post("/cases/add", data={"csrf_token": csrf_of(last, "/cases/add"), "number": number})
    assert "Trop de numéros d&#39;identification saisis" in answer.get_data(as_text=True)


def test_the_sms_sent_to_one_party_are_bounded_per_day(app):
    [number] = make_case(app, "RG 24/00024").values()
    limit, _window = codes.SMS_PER_PARTY
    client = citizen(app)
    token = csrf_of(client, "/cases/add")
    client.post("/cases/add", data={"csrf_token": token, "number": number})
    for _ in range(limit - 1):  # "Recevoir un nouveau code", each time after the 60 s wait
        forget_resend_wait(app)
        client.post("/cases/add", data={"csrf_token": token, "action": "resend"})
    assert len(outbox(app, "sms")) == limit
    forget_resend_wait(app)
    answer = client.post("/cases/add", data={"csrf_token": token, "action": "resend"})
    assert "Trop de codes ont été envoyés aujourd&#39;hui" in answer.get_data(as_text=True)
    assert len(outbox(app, "sms")) == limit


def test_concurrent_wrong_guesses_never_exceed_the_allowed_attempts(real_redis_url, tmp_path):
    url = f"sqlite:///{tmp_path / 'justice.db'}"
    upgrade_database(url)
    (tmp_path / "instance").mkdir()
    app = create_app({"database_url": url, "instance_path": tmp_path / "instance", "redis_url": real_redis_url,
                      "_quiet": True, "raw": {"outbox": {"manual": True}}})
    [number] = make_case(app, f"RG {tmp_path.name[-12:]}").values()
    with app.app_context(), app.extensions["db"].session() as session:
        pending = codes.send_code(session, "citizen-1", number)
    right = last_code(app)
    wrong = "000000" if right != "000000" else "111111"
    outcomes: list[str] = []
    start = threading.Barrier(24)

    def guess() -> None:
        with app.app_context(), app.extensions["db"].session() as session:
            start.wait()
            try:
                codes.confirm_code(session, "citizen-1", pending.challenge, wrong)
                outcomes.append("attached")
            except services.Refused as refusal:
                outcomes.append(refusal.code)

    threads = [threading.Thread(target=guess) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert outcomes.count("wrong_code") <= codes.CODE_ATTEMPTS - 1, outcomes
    with app.app_context(), app.extensions["db"].session() as session:
        try:
            codes.confirm_code(session, "citizen-1", pending.challenge, right)
            late = "attached"
        except services.Refused as refusal:
            late = refusal.code
    assert late != "attached", "the right code after the allowed attempts were used up"
    with app.extensions["db"].session() as session:
        assert session.scalars(select(Attachment)).all() == []
    app.extensions["redis"].delete(*app.extensions["redis"].keys("justice:*") or ["none"])
