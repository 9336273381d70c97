"""A column type that keeps moments as aware UTC on every engine.

SQLite has no time zone: SQLAlchemy writes an aware datetime's clock digits and drops its offset,
so ``14:00+01:00`` came back as ``14:00`` and was read as UTC (one hour late in winter, two in
summer). This type converts every moment to UTC before it is written and hands it back aware in
UTC, on SQLite and PostgreSQL alike; a naive moment (a time without its offset) is refused rather
than guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("a moment without its UTC offset cannot be stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
