"""How fast the reader reads flattened captures, how often it needs the solver, and its worst time.

    python bench/bench_captures.py [--reports 200]

For each capture shape of the simulator (`tests/fixtures/captures.py`: one cell per line, CRLF,
half-width runs split, numbers broken over lines, repeated lines collapsed, the page on one line,
PDF-converter Markdown), it renders `--reports` reports (the bundled samples and random reports
whose tables add up, with 0 printed or left blank at random), padded with 20–40 KB of prose as
real pages are, and reads each with `tasks.read_report` on one core. It prints:

* reports/s of the whole extract stage (decode, sections, labels, placement, checks);
* the share of reports in which some cell was placed by the 勾稽 relations (flag `solved`);
* the share of cells flagged `misaligned` or `blank_or_zero` (information the shape destroyed);
* the worst and the 99th-percentile time of one table's placement (`place_table`, i.e. the
  reading search plus CP-SAT), which is what the solver's caps bound.

Caches are cleared before each shape (the parsed-value cache of the solver), and OR-Tools is
imported before timing starts (its one-off import, ~1 s, is not a per-report cost).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tasks
from tasks.extract import align, solve
from tests.conftest import SAMPLE_REPORTS
from tests.fixtures import captures

PROSE = ("本年度，我单位坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，"
         "围绕中心工作，深化重点领域信息公开，加强政策解读和回应关切，不断提升政务公开质量和实效。\n")


def reports(n: int, seed: int = 11) -> list[tasks.Report]:
    rng = random.Random(seed)
    samples = [tasks.read_source(str(p)) for p in SAMPLE_REPORTS]
    out: list[tasks.Report] = []
    for i in range(n):
        if i % 3 == 0:
            out.append(samples[(i // 3) % len(samples)])
        else:
            out.append(captures.random_report(rng, rng.choice(["fmt_2019", "fmt_2021"]),
                                              blank_rate=rng.choice([0.0, 0.5, 1.0])))
    return out


def padded(text: str, rng: random.Random) -> bytes:
    filler = PROSE * rng.randint(90, 180)  # 20–40 KB of 总体情况 prose before section 二
    return text.replace("二、主动公开政府信息情况", filler + "二、主动公开政府信息情况", 1).encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=200)
    args = parser.parse_args()
    from ortools.sat.python import cp_model  # noqa: F401  (one-off import, not timed)

    table_times: list[float] = []
    original = align.place_table

    def timed(*a, **k):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            table_times.append(time.perf_counter() - start)

    align.place_table = timed  # type: ignore[assignment]
    docs = reports(args.reports)
    printed = [captures.printed_rows(r) for r in docs]
    rng = random.Random(5)
    print(f"{args.reports} reports per shape, one core; pages padded to 20–40 KB")
    print(f"{'shape':24} {'KB':>5} {'reports/s':>10} {'solver':>8} {'flagged':>8} {'table p99':>10} {'worst':>8}")
    for shape, render in captures.SHAPES.items():
        pages = [padded(render(p), rng) for p in printed]
        solve._numeric.cache_clear()
        solve._invalid.cache_clear()
        table_times.clear()
        solved = flagged = cells = 0
        start = time.perf_counter()
        for page in pages:
            report = tasks.read_report(page, source=shape)
            flags = [c.flags for c in report.cells]
            solved += any("solved" in f for f in flags)
            flagged += sum(1 for f in flags if "misaligned" in f or "blank_or_zero" in f)
            cells += len(flags)
        elapsed = time.perf_counter() - start
        p99 = statistics.quantiles(table_times, n=100)[98] if len(table_times) > 1 else table_times[0]
        print(f"{shape:24} {statistics.mean(len(p) for p in pages) / 1024:5.0f} {len(pages) / elapsed:10.1f} "
              f"{solved / len(pages):8.0%} {flagged / cells:8.1%} {p99 * 1000:8.1f}ms {max(table_times) * 1000:6.0f}ms")


if __name__ == "__main__":
    main()
