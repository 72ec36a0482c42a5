"""Seconds per page and per report of reading scans by OCR, on one core, and how many cells need a flag.

    python bench/bench_ocr.py                 # 150 and 300 dpi, clean and damaged, the three real PDFs
    python bench/bench_ocr.py --dpi 150       # one resolution

What it measures, so that it cannot flatter:

* the scans are made from the three real PDFs of data/samples (tests/fixtures/scans.py): every page
  rendered at the scanner resolution and saved as an image-only PDF, JPEG-compressed at quality 75
  ("clean"), or also turned 1.5° on the glass, stamped with a red seal on the table-3 page and
  compressed at quality 60 ("damaged");
* each report is read whole by `tasks.read_report` (render, upright, find tables, recognise, align,
  check, correct), timed from bytes to `Report`; the model load (once per process) is printed apart;
* ONNX Runtime runs on one thread (as in the flows' reader processes, one per core);
* every cell is compared with the hand-typed truth of tests/extract/test_pdf_docx.py: wrong cells are
  split into caught (a failing relation covers them: the report is quarantined) and uncaught.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DAMAGES = {"clean": {"jpeg_quality": 75}, "damaged": {"jpeg_quality": 60, "skew_deg": 1.5, "seal_on_page": 2}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dpi", type=int, nargs="+", default=[150, 300])
    parser.add_argument("--damage", choices=sorted(DAMAGES), nargs="+", default=sorted(DAMAGES))
    args = parser.parse_args()

    import tasks
    from tasks.extract import ocr
    from tasks.extract.correct import LOW_CONFIDENCE
    from tasks.template import codes
    from tests.conftest import SAMPLES
    from tests.extract.test_ocr import caught
    from tests.extract.test_pdf_docx import PDFS
    from tests.fixtures.scans import Damage, scan_pdf

    start = time.perf_counter()
    ocr.engine()
    print(f"model load {time.perf_counter() - start:.2f} s (once per reader process)")
    print(f"{'report':<22} {'dpi':>4} {'scan':<8} {'pages':>5} {'OCR':>4} {'s/report':>9} {'s/page':>7} "
          f"{'cells':>6} {'wrong':>6} {'caught':>7} {'low conf':>9} {'corrected':>9}")
    totals = {"pages": 0, "seconds": 0.0, "cells": 0, "wrong": 0, "uncaught": 0, "low": 0, "corrected": 0}
    for dpi in args.dpi:
        for damage in args.damage:
            for name, (truth, _, _) in sorted(PDFS.items()):
                data = scan_pdf(SAMPLES / name, Damage(dpi=dpi, **DAMAGES[damage]))  # type: ignore[arg-type]
                clock = time.perf_counter()
                report = tasks.read_report(data, source=name)
                seconds = time.perf_counter() - clock
                pages_line = next(w for w in report.warnings if w.startswith("OCR: read"))
                pages = int(pages_line.split(" of ")[1].split()[0])
                read = _count_pages(pages_line)
                got = {c.cell_id: c for c in report.cells}
                wrong = [k for k, v in truth.items() if got[k].value != v]
                uncaught = [k for k in wrong if not caught(report, k)]
                low = sum(1 for c in report.cells if c.confidence is not None and c.confidence < LOW_CONFIDENCE)
                corrected = sum(1 for c in report.cells if codes.FLAG_OCR_CORRECTED in c.flags)
                print(f"{name:<22} {dpi:>4} {damage:<8} {pages:>5} {read:>4} {seconds:>9.1f} {seconds / read:>7.2f} "
                      f"{len(truth):>6} {len(wrong):>6} {len(wrong) - len(uncaught):>7} {low:>9} {corrected:>9}",
                      flush=True)
                for key, n in (("pages", read), ("seconds", seconds), ("cells", len(truth)), ("wrong", len(wrong)),
                               ("uncaught", len(uncaught)), ("low", low), ("corrected", corrected)):
                    totals[key] += n
    print(f"all: {totals['seconds'] / totals['pages']:.2f} s per OCR'd page; "
          f"{totals['wrong']} of {totals['cells']} cells wrong ({totals['wrong'] / totals['cells']:.1%}), "
          f"{totals['uncaught']} of them not caught by a relation; "
          f"{totals['low'] / totals['cells']:.1%} of cells under confidence {LOW_CONFIDENCE}; "
          f"{totals['corrected']} corrected")


def _count_pages(line: str) -> int:
    """'OCR: read pages 1, 3–6 of 6 (…)' -> 5."""
    named = line.removeprefix("OCR: read ").split(" of ")[0].removeprefix("pages ").removeprefix("page ")
    count = 0
    for part in named.split(", "):
        lo, _, hi = part.partition("–")
        count += int(hi or lo) - int(lo) + 1
    return count


if __name__ == "__main__":
    main()
