"""Document storage that loses nothing (issue 4 §6).

Uploads stream to a temporary file in the storage folder (same file system, so the final
rename is atomic), hashed with SHA-256 while they arrive, refused as soon as they pass 50 MB,
fsynced, checked (a PDF that parses), renamed to their final name, and only then recorded in
the database. A crash at any point leaves either nothing visible or an orphan file that
``cleanup`` removes: temporary files older than an hour, stored files without a row.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from werkzeug.exceptions import RequestEntityTooLarge

from shared.files import open_private, private_dir
from shared.timeutil import utcnow

MAX_BYTES = 50 * 1024 * 1024
CHUNK = 1024 * 1024  # 1 MiB: large enough for disk throughput, small enough for constant memory
TEMP_PREFIX = ".upload-"
STALE_SECONDS = 3600


class TooLarge(RequestEntityTooLarge):
    description = "file over 50 MB"


class HashingTempFile:
    """A write-only temporary file that hashes what it receives and refuses more than MAX_BYTES.

    Werkzeug's multipart parser writes each uploaded part into what ``Request._get_file_stream``
    returns: this object, so a no-JavaScript upload is streamed and limited exactly like an XHR one.
    """

    def __init__(self, folder: Path):
        private_dir(folder)
        self.path = folder / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        self._file = open_private(self.path)  # 0600 from the start; kept open across the parser's writes
        self._hash = hashlib.sha256()
        self.size = 0
        self.kept = False
        self.started_at = utcnow()  # the first byte's arrival: the receipt's "upload start"

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > MAX_BYTES:
            self.discard()
            raise TooLarge()
        self._hash.update(data)
        return self._file.write(data)

    def finish(self) -> tuple[str, int]:
        """fsync and close; return (sha256, size)."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return self._hash.hexdigest(), self.size

    # what the multipart parser and FileStorage expect of a stream
    def seek(self, *args):
        return self._file.seek(*args)

    def read(self, *args):
        return self._file.read(*args)

    def tell(self):
        return self._file.tell()

    def flush(self):
        return self._file.flush()

    def close(self):
        if not self._file.closed:
            self._file.close()

    def keep(self) -> None:
        """Staged for a later request: the end of this one leaves the file in place."""
        self.close()
        self.kept = True

    def discard(self) -> None:
        self.close()
        if not self.kept:
            self.path.unlink(missing_ok=True)


def copy_into(target: HashingTempFile, stream) -> HashingTempFile:
    """Copy a raw request body (XHR upload) into a hashing temporary file, chunk by chunk; on any
    failure the temporary file is gone."""
    try:
        while chunk := stream.read(CHUNK):
            target.write(chunk)
    except Exception:
        target.discard()
        raise
    return target


def receive_stream(stream, folder: Path) -> HashingTempFile:
    return copy_into(HashingTempFile(folder), stream)


@dataclass
class Staged:
    """A file received earlier (XHR upload), already checked, waiting in its temporary file."""

    path: Path
    started_at: datetime | None = None

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


class AssembledFile:
    """A file received in pieces (the resumable upload): complete on disk, hashed once whole."""

    def __init__(self, path: Path, started_at: datetime | None):
        self.path, self.started_at = path, started_at

    def finish(self) -> tuple[str, int]:
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            os.fsync(handle.fileno())
            while block := handle.read(CHUNK):
                digest.update(block)
        return digest.hexdigest(), self.path.stat().st_size

    def keep(self) -> None:
        pass

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class Stored:
    key: str
    path: Path


def publish(temp: HashingTempFile | Staged, folder: Path) -> Stored:
    """Atomically give the temporary file its final name (the caller commits the row next)."""
    key = uuid.uuid4().hex
    final = folder / key
    os.replace(temp.path, final)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
    return Stored(key, final)


def path_of(folder: Path, key: str) -> Path:
    if not key.isalnum():
        raise ValueError("bad storage key")
    return folder / key


def cleanup(folder: Path, known_keys: set[str], now: float | None = None) -> list[str]:
    """Remove stale temporary files and stored files that no row references (crash leftovers)."""
    now = now or time.time()
    removed = []
    if not folder.exists():
        return removed
    for entry in folder.iterdir():
        if not entry.is_file():
            continue
        stale = now - entry.stat().st_mtime > STALE_SECONDS
        orphan = not entry.name.startswith(TEMP_PREFIX) and entry.name not in known_keys
        if (entry.name.startswith(TEMP_PREFIX) and stale) or (orphan and now - entry.stat().st_mtime > 60):
            entry.unlink(missing_ok=True)
            removed.append(entry.name)
    return removed
