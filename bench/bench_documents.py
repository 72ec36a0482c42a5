"""Seconds per PDF page and per DOCX report for `tasks.read_report`.

    python bench/bench_documents.py

PDF: the three real reports in data/samples (5–8 pages each). DOCX: the rendered fixture reports
(both template versions, merged cells), written by python-docx.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pdfplumber

import tasks
from tests.fixtures import render
from tests.fixtures.render_docx import render_docx

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def main() -> None:
    print(f"{'document':<28} {'pages':>5} {'s/report':>9} {'s/page':>7}")
    per_page = []
    for path in sorted(SAMPLES.glob("*.pdf")):
        data = path.read_bytes()
        with pdfplumber.open(path) as pdf:
            pages = len(pdf.pages)
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            tasks.read_report(data)
            runs.append(time.perf_counter() - start)
        t = statistics.median(runs)
        per_page.append(t / pages)
        print(f"{path.name:<28} {pages:>5} {t:>9.3f} {t / pages:>7.3f}")
    print(f"PDF median: {statistics.median(per_page):.3f} s per page")
    for name, spec in (("docx fmt_2019", render.shanghai_2019()), ("docx fmt_2021", render.hangzhou_2021())):
        data = render_docx(spec)
        runs = []
        for _ in range(10):
            start = time.perf_counter()
            tasks.read_report(data)
            runs.append(time.perf_counter() - start)
        print(f"{name:<28} {'':>5} {statistics.median(runs):>9.3f}")


if __name__ == "__main__":
    main()
