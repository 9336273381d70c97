"""Storage setup shared by every app: one SQL database per app, one Redis.

SQL (SQLAlchemy 2) holds what must survive; Redis holds short-lived state with TTLs. Without
``REDIS_URL`` an in-process fakeredis stands in (one process only). Schema changes go through
Alembic; each app has its own migrations folder and its own version table.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import redis
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from shared.files import restrict_umask


class Database:
    """An engine and its session factory; ``session()`` commits on success, rolls back on error."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # one statement, no transaction around it: a single read (or a single atomic write) is one
        # round trip instead of three (BEGIN, the statement, COMMIT) on PostgreSQL
        self.readers = sessionmaker(self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                                    expire_on_commit=False)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextlib.contextmanager
    def single(self) -> Iterator[Session]:
        """A session for ONE statement (a read, or a write atomic on its own): run in autocommit,
        so it costs one round trip. Never for several statements that must hold together."""
        session = self.readers()
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        restrict_umask()  # the database file and its WAL, created by SQLite itself: 0600
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA secure_delete=ON")  # overwritten secrets (redacted outbox rows) zeroed in the file
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    # No pre-ping: it costs a round trip on every checkout (several per request). After a database
    # restart the first statement on a stale connection fails, that request answers 503, and
    # SQLAlchemy invalidates the whole pool, so the next requests reconnect (tests/reliability).
    return create_engine(url, pool_pre_ping=False, pool_size=10, max_overflow=20)


_fake_servers: dict[str, object] = {}


def make_redis(url: str | None, namespace: str = "default") -> redis.Redis:
    """A real Redis when ``url`` is set; otherwise a fakeredis shared inside this process."""
    if url:
        return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, health_check_interval=30)
    import fakeredis

    server = _fake_servers.setdefault(namespace, fakeredis.FakeServer())
    return fakeredis.FakeRedis(server=server, decode_responses=True)


def upgrade_database(url: str, migrations: Path, version_table: str, revision: str = "heads") -> None:
    """Run an app's Alembic migrations up to ``revision`` (all branch heads by default)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["version_table"] = version_table
    command.upgrade(cfg, revision)


class Base(DeclarativeBase):
    """Not used directly: each app declares its own ``Base`` so schemas stay separate."""
