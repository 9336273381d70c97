"""The outbox: a message is a row first, delivered later, retried when the far side is down,
and received once even when a delivery is repeated."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update
from sqlalchemy.orm import DeclarativeBase

from shared.config import ConfigError, load_settings
from shared.outbox import deliver_pending, queue_email, queue_letter, queue_sms
from shared.outbox.models import define_outbox
from shared.storage import Database
from shared.timeutil import as_utc, utcnow


class Base(DeclarativeBase):
    pass


Outbox = define_outbox(Base)


@pytest.fixture
def db(tmp_sqlite_url):
    database = Database(tmp_sqlite_url)
    Base.metadata.create_all(database.engine)
    return database


def settings_for(devinbox, **overrides):
    return load_settings("outbox-test", {**devinbox.settings(), "_quiet": True, **overrides})


def test_an_email_reaches_the_inbox_with_its_link_clickable(db, devinbox):
    with db.session() as session:
        queue_email(session, Outbox, "alice@example.org", "Validez votre adresse",
                    "Cliquez : http://localhost:8000/registration/confirm/abc\n")
    assert deliver_pending(db, Outbox, settings_for(devinbox)) == 1
    [message] = devinbox.messages("alice@example.org")
    assert message["subject"] == "Validez votre adresse"
    assert message["links"] == ["http://localhost:8000/registration/confirm/abc"]
    page = requests.get(f"{devinbox.url}/messages/{message['id']}", timeout=5).text
    assert '<a href="http://localhost:8000/registration/confirm/abc">' in page
    with db.session() as session:
        row = session.scalars(select(Outbox)).one()
        assert (row.status, row.attempts) == ("sent", 1)


def test_smtp_down_keeps_the_message_and_delivers_it_later_exactly_once(db, devinbox):
    with db.session() as session:
        queue_email(session, Outbox, "bob@example.org", "Réinitialisation", "Lien : http://x/reset/1")
    unreachable = f"smtp://127.0.0.1:{__import__('tests.servers', fromlist=['free_port']).free_port()}"
    assert deliver_pending(db, Outbox, settings_for(devinbox, smtp_url=unreachable)) == 0
    with db.session() as session:
        row = session.scalars(select(Outbox)).one()
        assert row.status == "pending" and row.attempts == 1 and as_utc(row.next_attempt_at) > utcnow()
        assert "Error" in row.last_error or "refused" in row.last_error.lower()
    # Not due yet: nothing is retried before the backoff.
    assert deliver_pending(db, Outbox, settings_for(devinbox)) == 0
    with db.session() as session:
        session.execute(update(Outbox).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert deliver_pending(db, Outbox, settings_for(devinbox)) == 1
    assert deliver_pending(db, Outbox, settings_for(devinbox)) == 0
    assert len(devinbox.messages("bob@example.org")) == 1


def test_a_message_whose_worker_dies_at_every_attempt_ends_failed(db, devinbox):
    """Each claim counts as an attempt, even when the worker is killed before it records anything:
    a message that crashes every worker is given up at the limit instead of being retried for ever."""
    from shared.outbox.delivery import MAX_ATTEMPTS

    with db.session() as session:
        queue_email(session, Outbox, "carol@example.org", "Avis", "Texte")
        # the state a worker killed during its last allowed attempt leaves behind: claimed, lease expired
        session.flush()
        session.execute(update(Outbox).values(status="sending", attempts=MAX_ATTEMPTS,
                                              next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert deliver_pending(db, Outbox, settings_for(devinbox)) == 0
    with db.session() as session:
        row = session.scalars(select(Outbox)).one()
        assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert devinbox.messages("carol@example.org") == []


def test_a_delivery_repeated_after_a_crash_is_received_once(db, devinbox):
    """The worker sent the SMS, then died before recording it: the lease expires, it is sent again,
    and the gateway recognises the idempotency key."""
    with db.session() as session:
        queue_sms(session, Outbox, "+33612345678", "Votre code : 123456")
    settings = settings_for(devinbox)
    assert deliver_pending(db, Outbox, settings) == 1
    with db.session() as session:  # as if the 'sent' mark had never been written
        session.execute(update(Outbox).values(status="sending", next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert deliver_pending(db, Outbox, settings) == 1
    assert len(devinbox.messages("+33612345678", channel="sms")) == 1


def test_a_claimed_message_is_not_sent_twice_by_two_workers(db, devinbox):
    from shared.outbox.delivery import _claim

    with db.session() as session:
        row = queue_sms(session, Outbox, "+33600000001", "code")
        session.flush()
        row_id = row.id
    assert _claim(db, Outbox, row_id) is True
    assert _claim(db, Outbox, row_id) is False  # the lease holds until it expires


def test_a_letter_keeps_its_pdf(db, devinbox):
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    with db.session() as session:
        queue_letter(session, Outbox, to="Mairie de Test, 1 place de la Mairie, 75001 Paris", subject="Vos codes",
                     pdf=pdf, filename="codes.pdf")
    assert deliver_pending(db, Outbox, settings_for(devinbox)) == 1
    [letter] = devinbox.messages("mairie de test, 1 place de la mairie, 75001 paris", channel="letter")
    assert letter["has_attachment"] and letter["attachment_name"] == "codes.pdf"
    response = requests.get(f"{devinbox.url}/messages/{letter['id']}/attachment", timeout=5)
    assert response.headers["Content-Type"] == "application/pdf" and response.content == pdf


def test_a_rolled_back_transaction_sends_nothing(db, devinbox):
    with pytest.raises(RuntimeError), db.session() as session:
        queue_email(session, Outbox, "carol@example.org", "x", "y")
        raise RuntimeError("the change it announced failed")
    assert deliver_pending(db, Outbox, settings_for(devinbox)) == 0
    assert devinbox.messages("carol@example.org") == []


def test_the_dev_inbox_does_not_exist_in_production(monkeypatch):
    from shared.outbox.devinbox import create_app

    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError):
        create_app({"_quiet": True}, smtp_port=0)


def test_smtp_sink_is_a_real_smtp_server(devinbox):
    host, port = devinbox.smtp_url.removeprefix("smtp://").split(":")
    with smtplib.SMTP(host, int(port), timeout=5) as smtp:
        smtp.sendmail("a@example.org", ["dave@example.org"],
                      b"Subject: hello\r\nMessage-ID: <t1@x>\r\n\r\nbody http://localhost/a\r\n")
    assert devinbox.messages("dave@example.org")[0]["links"] == ["http://localhost/a"]
