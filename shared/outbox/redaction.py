"""Delivered messages do not stay readable in the outbox: reset, activation and email-change
links, justice identification numbers, SMS codes and the letters' PDFs with their codes are
live secrets, and the outbox table sits in every database backup.

Once a message is delivered its body, HTML body and attachment are replaced by a digest
(``[redacted after delivery; sha256=…]``): the row still says what was sent to whom and when,
its id stays the Message-ID / Idempotency-Key of the delivery, and the digest proves which
content it was (compare it with ``content_digest`` of the recipient's copy). A message that
finally failed keeps its content ``keep_failed_seconds`` (7 days) for an operator, then is
redacted too. ``[outbox] keep_delivered_seconds`` keeps delivered content a while (0 by default).

The dev inbox is the recipient's side (its own database, development only): it still shows every
message whole, links clickable, letters downloadable.
SQLite databases run with ``secure_delete`` (shared.storage), so the redacted bytes are zeroed in
the file, not left in free space for a backup to carry.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

from sqlalchemy import or_, select

from shared.config import Settings
from shared.storage import Database
from shared.timeutil import utcnow

MARKER = "[redacted after delivery; sha256="
KEEP_FAILED = timedelta(days=7)
PASS_INTERVAL = 60.0  # seconds between two passes over settled rows
_last_pass: dict[str, float] = {}


def content_digest(channel: str, recipient: str, subject: str, body_text: str | None, body_html: str | None,
                   attachment: bytes | None) -> str:
    digest = hashlib.sha256()
    for part in (channel, recipient, subject, body_text or "", body_html or ""):
        data = part.encode()
        digest.update(len(data).to_bytes(8, "big") + data)
    digest.update(len(attachment or b"").to_bytes(8, "big") + (attachment or b""))
    return digest.hexdigest()


def is_redacted(row) -> bool:
    return (row.body_text or "").startswith(MARKER)


def redact(row) -> None:
    """Replace the row's content by its digest (once; a redacted row stays as it is)."""
    if is_redacted(row):
        return
    digest = content_digest(row.channel, row.recipient, row.subject, row.body_text, row.body_html, row.attachment)
    row.body_text, row.body_html, row.attachment = f"{MARKER}{digest}]", None, None


def keep_delivered(settings: Settings) -> timedelta:
    return timedelta(seconds=float(settings.section("outbox").get("keep_delivered_seconds", 0)))


def redact_settled(db: Database, model, settings: Settings, now=None, limit: int = 500) -> int:
    """Redact delivered rows past ``keep_delivered_seconds`` and failed rows past ``keep_failed_seconds``."""
    now = now or utcnow()
    outbox = settings.section("outbox")
    failed_limit = now - timedelta(seconds=float(outbox.get("keep_failed_seconds", KEEP_FAILED.total_seconds())))
    with db.session() as session:
        rows = list(session.scalars(select(model).where(
            or_((model.status == "sent") & (model.sent_at <= now - keep_delivered(settings)),
                (model.status == "failed") & (model.created_at <= failed_limit)),
            or_(model.attachment.is_not(None), model.body_html.is_not(None), ~model.body_text.startswith(MARKER)),
        ).limit(limit)))
        for row in rows:
            redact(row)
    return len(rows)


def redact_settled_when_due(db: Database, model, settings: Settings) -> None:
    """From the delivery loop: one pass a minute per app and table."""
    key = f"{settings.app_name}:{model.__table__.name}"
    if time.monotonic() - _last_pass.get(key, float("-inf")) >= PASS_INTERVAL:
        _last_pass[key] = time.monotonic()
        redact_settled(db, model, settings)
