"""Resumable uploads: the tus 1.0.0 core protocol with its creation, termination and checksum
(sha256) extensions, so a 50 MB PDF survives a network drop.

- ``begin``: the file's name and full length are declared first; its place (the declared length,
  at most 50 MB) is reserved in the staged quotas before any byte arrives, so pieces cannot add up
  past a quota.
- ``append``: a piece at exactly the offset the server holds (the file's size on disk); one piece
  at a time per upload (a lock); never past the declared length. A piece cut off by the network
  is kept up to its last received byte (the client asks the offset and goes on from there); a
  piece sent with ``Upload-Checksum`` is kept only whole and matching its digest.
- once the last byte is there the assembled file gets every check of a one-piece upload (name,
  PDF, encryption, complexity) and is staged for "Envoyer" under the same id; a refused file is
  deleted and its place given back.
- ``cancel``: the partial file goes, and its place.

State in Redis: ``ecomms:resumable:<id>`` (owner, application, name, length, temporary file, start
time), expiring with the staged files; the bytes in the storage folder's temporary file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime

from werkzeug.exceptions import ClientDisconnected

from portals.ecomms import services, storage
from portals.ecomms.models import Application
from portals.ecomms.services import Incoming, Refused
from shared.appkit import get_redis
from shared.files import open_private
from shared.rp.session import Principal
from shared.timeutil import utcnow

VERSION = "1.0.0"
EXTENSIONS = "creation,termination,checksum"
READ = 64 * 1024
LOCK_SECONDS = 120


@dataclass
class Upload:
    id: str
    name: str
    length: int
    offset: int
    complete: bool = False


def _key(upload_id: str) -> str:
    return f"ecomms:resumable:{upload_id}"


def _path(record: dict):
    return services.storage_folder() / record["temp"]


def parse_metadata(header: str) -> dict[str, str]:
    """``Upload-Metadata: filename <base64>,…`` (tus): undecodable values are refused."""
    values = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, encoded = pair.partition(" ")
        try:
            values[key] = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Refused("bad_upload") from None
    return values


def begin(principal: Principal, application: Application, name: str, length: int) -> Upload:
    services.check_file_name(name)
    if length <= 0:
        raise Refused("empty", name)
    if length > storage.MAX_BYTES:
        raise Refused("too_large")
    upload_id = secrets.token_hex(16)
    folder = storage.private_dir(services.storage_folder())
    path = folder / f"{storage.TEMP_PREFIX}{secrets.token_hex(16)}"
    services.reserve(principal, application, upload_id, length, path.name)
    open_private(path).close()
    get_redis().set(_key(upload_id), json.dumps({
        "sub": principal.sub, "application_id": application.id, "name": name, "length": length,
        "temp": path.name, "started_at": utcnow().isoformat()}), ex=services.upload_ttl())
    return Upload(upload_id, name, length, 0)


def _record(principal: Principal, application: Application, upload_id: str) -> dict:
    """The upload if it is this person's, for this application, still going; else Refused("not_found")."""
    raw = get_redis().get(_key(upload_id)) if upload_id.isalnum() and len(upload_id) <= 64 else None
    record = json.loads(raw) if raw else None
    if record is None or record["sub"] != principal.sub or record["application_id"] != application.id:
        raise Refused("not_found")
    return record


def status(principal: Principal, application: Application, upload_id: str) -> Upload:
    """Where the upload stands (HEAD); a finished one answers its full length."""
    try:
        record = _record(principal, application, upload_id)
    except Refused:
        try:  # finished and staged (a lost answer to the last piece): the whole length
            staged = services.staged_upload(principal, application, upload_id)
        except Refused:
            raise Refused("not_found") from None
        return Upload(upload_id, staged.name, staged.size, staged.size, complete=True)
    if get_redis().exists(f"{_key(upload_id)}:lock"):  # a piece still being written (a cut one, say):
        raise Refused("upload_busy")  # its size is not the offset yet; ask again in a moment
    path = _path(record)
    if not path.exists():
        raise Refused("upload_expired")
    return Upload(upload_id, record["name"], record["length"], path.stat().st_size)


def parse_checksum(header: str | None) -> bytes | None:
    """``Upload-Checksum: sha256 <base64 digest>``; another algorithm is refused (tus: 400)."""
    if not header:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise Refused("bad_upload")
    try:
        digest = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise Refused("bad_upload") from None
    if len(digest) != 32:
        raise Refused("bad_upload")
    return digest


def append(principal: Principal, application: Application, upload_id: str, offset: int, stream,
           checksum: bytes | None = None) -> Upload:
    """Write one piece at ``offset``; when the file is whole, check and stage it (see the module)."""
    services.writable(application)
    record = _record(principal, application, upload_id)
    redis = get_redis()
    lock = f"{_key(upload_id)}:lock"
    if not redis.set(lock, "1", nx=True, ex=LOCK_SECONDS):
        raise Refused("upload_busy")
    try:
        path = _path(record)
        if not path.exists():
            raise Refused("upload_expired")
        held = path.stat().st_size
        if offset != held:
            raise Refused("offset_mismatch", offset=held)
        written = _receive(path, held, record["length"], stream, checksum)
        if written < record["length"]:
            return Upload(upload_id, record["name"], record["length"], written)
        return _complete(principal, application, upload_id, record)
    finally:
        redis.delete(lock)


def _receive(path, start: int, length: int, stream, checksum: bytes | None) -> int:
    """Append the request body; the new size. Past the declared length: refused (nothing kept of
    that piece). Cut off: what arrived is kept, unless a checksum asks for the piece whole."""
    digest = hashlib.sha256()
    size = start
    cut = False
    with path.open("r+b") as handle:
        handle.seek(start)
        try:
            while block := stream.read(READ):
                if size + len(block) > length:
                    handle.truncate(start)
                    raise Refused("too_long")
                handle.write(block)
                digest.update(block)
                size += len(block)
        except ClientDisconnected:
            cut = True
        if checksum is not None and (cut or digest.digest() != checksum):
            handle.truncate(start)
            if not cut:
                raise Refused("checksum_mismatch")
            size = start
        handle.flush()
        os.fsync(handle.fileno())
    return size


def _complete(principal: Principal, application: Application, upload_id: str, record: dict) -> Upload:
    """The last byte arrived: every check of a one-piece upload, then staged under the same id."""
    redis = get_redis()
    started = datetime.fromisoformat(record["started_at"])
    try:
        item = services.accept(Incoming(temp=storage.AssembledFile(_path(record), started), name=record["name"]))
    except Exception:
        redis.delete(_key(upload_id))
        _path(record).unlink(missing_ok=True)
        services.release(principal, application, upload_id)
        raise
    services.keep_staged(principal, application, upload_id, item)
    redis.delete(_key(upload_id))
    return Upload(upload_id, record["name"], record["length"], item.size, complete=True)


def cancel(principal: Principal, application: Application, upload_id: str) -> bool:
    """Termination: the partial file and its place in the quotas go. False if there is no such upload."""
    try:
        record = _record(principal, application, upload_id)
    except Refused:
        return False
    if not get_redis().delete(_key(upload_id)):
        return False
    _path(record).unlink(missing_ok=True)
    services.release(principal, application, upload_id)
    return True
