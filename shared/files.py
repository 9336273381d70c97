"""Files that hold documents, databases, keys and secrets: readable by this service's user only,
from the first byte.

- ``restrict_umask()`` runs when a process loads its configuration (``shared.config``), before it
  writes anything: every file the process creates afterwards, SQLite databases and their WAL
  files included, is 0600 and every folder 0700, whatever umask the shell had (often 022, which
  left court documents and development databases world-readable).
- ``create_private`` / ``write_private`` open with ``os.open(..., 0o600)`` themselves, so a secret
  is never on disk with wider rights, even for an instant and even under a lax umask (the old
  pattern wrote the file, then chmod-ed it).
- ``private_dir`` creates a folder 0700, and narrows one that an earlier run left wider.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077


def restrict_umask() -> None:
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077 and path.stat().st_uid == os.getuid():
        path.chmod(mode & 0o700)  # left open by an earlier run or another tool
    return path


def _write_new(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new temporary file beside ``path``, created 0600 and fsynced."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def write_private(path: Path, data: bytes | str) -> None:
    """Replace ``path`` atomically with ``data``, readable by this user only."""
    temp = _write_new(path, data.encode() if isinstance(data, str) else data)
    os.replace(temp, path)


def create_private(path: Path, data: bytes | str) -> bool:
    """Create ``path`` with ``data`` unless it exists (two processes starting at once keep the
    same secret: the first one's). True when this call created it."""
    temp = _write_new(path, data.encode() if isinstance(data, str) else data)
    try:
        os.link(temp, path)
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: create the final name exclusively instead
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(temp.read_bytes())
            os.fsync(handle.fileno())
    finally:
        temp.unlink(missing_ok=True)
    return True


def open_private(path: Path, mode: str = "w+b"):
    """A new file opened for writing, created 0600 (it must not exist)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL
    return os.fdopen(os.open(path, flags, 0o600), mode)
