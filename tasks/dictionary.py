"""The data dictionary, generated from the homes of the facts it lists, never written by hand.

* every published dataset and column: dtype and description (`tasks/schemas.py`);
* every code a cell dataset holds — table-2 blocks, rows and columns, table-3 rows and columns,
  table-4 columns — with its printed Chinese label (`tasks/template/labels.py`) and the template
  versions that have it (`tasks/template/layouts.py`).

It is published as the `dictionary` dataset (`<data_dir>/dictionary/dictionary.parquet`, a view in
catalog.duckdb) and as Markdown (`docs/dictionary.md`: `python -m tasks.dictionary --write`; a test
keeps the committed file equal to the rendering).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

import polars as pl

from tasks import schemas
from tasks.template import labels, layouts

DICTIONARY: Final = pl.Schema({
    "kind": pl.String,  # column, or the field a code is a value of: block, row_code, column_code
    "dataset": pl.String,
    "name": pl.String,  # the column's name, or the code
    "dtype": pl.String,
    "label_zh": pl.String,  # the template's printed label (codes)
    "templates": pl.List(pl.String),  # template versions that have the code
    "description": pl.String,
})
MARKDOWN: Final = Path(__file__).resolve().parents[1] / "docs" / "dictionary.md"
_PRINTED: Final = str.maketrans({"(": "（", ")": "）", ",": "，", ":": "："})
_BOTH: Final = list(layouts.TABLE3_ROWS)  # the supported template versions, in order


def printed(label: str) -> str:
    """A label dictionary entry as the template prints it (full-width brackets and punctuation)."""
    return label.translate(_PRINTED)


def _code(kind: str, dataset: str, name: str, label: str, templates: list[str], description: str = "") -> dict:
    return {"kind": kind, "dataset": dataset, "name": name, "dtype": None, "label_zh": label,
            "templates": templates, "description": description}


def dictionary_frame() -> pl.DataFrame:
    """One row per published column and per code."""
    rows: list[dict] = []
    for dataset, schema in schemas.PUBLISHED.items():
        for column, dtype in schema.items():
            rows.append({"kind": "column", "dataset": dataset, "name": column, "dtype": str(dtype), "label_zh": None,
                         "templates": [], "description": schemas.description(dataset, column)})
    blocks = [(t, b) for t in _BOTH for b in layouts.TABLE2_BLOCKS[t]]
    for code in dict.fromkeys(b.code for _, b in blocks):
        item = next(b.article_item for _, b in blocks if b.code == code)
        rows.append(_code("block", "proactive", code, f"第二十条第（{item}）项",
                          [t for t, b in blocks if b.code == code]))
    for kind, names in (("row_code", lambda b: b.rows), ("column_code", lambda b: b.columns)):
        for code in dict.fromkeys(c for _, b in blocks for c in names(b)):
            source = labels.TABLE2_ROWS if kind == "row_code" else labels.TABLE2_COLUMNS
            templates = sorted({t for t, b in blocks if code in names(b)})
            unit = layouts.TABLE2_COLUMN_UNIT.get(code, "") if kind == "column_code" else ""
            notes = [f"unit: {unit}"] if unit else []
            notes += [f"also printed as {printed(v)}" for v in source[code][1:]]
            rows.append(_code(kind, "proactive", code, printed(source[code][0]), templates, "; ".join(notes)))
    groups = {g: t for t in _BOTH for g in layouts.TABLE3_GROUPS[t]}
    for code in dict.fromkeys(r for t in _BOTH for r in (*layouts.TABLE3_ROWS[t], *layouts.TABLE3_GROUPS[t])):
        label = labels.TABLE3_ROWS.get(code) or labels.TABLE3_GROUP_ROWS[code]
        templates = [t for t in _BOTH if code in layouts.TABLE3_ROWS[t] or code in layouts.TABLE3_GROUPS[t]]
        rows.append(_code("row_code", "requests", code, printed(label[0]), templates,
                          "a group: the sum of its sub-rows, printed only by some reports" if code in groups
                          and not any(code in layouts.TABLE3_ROWS[t] for t in _BOTH) else ""))
    for code in layouts.TABLE3_COLUMNS:
        rows.append(_code("column_code", "requests", code, labels.TABLE3_COLUMNS[code][0], list(_BOTH),
                          "法人或其他组织" if code.startswith("org_") else ""))
    groups4 = {"review": "行政复议", "suit_direct": "行政诉讼 · 未经复议直接起诉",
               "suit_post_review": "行政诉讼 · 复议后起诉"}
    outcomes = {"upheld": "结果维持", "corrected": "结果纠正", "other": "其他结果", "pending": "尚未审结",
                "total": "总计"}
    for group in layouts.TABLE4_GROUPS:
        for outcome in layouts.TABLE4_OUTCOMES:
            rows.append(_code("column_code", "review_litigation", f"{group}_{outcome}", outcomes[outcome],
                              list(_BOTH), groups4[group]))
    return pl.DataFrame(rows, schema=DICTIONARY)


def dictionary_markdown() -> str:
    """docs/dictionary.md: the datasets' columns, then the codes, as tables."""
    frame = dictionary_frame()
    out = ["# Data dictionary", "",
           "Generated by `python -m tasks.dictionary --write` from `tasks/schemas.py` and `tasks/template/`; "
           "do not edit. The same rows are the `dictionary` dataset (`<data_dir>/dictionary/dictionary.parquet`, "
           "the `dictionary` view of catalog.duckdb), and each Parquet file carries its columns' descriptions "
           "in its schema (field metadata `description`).", ""]
    for dataset in schemas.PUBLISHED:
        out += [f"## `{dataset}`", "", "| column | type | meaning |", "|---|---|---|"]
        for r in frame.filter((pl.col("kind") == "column") & (pl.col("dataset") == dataset)).iter_rows(named=True):
            out.append(f"| `{r['name']}` | {r['dtype']} | {r['description'].replace('|', '/')} |")
        out.append("")
    out += ["## Codes", "", "What the `block`, `row_code` and `column_code` columns hold, with the label the "
            "national template prints and the template versions that have each code.", ""]
    for dataset in ("proactive", "requests", "review_litigation"):
        for kind in ("block", "row_code", "column_code"):
            part = frame.filter((pl.col("kind") == kind) & (pl.col("dataset") == dataset))
            if part.height == 0:
                continue
            out += [f"### `{dataset}.{kind}`", "", "| code | printed label | templates | note |", "|---|---|---|---|"]
            for r in part.iter_rows(named=True):
                out.append(f"| `{r['name']}` | {r['label_zh']} | {', '.join(r['templates'])} | {r['description']} |")
            out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # python -m tasks.dictionary [--write]
    text = dictionary_markdown()
    if "--write" in sys.argv[1:]:
        MARKDOWN.write_text(text, encoding="utf-8")
        print(f"wrote {MARKDOWN}")
    else:
        print(text)
