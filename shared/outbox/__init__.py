"""The outbox: every email, SMS and postal letter is a durable row first, delivered afterwards.

Each app keeps its outbox table in its own database (``models.define_outbox(Base)``), so a
message commits in the same transaction as the fact it announces: no account without its
validation email, no email for a rolled-back change. A delivery worker (``init_outbox``) claims
due rows atomically, sends them, and retries failures with exponential backoff; every message
carries its row id as Message-ID / idempotency key, so a retried delivery is recognised by the
receiving side and its effect happens once. Once delivered, a message's content is replaced by
its digest (``redaction``): no live link, code or letter stays in the table or its backups.
"""

from __future__ import annotations

from shared.outbox.delivery import deliver_pending, init_outbox, queue_email, queue_letter, queue_sms

__all__ = ["queue_email", "queue_sms", "queue_letter", "deliver_pending", "init_outbox"]
