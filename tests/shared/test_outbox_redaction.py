"""After delivery the outbox keeps no live secret: whoever reads the database or a backup of it
(an operator, a stolen dump) finds a digest where the reset link, the SMS code or the letter
with the organisation's codes were. The recipient's copy, and the dev inbox, keep them whole."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import DeclarativeBase

from shared.config import load_settings
from shared.outbox import deliver_pending, queue_email, queue_letter, queue_sms
from shared.outbox.models import define_outbox
from shared.outbox.redaction import MARKER, content_digest, redact_settled
from shared.storage import Database
from shared.timeutil import utcnow


class Base(DeclarativeBase):
    pass


Outbox = define_outbox(Base)
LINK = "http://localhost:8000/reset/3f1c9a7be2d84c0f9e6a5b4d3c2b1a0f"
# a letter's size (several pages of SQLite overflow), the codes inside
PDF = b"%PDF-1.4\n" + b"%" + b"x" * 20_000 + b"\n1 0 obj<< /Codes (CODE-7391-ADMIN) >>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    Base.metadata.create_all(database.engine)
    return database


def settings_for(devinbox, **outbox):
    return load_settings("outbox-test", {**devinbox.settings(), "_quiet": True, "raw": {"outbox": outbox}})


def rows(db) -> list:
    with db.session() as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.created_at)))


def queue_the_three(db, tag: str) -> None:
    """An email with a reset link, an SMS code and a letter with codes, to recipients of their own
    (the dev inbox is shared by the whole run)."""
    with db.session() as session:
        queue_email(session, Outbox, f"{tag}@example.org", "Réinitialisation", f"Lien : {LINK}\n",
                    body_html=f'<a href="{LINK}">Réinitialiser</a>')
        queue_sms(session, Outbox, PHONES[tag], "Votre code justice.fr est 482913")
        queue_letter(session, Outbox, to=f"Mairie de {tag}\n1 place de la Mairie\n75001 Paris", subject="Vos codes",
                     pdf=PDF, filename="codes.pdf")


PHONES = {"redacted": "+33699990001", "on-disk": "+33699990002", "kept": "+33699990003"}


def test_delivered_messages_keep_a_digest_and_no_secret(db, devinbox):
    queue_the_three(db, "redacted")
    with db.session() as session:
        originals = {r.channel: content_digest(r.channel, r.recipient, r.subject, r.body_text, r.body_html, r.attachment)
                     for r in session.scalars(select(Outbox))}
    assert deliver_pending(db, Outbox, settings_for(devinbox)) == 3
    for row in rows(db):
        assert row.status == "sent" and row.body_text == f"{MARKER}{originals[row.channel]}]", row.channel
        assert row.body_html is None and row.attachment is None
    letter = next(r for r in rows(db) if r.channel == "letter")
    assert (letter.subject, letter.attachment_name) == ("Vos codes", "codes.pdf")
    assert letter.recipient == "Mairie de redacted\n1 place de la Mairie\n75001 Paris"
    # the recipient's side, here the dev inbox, keeps them whole: development stays workable
    assert devinbox.messages("redacted@example.org")[0]["links"] == [LINK]
    assert "482913" in devinbox.messages(PHONES["redacted"], channel="sms")[0]["text"]


def test_not_even_the_database_file_keeps_the_secrets(db, devinbox, tmp_path):
    """SQLite's secure_delete zeroes what the redaction overwrote, so a copy of the file holds no link."""
    queue_the_three(db, "on-disk")
    deliver_pending(db, Outbox, settings_for(devinbox))
    with db.engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    db.dispose()
    on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("outbox.db*"))
    for secret in (LINK.encode(), b"482913", b"CODE-7391-ADMIN"):
        assert secret not in on_disk, secret


def test_a_message_not_delivered_yet_keeps_its_content_for_the_retry(db, devinbox, monkeypatch):
    with db.session() as session:
        queue_email(session, Outbox, "redaction-retry@example.org", "Activation", f"Lien : {LINK}")

    def refuse(*_args, **_kwargs):
        raise smtplib.SMTPServerDisconnected("down")

    monkeypatch.setattr(smtplib.SMTP, "send_message", refuse)
    assert deliver_pending(db, Outbox, settings_for(devinbox)) == 0
    [row] = rows(db)
    assert row.status == "pending" and LINK in row.body_text
    monkeypatch.undo()
    with db.session() as session:
        session.execute(update(Outbox).values(next_attempt_at=utcnow()))
    assert deliver_pending(db, Outbox, settings_for(devinbox)) == 1
    assert rows(db)[0].body_text.startswith(MARKER)
    assert devinbox.messages("redaction-retry@example.org")[0]["links"] == [LINK]


def test_a_retention_keeps_delivered_content_that_long_then_redacts(db, devinbox):
    settings = settings_for(devinbox, keep_delivered_seconds=3600)
    queue_the_three(db, "kept")
    assert deliver_pending(db, Outbox, settings) == 3
    assert all(not r.body_text.startswith(MARKER) for r in rows(db))
    assert redact_settled(db, Outbox, settings) == 0
    assert redact_settled(db, Outbox, settings, now=utcnow() + timedelta(seconds=3601)) == 3
    assert all(r.body_text.startswith(MARKER) and r.attachment is None for r in rows(db))


def test_a_failed_message_is_redacted_after_a_week(db, devinbox):
    with db.session() as session:
        queue_sms(session, Outbox, "+33600000000", "Votre code justice.fr est 111222")
    with db.session() as session:
        session.execute(update(Outbox).values(status="failed"))
    settings = settings_for(devinbox)
    assert redact_settled(db, Outbox, settings, now=utcnow() + timedelta(days=6)) == 0
    assert "111222" in rows(db)[0].body_text
    assert redact_settled(db, Outbox, settings, now=utcnow() + timedelta(days=7, seconds=1)) == 1
    assert "111222" not in rows(db)[0].body_text
