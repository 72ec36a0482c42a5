"""The `xxgk` command line: parse arguments, call the public API, print, map errors to exit 2.

    xxgk extract SOURCE [SOURCE ...] [--json] [--organ NAME] [--year YYYY]

Commands import their stage lazily, so `xxgk extract` never pays for Prefect or Great Expectations.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from tasks.errors import XxgkError


def _summary(report) -> str:  # type: ignore[no-untyped-def]
    m = report.meta
    failed = [f"{c.id}[{c.scope}]" for c in report.failed_checks]
    filled = sum(1 for c in report.cells if c.value is not None)
    status = "ok" if not failed else "FAILS " + ", ".join(failed)
    return (f"{m.source}: {m.organ} {m.year} {m.template} — {filled}/{len(report.cells)} cells filled, "
            f"{len(report.checks)} checks, {status}")


def cmd_extract(args: argparse.Namespace) -> int:
    """Read each SOURCE (path or http(s) URL) and print its tables (JSON) or a one-line summary."""
    from tasks.extract.reader import read_source

    status = 0
    for source in args.sources:
        try:
            report = read_source(source, organ=args.organ, year=args.year)
        except XxgkError as exc:
            print(f"xxgk: {exc}", file=sys.stderr)
            status = 2
            continue
        if args.json:
            indent = 2 if len(args.sources) == 1 else None
            print(json.dumps(report.to_dict(), ensure_ascii=False, indent=indent))
        else:
            print(_summary(report))
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xxgk", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("extract", help="read annual reports into the canonical tables",
                       description=cmd_extract.__doc__)
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="a local path or an http(s) URL")
    p.add_argument("--json", action="store_true", help="print the report JSON (one object per line for several)")
    p.add_argument("--organ", help="the organ, when the catalogue knows it better than the text")
    p.add_argument("--year", type=int, help="the reporting year, when the catalogue knows it")
    p.set_defaults(func=cmd_extract)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
