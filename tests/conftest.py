"""Fixtures shared by the whole suite.

Every test session gets its own instance and keys folders, so tests never touch the repo's
``instance/`` or ``keys/``. ``real_redis_url`` and ``postgres_url`` start real servers (fail in CI
when missing, skip elsewhere).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="civic-tests-"))
os.environ["INSTANCE_PATH"] = str(_SESSION_DIR / "instance")
os.environ["KEYS_DIR"] = str(_SESSION_DIR / "keys")
os.environ.pop("REDIS_URL", None)
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("ARGON2_PROFILE", "test")  # cheaper argon2 in tests; production parameters are benchmarked

from tests import servers  # noqa: E402


@pytest.fixture(scope="session")
def real_redis_url():
    with servers.redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_server_url():
    with servers.postgres_server() as (url, _port):
        yield url


@pytest.fixture
def tmp_sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"
