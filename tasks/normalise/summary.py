"""`report_summary`: one row per report, its identity and geography and its key figures as columns.

The cell datasets (`proactive`, `requests`, `review_litigation`) hold one row per printed cell,
which is what checks and audits need; an analyst asking "applications received per province"
wants one row per report with named columns. The figures are declared once here (`FIGURES`):
each column is one cell of the template, or a group of leaf cells summed, with its printed label.

Values are as published (a cell that failed a check is kept as printed; `status` and
`failed_checks` say whether to trust the row). A figure the report's template does not have is
null (e.g. `regulations_in_force` in a 2019-format report).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from tasks.template import layouts


@dataclass(frozen=True, slots=True)
class Figure:
    """One summary column: the cells it reads, and the printed label it stands for."""

    name: str
    dataset: str  # requests, review_litigation or proactive
    cells: tuple[tuple[str, ...], ...]  # (row_code, column_code) / (column_code,) / (block, row, column); summed
    label: str
    templates: tuple[str, ...] = (layouts.FMT_2019, layouts.FMT_2021)
    fallback: tuple[tuple[str, ...], ...] = ()  # read when none of `cells` is printed (a group printed as one row)


def _t3(name: str, rows: tuple[str, ...], label: str, columns: tuple[str, ...] = ("total",),
        templates: tuple[str, ...] = (layouts.FMT_2019, layouts.FMT_2021), group: str | None = None) -> Figure:
    return Figure(name, "requests", tuple((r, c) for r in rows for c in columns), label, templates,
                  ((group, "total"),) if group else ())


_GROUPS_2021 = layouts.TABLE3_GROUPS[layouts.FMT_2021]
_ORGS: Final = tuple(c for c in layouts.TABLE3_COMPONENT_COLUMNS if c.startswith("org_"))

FIGURES: Final[tuple[Figure, ...]] = (
    _t3("received", ("new_received",), "一、本年新收政府信息公开申请数量 · 总计"),
    _t3("received_natural_person", ("new_received",), "一、本年新收 · 自然人", ("natural_person",)),
    _t3("received_organisations", ("new_received",), "一、本年新收 · 法人或其他组织 (five columns summed)", _ORGS),
    _t3("carried_over", ("carried_over",), "二、上年结转政府信息公开申请数量 · 总计"),
    _t3("granted", ("granted",), "（一）予以公开 · 总计"),
    _t3("partly_granted", ("partly_granted",), "（二）部分公开 · 总计"),
    _t3("withheld", _GROUPS_2021["withheld"], "（三）不予公开 · 总计 (its eight reasons summed)", group="withheld"),
    _t3("unavailable", _GROUPS_2021["unavailable"], "（四）无法提供 · 总计 (its three reasons summed)",
        group="unavailable"),
    _t3("not_processed", _GROUPS_2021["not_processed"], "（五）不予处理 · 总计 (its five reasons summed)",
        group="not_processed"),
    _t3("other_handling", ("other_handling",), "（六）其他处理 · 总计", templates=(layouts.FMT_2019,)),
    _t3("other_handling", _GROUPS_2021["other_handling"], "（六）其他处理 · 总计 (its three sub-rows summed)",
        templates=(layouts.FMT_2021,), group="other_handling"),
    _t3("results_total", ("results_total",), "（七）总计 · 总计"),
    _t3("carried_forward", ("carried_forward",), "四、结转下年度继续办理 · 总计"),
    *(Figure(c, "review_litigation", ((c,),), f"{g} · {o}")
      for c, (g, o) in zip(layouts.TABLE4_COLUMNS,
                           ((g, o) for g in ("行政复议", "行政诉讼 未经复议直接起诉", "行政诉讼 复议后起诉")
                            for o in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")), strict=True)),
    Figure("regulations_issued", "proactive", (("art20_1", "regulations", "issued"),), "规章 · 本年制发件数",
           (layouts.FMT_2021,)),
    Figure("regulations_in_force", "proactive", (("art20_1", "regulations", "in_force"),), "规章 · 现行有效件数",
           (layouts.FMT_2021,)),
    Figure("normative_docs_issued", "proactive", (("art20_1", "normative_docs", "issued"),),
           "行政规范性文件 · 本年制发件数", (layouts.FMT_2021,)),
    Figure("normative_docs_in_force", "proactive", (("art20_1", "normative_docs", "in_force"),),
           "行政规范性文件 · 现行有效件数", (layouts.FMT_2021,)),
    Figure("normative_docs_published_new", "proactive", (("art20_1", "normative_docs", "published_new"),),
           "规范性文件 · 本年新公开数量", (layouts.FMT_2019,)),
    Figure("licensing_decisions", "proactive", (("art20_5", "admin_licensing", "decisions"),),
           "行政许可 · (本年)处理决定数量"),
    Figure("penalty_decisions", "proactive", (("art20_6", "admin_penalty", "decisions"),),
           "行政处罚 · (本年)处理决定数量"),
    Figure("coercion_decisions", "proactive", (("art20_6", "admin_coercion", "decisions"),),
           "行政强制 · (本年)处理决定数量"),
    Figure("fees_amount_wan", "proactive", (("art20_8", "admin_fees", "fee_amount_wan"),),
           "行政事业性收费 · 本年收费金额（万元）", (layouts.FMT_2021,)),
    Figure("procurement_amount_wan", "proactive", (("art20_9", "central_procurement", "procurement_amount_wan"),),
           "政府集中采购 · 采购总金额（万元）", (layouts.FMT_2019,)),
)

_KEYS: Final = {"requests": ("row_code", "column_code"), "review_litigation": ("column_code",),
                "proactive": ("block", "row_code", "column_code")}
NAMES: Final = tuple(dict.fromkeys(f.name for f in FIGURES))  # the summary's figure columns, in order
FIGURE_DTYPES: Final[dict[str, pl.DataType]] = {
    f.name: pl.Float64() if f.dataset == "proactive" else pl.Int64() for f in FIGURES}


def _cell_figures() -> dict[str, pl.DataFrame]:
    """Per cell dataset: (template, cell, figure, tier) for every cell a figure reads; tier 0 are its
    `cells`, tier 1 its `fallback`."""
    rows: dict[str, list[tuple[str, str, str, int]]] = {d: [] for d in _KEYS}
    for f in FIGURES:
        for tier, group in enumerate((f.cells, f.fallback)):
            rows[f.dataset] += [(t, "|".join(c), f.name, tier) for t in f.templates for c in group]
    schema = {"template": pl.String, "cell": pl.String, "figure": pl.String, "tier": pl.Int8}
    return {d: pl.DataFrame(r, schema=schema, orient="row").unique() for d, r in rows.items()}


_CELL_FIGURES: Final = _cell_figures()


def figures(templates: pl.DataFrame, requests: pl.DataFrame, review: pl.DataFrame, proactive: pl.DataFrame
            ) -> pl.DataFrame:
    """report_id and every figure of `FIGURES` for each report of `templates` (report_id, template).

    A figure summing several cells is the sum of those printed (null only when none is); when none
    is, its `fallback` cells are read instead. One join and one group-by per cell dataset, not a
    filter per figure: staging a national year's summary is ~700 parts of 200 reports.
    """
    frames = {"requests": requests, "review_litigation": review, "proactive": proactive}
    out = templates.select("report_id")
    for dataset, frame in frames.items():
        key = pl.concat_str([pl.col(k) for k in _KEYS[dataset]], separator="|")
        found = (frame.select("report_id", key.alias("cell"), "value")
                 .join(templates.select("report_id", "template"), on="report_id")
                 .join(_CELL_FIGURES[dataset], on=["template", "cell"])
                 .group_by("report_id", "figure", "tier")
                 .agg(pl.when(pl.col("value").is_not_null().any()).then(pl.col("value").sum()).alias("value"))
                 .drop_nulls("value")  # a tier none of whose cells is printed: the next tier, or null
                 .group_by("report_id", "figure")
                 .agg(pl.col("value").sort_by("tier").first()))
        names = list(dict.fromkeys(f.name for f in FIGURES if f.dataset == dataset))
        wide = (found.pivot(on="figure", index="report_id", values="value") if found.height
                else pl.DataFrame(schema={"report_id": pl.String}))
        wide = wide.with_columns(pl.lit(None, frame.schema["value"]).alias(n) for n in names if n not in wide.columns)
        out = out.join(wide.select("report_id", *names), on="report_id", how="left")
    return out.select("report_id", *NAMES).cast({n: FIGURE_DTYPES[n] for n in NAMES})  # type: ignore[arg-type]


def summary_frame(reports: pl.DataFrame, requests: pl.DataFrame, review: pl.DataFrame,
                  proactive: pl.DataFrame) -> pl.DataFrame:
    """`report_summary` rows of `reports` (their final status), figures read from their cells."""
    from tasks import schemas

    found = figures(reports.select("report_id", "template"), requests, review, proactive)
    return (reports.select(schemas.SUMMARY_IDENTITY).join(found, on="report_id", how="left")
            .select(schemas.REPORT_SUMMARY.names()).cast(dict(schemas.REPORT_SUMMARY)))  # type: ignore[arg-type]
