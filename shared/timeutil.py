"""Time as the Court and the courts see it: Europe/Strasbourg (= Europe/Paris), timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

STRASBOURG = ZoneInfo("Europe/Paris")  # Strasbourg shares Paris's zone in the tz database


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_strasbourg(moment: datetime | float) -> datetime:
    if isinstance(moment, (int, float)):  # epoch seconds (Redis-held records)
        moment = datetime.fromtimestamp(moment, UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(STRASBOURG)


def strasbourg_now() -> datetime:
    return to_strasbourg(utcnow())


def format_strasbourg(moment: datetime, with_seconds: bool = False) -> str:
    """``22/11/2026 14:05 (heure de Strasbourg)`` style, without the label (templates add it)."""
    pattern = "%d/%m/%Y %H:%M:%S" if with_seconds else "%d/%m/%Y %H:%M"
    return to_strasbourg(moment).strftime(pattern)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
