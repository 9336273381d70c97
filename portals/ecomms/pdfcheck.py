"""The PDF check of a deposit, with bounded CPU, memory and time.

pypdf is pure Python: a crafted file of a few kilobytes (object streams that inflate to tens of
megabytes scanned byte by byte, arrays of a million numbers) kept a web worker busy for a minute
and grew it by hundreds of megabytes. So the check runs in a child process that cannot outgrow
its budget, and the web worker only waits for its one-line answer:

- CPU: a profiling timer (``ITIMER_PROF``) stops the parse after ``cpu_seconds`` of CPU time;
  ``RLIMIT_CPU`` kills the child one second later if the timer could not; the parent gives up
  after ``wall_seconds`` whatever happens (a child that waits instead of working);
- memory: ``RLIMIT_AS`` keeps the child's whole footprint (interpreter and pypdf included) near
  ``memory_mb`` of resident memory; an allocation past it is a ``MemoryError``, not a swap storm;
- work: pypdf's inflate limits are lowered to what real documents need (``inflate_bytes`` per
  stream), and the pages are counted from the page tree's ``/Count`` (catalogue → page tree),
  never by resolving every page and the object streams they live in.

Run as a script (``python -I pdfcheck.py FILE CPU MEMORY INFLATE``) it is the child: it imports
only the standard library and pypdf, and prints one JSON line: ``{"pages": n}`` or
``{"refused": "not_pdf" | "too_complex"}``, with its own peak memory and CPU time.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float = 0.5
    memory_mb: int = 64
    inflate_bytes: int = 1024 * 1024
    wall_seconds: float = 10.0

    @classmethod
    def from_settings(cls, section: dict) -> Limits:
        """``[uploads]`` of config/ecomms.toml: pdf_check_cpu_seconds, pdf_check_memory_mb,
        pdf_inflate_limit_bytes, pdf_check_wall_seconds."""
        default = cls()
        return cls(cpu_seconds=float(section.get("pdf_check_cpu_seconds", default.cpu_seconds)),
                   memory_mb=int(section.get("pdf_check_memory_mb", default.memory_mb)),
                   inflate_bytes=int(section.get("pdf_inflate_limit_bytes", default.inflate_bytes)),
                   wall_seconds=float(section.get("pdf_check_wall_seconds", default.wall_seconds)))


@dataclass(frozen=True)
class Verdict:
    outcome: str  # "pdf" | "not_pdf" | "too_complex" | "encrypted" (needs a password to open)
    pages: int = 0
    peak_rss_mb: float | None = None  # the child's peak resident memory, when it could tell
    cpu_seconds: float | None = None  # the child's CPU time spent on the file (interpreter start excluded)
    elapsed: float = 0.0  # wall time seen by the web worker, child start included


def check(path: Path, limits: Limits = Limits()) -> Verdict:
    """Is this file a PDF with at least one page? Answered within the limits, or ``too_complex``."""
    started = time.monotonic()
    command = [sys.executable, "-I", __file__, str(path), str(limits.cpu_seconds), str(limits.memory_mb),
               str(limits.inflate_bytes)]
    try:
        # fixed argv of our own interpreter and module, no shell, an empty environment: no secret travels
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,  # noqa: S603
                              stderr=subprocess.DEVNULL, env={}, timeout=limits.wall_seconds, check=False)
    except subprocess.TimeoutExpired:  # run() has killed the child
        return Verdict("too_complex", elapsed=time.monotonic() - started)
    elapsed = time.monotonic() - started
    try:
        answer = json.loads(done.stdout.decode("ascii").strip().splitlines()[-1])
    except (ValueError, IndexError, UnicodeDecodeError):  # killed by its CPU limit, or no answer at all
        return Verdict("too_complex", elapsed=elapsed)
    figures = {"peak_rss_mb": answer.get("peak_rss_mb"), "cpu_seconds": answer.get("cpu_seconds"), "elapsed": elapsed}
    if "pages" in answer and answer["pages"] >= 1:
        return Verdict("pdf", pages=int(answer["pages"]), **figures)
    refused = answer.get("refused")
    return Verdict(refused if refused in ("too_complex", "encrypted") else "not_pdf", **figures)


# -- the child ---------------------------------------------------------------------------------------

class OverBudget(Exception):
    """The profiling timer rang: the parse used its CPU time."""


def _resident_and_virtual_bytes() -> tuple[int, int]:
    with open("/proc/self/statm") as statm:
        size, resident = (int(field) for field in statm.read().split()[:2])
    page = os.sysconf("SC_PAGE_SIZE")
    return resident * page, size * page


def _peak_resident_mb() -> float | None:
    """VmHWM: this program's own peak (``ru_maxrss`` would count the web worker it was forked from)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _bound_memory(memory_mb: int) -> None:
    """Address space = what is mapped now + what is left of the resident budget."""
    try:
        resident, virtual = _resident_and_virtual_bytes()
    except OSError:  # no /proc (not Linux): the CPU budget still holds
        return
    allowed = virtual + max(memory_mb * 1024 * 1024 - resident, 8 * 1024 * 1024)
    resource.setrlimit(resource.RLIMIT_AS, (allowed, allowed))


def _lower_pypdf_limits(inflate_bytes: int) -> None:
    """What a real document needs to have its pages counted: object and cross-reference streams of
    at most ``inflate_bytes`` once inflated (pypdf's own defaults allow 75 MB per stream)."""
    import pypdf

    if not hasattr(pypdf, "overwrite_configuration"):  # pypdf before 6: its module constants
        from pypdf import filters

        for name in ("ZLIB_MAX_OUTPUT_LENGTH", "LZW_MAX_OUTPUT_LENGTH", "RUN_LENGTH_MAX_OUTPUT_LENGTH"):
            setattr(filters, name, inflate_bytes)
        return
    pypdf.overwrite_configuration(**{name: inflate_bytes for name in (
        "zlib_maximum_output_length", "lzw_maximum_output_length", "run_length_maximum_output_length",
        "brotli_maximum_output_length", "jbig2_maximum_output_length", "array_based_stream_maximum_output_length",
        "image_maximum_buffer_size")}, maximum_declared_stream_length=8 * inflate_bytes,
        stream_decoding_work_maximum_length=8 * inflate_bytes)


class Encrypted(Exception):
    """The document opens only with a password: the Court could not read it."""


def _count_pages(path: str) -> int:
    from pypdf import PdfReader

    with open(path, "rb") as handle:  # a handle, not a path: pypdf would read a path whole into memory
        reader = PdfReader(handle, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):  # an owner password alone still opens
            raise Encrypted()
        pages = reader.trailer["/Root"]["/Pages"]
        count, kids = pages["/Count"], pages["/Kids"]
        return int(count) if int(count) >= 1 and len(kids) >= 1 else 0


def _child(path: str, cpu_seconds: float, memory_mb: int, inflate_bytes: int) -> dict:
    import logging

    logging.disable(logging.CRITICAL)  # pypdf's warnings about a damaged file are of no use here
    from pypdf.errors import LimitReachedError  # imported before the limits: the interpreter is not the file

    _lower_pypdf_limits(inflate_bytes)

    def ring(_signum, _frame):
        raise OverBudget()

    hard = int(cpu_seconds) + 2  # whole seconds of CPU, counted from the child's start: the backstop
    resource.setrlimit(resource.RLIMIT_CPU, (hard - 1, hard))
    _bound_memory(memory_mb)
    start = time.process_time()
    signal.signal(signal.SIGPROF, ring)
    signal.setitimer(signal.ITIMER_PROF, cpu_seconds)
    try:
        answer: dict = {"pages": _count_pages(path)}
    except (OverBudget, MemoryError, RecursionError, LimitReachedError):
        answer = {"refused": "too_complex"}
    except Encrypted:
        answer = {"refused": "encrypted"}
    except Exception:  # pypdf raises many kinds on a damaged or disguised file
        answer = {"refused": "not_pdf"}
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    answer["cpu_seconds"] = round(time.process_time() - start, 3)
    answer["peak_rss_mb"] = _peak_resident_mb()
    return answer


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))), flush=True)
