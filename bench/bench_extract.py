"""How fast `tasks.read_report` reads a 30–60 KB HTML report, next to `pandas.read_html` on the same pages.

    python bench/bench_extract.py [--reports 200]

Pages are the rendered fixture reports padded with realistic prose (a long 总体情况 section and
site chrome) to 30–60 KB, in GBK and UTF-8. Everything runs on one core (this process). It prints
reports per second for xxgk (decode + parse + align + checks, i.e. the whole extract stage) and
for pandas.read_html (lxml; it only finds tables: no decoding decisions, no labels, no checks).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tasks
from tests.fixtures import render

PROSE = ("2020年，我单位坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，"
         "围绕中心工作，深化重点领域信息公开，加强政策解读和回应关切，不断提升政务公开质量和实效。")


def pages(n: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if i % 2:
            spec, renderer, enc = render.hangzhou_2021(), render.render_hz2021, "utf-8"
        else:
            spec, renderer, enc = render.shanghai_2019(), render.render_sh2019, "gb18030"
        html = renderer(spec).decode(enc)
        filler = "".join(f"<p>（{k}）{PROSE * rng.randint(2, 6)}</p>" for k in range(rng.randint(12, 28)))
        html = html.replace("<p><strong>二、主动公开", filler + "<p><strong>二、主动公开", 1)
        html = html.replace("<p>二、主动公开", filler + "<p>二、主动公开", 1)
        out.append(html.encode(enc))
    return out


def rate(fn, docs: list[bytes], repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for d in docs:
            fn(d)
        runs.append(len(docs) / (time.perf_counter() - start))
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200)
    args = parser.parse_args()
    docs = pages(args.reports)
    sizes = [len(d) / 1024 for d in docs]
    print(f"{len(docs)} pages, {min(sizes):.0f}–{max(sizes):.0f} KB (median {statistics.median(sizes):.0f} KB)")
    xxgk = rate(lambda d: tasks.read_report(d), docs)
    print(f"xxgk read_report      {xxgk:8.1f} reports/s  ({1000 / xxgk:.1f} ms/report, one core)")
    try:
        import pandas as pd
    except ImportError:
        print("pandas not installed: pip install pandas lxml")
        return

    def with_pandas(d: bytes) -> None:
        text = d.decode("gb18030") if b"charset=gb" in d[:600] else d.decode("utf-8")
        pd.read_html(io.StringIO(text))

    try:
        pandas_rate = rate(with_pandas, docs)
    except ImportError as exc:
        print(f"pandas.read_html unavailable: {exc}")
        return
    print(f"pandas.read_html      {pandas_rate:8.1f} reports/s  ({1000 / pandas_rate:.1f} ms/report, tables only)")
    print(f"ratio xxgk / pandas   {xxgk / pandas_rate:8.2f}")


if __name__ == "__main__":
    main()
