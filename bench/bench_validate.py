"""How long the Great Expectations gate takes for N reports, and how it scales.

    python bench/bench_validate.py --reports 1000 5000 10000

Builds the frames of N reports (the bundled samples, replicated under distinct report ids, half
2019 and half 2021 format), then times the consistency suites (on the `checks` dataset) and the
schema suites (every dataset, both zones) separately. GX's import (seconds) is reported once.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tasks
from tasks.normalise.frames import ReadReport, build_frames, split_by_status

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def reads(n: int) -> list[ReadReport]:
    base = [tasks.read_source(str(SAMPLES / name)) for name in
            ("000_baotou_2020.txt", "001_jinggangshan_2020.txt", "002_hequ_2020.txt", "010_shanghai_2019_gbk.html",
             "003_hulunbuir_2022.txt", "005_suining_2021_pdf2md.md", "012_hangzhou_2021.html")]
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        r = base[i % len(base)]
        r = replace(r, meta=replace(r.meta, year=2021))
        out.append(ReadReport(r, f"{i:016x}", now, "curated", ()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, nargs="+", default=[1000, 5000, 10000])
    args = parser.parse_args()
    start = time.perf_counter()
    import great_expectations  # noqa: F401

    print(f"import great_expectations: {time.perf_counter() - start:.1f} s (once per flow run)")
    from tasks.validate.gate import consistency_gate, schema_gate
    from tasks.validate.route import apply_gate

    print(f"{'reports':>8} {'check rows':>11} {'cell rows':>10} {'consistency s':>14} {'schema s':>9} {'total s':>8}")
    for n in args.reports:
        frames = build_frames(reads(n), [])
        t0 = time.perf_counter()
        result, gx = consistency_gate(frames["checks"])
        t1 = time.perf_counter()
        failing = {rid: [f.check_id for f in fs] for rid, fs in result.failing_reports().items()}
        reports, _ = apply_gate(frames["reports"], failing, {})
        problems, _ = schema_gate(split_by_status({**frames, "reports": reports}), (2019, 2022), gx)
        t2 = time.perf_counter()
        cells = sum(frames[d].height for d in ("proactive", "requests", "review_litigation"))
        assert not problems, problems
        print(f"{n:>8} {frames['checks'].height:>11} {cells:>10} {t1 - t0:>14.1f} {t2 - t1:>9.1f} {t2 - t0:>8.1f}")


if __name__ == "__main__":
    main()
