"""An application's documents as one ZIP, streamed as it is written (never whole in memory nor on
disk), for the registry to keep before closing. Every member is named by us: ``inbox/`` or
``sent/`` then the stored name reduced to safe characters (no folder, no ``..``, no drive, no
control character), made unique; ``SHA256SUMS`` lists each member's SHA-256 as recorded at deposit."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from portals.ecomms import storage
from portals.ecomms.models import Application

UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
FOLDERS = {"from_court": "inbox", "to_court": "sent"}
BLOCK = 64 * 1024


def safe_member_name(name: str) -> str:
    """The last path segment of ``name`` (either slash), only safe characters, no leading dot."""
    base = re.split(r"[\\/]", name)[-1]
    base = UNSAFE.sub("_", base).strip(" .")[:150]
    return base or "document.pdf"


def entries(application: Application, folder: Path) -> list[tuple[str, Path, str]]:
    """(member name, file, SHA-256) for each document whose file is still there, oldest first."""
    taken: set[str] = set()
    found = []
    for document in sorted(application.documents, key=lambda d: d.created_at):
        path = storage.path_of(folder, document.storage_key)
        if not path.is_file():
            continue
        stem, dot, ext = safe_member_name(document.stored_name).rpartition(".")
        stem, ext = (stem, ext) if dot else (ext, "")
        name, counter = f"{FOLDERS[document.direction]}/{stem}{dot}{ext}", 1
        while name.lower() in taken:
            counter += 1
            name = f"{FOLDERS[document.direction]}/{stem}-{counter}{dot}{ext}"
        taken.add(name.lower())
        found.append((name, path, document.sha256))
    return found


class _Chunks(io.RawIOBase):
    """A write-only stream whose bytes are taken out as they come (zipfile then writes data descriptors)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        chunk = b"".join(self._parts)
        self._parts.clear()
        return chunk


def stream(members: Iterable[tuple[str, Path, str]]) -> Iterator[bytes]:
    sink = _Chunks()
    sums = []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, path, sha256 in members:
            with archive.open(name, "w", force_zip64=True) as target, path.open("rb") as source:
                while block := source.read(BLOCK):
                    target.write(block)
                    yield sink.take()
            sums.append(f"{sha256}  {name}\n")
        archive.writestr("SHA256SUMS", "".join(sums))
    yield sink.take()
