"""Generate a synthetic reporting year: N rendered HTML reports on disk plus a catalogue CSV.

    python bench/generate_year.py --reports 5000 --year 2021 --out /tmp/xxgk-year

Half the reports are 2021-format pages (UTF-8), half 2019-format pages (GBK), 30–60 KB each,
with varied organs and values; about 2 % carry a cross-footing error so the quarantine path runs.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_extract import PROSE
from tests.fixtures import render

COUNTIES = ["东城", "西湖", "河曲", "睢宁", "杜集", "井冈山", "包头", "鄂温克", "海淀", "余杭", "江宁", "青浦"]


def _insert_before_section_two(html: str, filler: str) -> str:
    """The padding prose goes in the body, before 二、主动公开 (not into the <script> in the head that
    also prints the heading: a reader skips scripts, so padding there would flatter extraction)."""
    body = html.index("<body")
    for marker in ("<p><strong>二、主动公开", "<p>二、主动公开"):
        at = html.find(marker, body)
        if at >= 0:
            return html[:at] + filler + html[at:]
    raise ValueError("no 二、主动公开 heading in the rendered page")


def generate(n: int, year: int, out: Path, seed: int = 2021, error_rate: float = 0.02) -> Path:
    rng = random.Random(seed)
    docs = out / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    rows = ["organ,region,level,year,report_url,listing_url"]
    for i in range(n):
        organ = f"{rng.choice(COUNTIES)}{i:05d}号区人民政府"
        if i % 2:
            spec = render.hangzhou_2021()
            spec.t2[("art20_5", "admin_licensing", "decisions")] = (str(k := rng.randint(0, 5000)), k)
            renderer, enc, ext = render.render_hz2021, "utf-8", "html"
        else:
            spec = render.shanghai_2019()
            renderer, enc, ext = render.render_sh2019, "gb18030", "htm"
        spec.organ, spec.year = organ, year
        spec.title = f"{organ}{year}年政府信息公开工作年度报告"
        if rng.random() < error_rate:
            spec.t3["granted"][6] = render.n(int(spec.t3["granted"][6][0]) + 1)
        html = renderer(spec).decode(enc)
        filler = "".join(f"<p>（{k}）{PROSE * rng.randint(2, 6)}</p>" for k in range(rng.randint(16, 36)))
        html = _insert_before_section_two(html, filler)
        name = f"docs/{i:05d}.{ext}"
        (out / name).write_bytes(html.encode(enc))
        rows.append(f"{organ},,county,{year},{name},")
    catalogue = out / "catalogue.csv"
    catalogue.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return catalogue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=5000)
    parser.add_argument("--year", type=int, default=2021)
    parser.add_argument("--out", type=Path, default=Path("/tmp/xxgk-year"))
    args = parser.parse_args()
    print(generate(args.reports, args.year, args.out))


if __name__ == "__main__":
    main()
