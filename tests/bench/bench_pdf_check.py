"""eComms: the PDF check of a deposit against the report's crafted files (object streams that
inflate to hundreds of megabytes of spaces) and a long real document: wall time seen by the web
worker (the child's interpreter start included), the child's CPU time and peak resident memory,
beside the bounds (1 s, 64 MB) and beside pypdf without limits on the report's small file."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.table import Row

UNBOUNDED = """
import sys, time
from pypdf import PdfReader
started = time.process_time()
with open(sys.argv[1], "rb") as handle:
    len(PdfReader(handle, strict=False).pages)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(round(time.process_time() - started, 2), int(hwm) // 1024)
"""


def long_document(path: Path, pages: int = 2000) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for page in range(pages):
        pdf.add_page()
        pdf.cell(0, 10, f"Annexe, page {page + 1}")
    path.write_bytes(bytes(pdf.output()))


def run(budget: float) -> list[Row]:
    from portals.ecomms import pdfcheck
    from tests.portals.ecomms import crafted_pdfs

    folder = Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    files = {
        "report's 433 KB file": crafted_pdfs.object_stream_bomb(152_000_000, streams=3),
        "report's 73 KB file": crafted_pdfs.object_stream_bomb(70_000_000, streams=1),
        "1 MB of numbers": crafted_pdfs.number_arrays(400_000),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{len(paths)}.pdf"
        paths[name].write_bytes(data)
    paths["2,000-page real document"] = folder / "long.pdf"
    long_document(paths["2,000-page real document"])
    rows = []
    for name, path in paths.items():
        verdicts = [pdfcheck.check(path) for _ in range(3)]
        best = min(verdicts, key=lambda v: v.elapsed)
        size = path.stat().st_size / 1024
        rows.append(Row("pdf check", f"{name} ({size:.0f} KB)", best.elapsed, "s", "bound 1 s", 1.0,
                        higher_is_better=False, target=1.0,
                        note=f"{best.outcome}; child {best.cpu_seconds} s CPU, peak {best.peak_rss_mb} MB "
                             "(bound 64 MB)"))
    small = paths["report's 73 KB file"]
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-c", UNBOUNDED, str(small)], capture_output=True, text=True,
                              timeout=max(30.0, budget * 6))
        cpu, peak = done.stdout.split()
        rows.append(Row("pdf check", "pypdf without limits, 73 KB file", time.monotonic() - started, "s",
                        note=f"{cpu} s CPU, peak {peak} MB, in the web worker before this change"))
    except (subprocess.TimeoutExpired, ValueError):
        rows.append(Row("pdf check", "pypdf without limits, 73 KB file", time.monotonic() - started, "s",
                        note="stopped by the benchmark's timeout"))
    return rows


if __name__ == "__main__":
    from tests.bench.table import print_table

    print_table(run(float(os.environ.get("BENCH_BUDGET", 10))))
