"""The audit site: a static, self-contained HTML view of a reporting year for people who check reports.

    <data_dir>/audit/<year>/index.html              every report of the year, filterable
    <data_dir>/audit/<year>/reports/<report_id>.html   one report: its three tables as printed

A transparency office reviewing lower-level reports reads a report's tables laid out as the
national template prints them (the printed text of each cell, a blank shown blank), with every
failing relation highlighted on the cells it involves and said in words, the expected relations
with last year's report of the same organ beside this year's (E1, E5), the reader's flags on the
cells they concern, and links to the source and the stored bytes. No stylesheet, script or font
is fetched from anywhere: pages open from disk, offline, and link to each other relatively.

The pages are plain functions of the published datasets (`audit_year`); `xxgk audit` and the end
of every ingest write them. A year of more than `ALL_PAGES_UP_TO` reports gets pages for its
quarantined and released reports only (the index lists all), unless every page is asked for.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from tasks import schemas
from tasks.dictionary import printed
from tasks.load.parquet import read_published_year
from tasks.load.storage import DataDir
from tasks.template import labels, layouts

ALL_PAGES_UP_TO: Final = 2000
AUDIT_DIR: Final = "audit"

_T3_COLUMN_LABELS: Final = {c: labels.TABLE3_COLUMNS[c][0] for c in layouts.TABLE3_COLUMNS}
_T4_GROUP_LABELS: Final = {"review": "行政复议", "suit_direct": "未经复议直接起诉", "suit_post_review": "复议后起诉"}
_T4_OUTCOME_LABELS: Final = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
_CHECK_WORDS: Final = {
    "S1": "一、本年新收 + 二、上年结转 = 三、办理结果（七）总计 + 四、结转下年度",
    "S2": "（七）总计 = the sum of the result rows （一）…（六）",
    "S3": "a row's 总计 = 自然人 + the five 法人或其他组织 columns",
    "S4": "a printed subtotal = the sum of its sub-rows",
    "S5": "行政复议/行政诉讼: 总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
    "S6": "every count is a whole number ≥ 0",
    "C1": "the tables are printed (enough rows, some cells filled)",
    "E1": "this year's 上年结转 = last year's 结转下年度 (expected)",
    "E4": "本年新公开数量 ≤ 对外公开总数量 (expected)",
    "E5": "现行有效件数 = last year's + 本年制发 − 本年废止 (expected)",
}

_CSS: Final = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #999;padding:.2rem .45rem;font-size:.9rem}th{background:#f0f0f0;font-weight:600}
td.v{text-align:right;min-width:3.2rem;font-variant-numeric:tabular-nums}td.label{text-align:left}
td.fail{background:#ffd6d6;outline:2px solid #c00;outline-offset:-2px}td.warn{background:#fff2c2}
.flag{font-size:.7rem;color:#555;vertical-align:super;margin-left:.2rem}.status-quarantined{color:#b00;font-weight:700}
.status-curated{color:#070;font-weight:700}.relations li{margin:.25rem 0}.relations .fail{color:#b00}
.muted{color:#666}input,select{font-size:.95rem;padding:.2rem}
"""
_FILTER_JS: Final = """
function filt(){const q=document.getElementById('q').value.trim().toLowerCase();
const s=document.getElementById('s').value;let n=0;
for(const tr of document.querySelectorAll('#reports tbody tr')){
const ok=(!q||tr.textContent.toLowerCase().includes(q))&&(!s||tr.dataset.status===s);
tr.style.display=ok?'':'none';if(ok)n++;}document.getElementById('n').textContent=n;}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _cell_key(cell_id: str) -> str:
    return cell_id.replace(".", "-")


def involved_cells(check_id: str, scope: str, template: str) -> list[str]:
    """The cells (`t3.granted.total`, …) a relation reads, so that a failure can be shown on them."""
    columns = layouts.TABLE3_COLUMNS
    if check_id == "S1":
        return [f"t3.{r}.{scope}" for r in ("new_received", "carried_over", "results_total", "carried_forward")]
    if check_id == "S2":
        return [f"t3.results_total.{scope}", *(f"t3.{r}.{scope}" for r in layouts.TABLE3_RESULT_LEAVES[template])]
    if check_id == "S3":
        return [f"t3.{scope}.{c}" for c in columns]
    if check_id == "S4" and "." in scope:
        group, col = scope.split(".", 1)
        subs = layouts.TABLE3_GROUPS.get(template, {}).get(group, ())
        return [f"t3.{group}.{col}", *(f"t3.{r}.{col}" for r in subs)]
    if check_id == "S5":
        return [f"t4.{scope}_{o}" for o in layouts.TABLE4_OUTCOMES]
    if check_id == "S6" and scope.startswith(("t2.", "t3.", "t4.")):
        return [scope]
    if check_id == "E1":
        return [f"t3.carried_over.{scope}"]
    if check_id in ("E4", "E5") and scope.startswith("art20_1."):
        row = scope.split(".", 1)[1]
        wanted = ("published_new", "published_total") if check_id == "E4" else ("issued", "repealed", "in_force")
        return [f"t2.art20_1.{row}.{c}" for c in wanted]
    return []


@dataclass(frozen=True, slots=True)
class _Cell:
    raw: str | None
    value: object
    flags: list[str]


def _cells(requests: pl.DataFrame, review: pl.DataFrame, proactive: pl.DataFrame) -> dict[str, _Cell]:
    out: dict[str, _Cell] = {}
    for r in requests.iter_rows(named=True):
        out[f"t3.{r['row_code']}.{r['column_code']}"] = _Cell(r["raw"], r["value"], r["flags"] or [])
    for r in review.iter_rows(named=True):
        out[f"t4.{r['column_code']}"] = _Cell(r["raw"], r["value"], r["flags"] or [])
    for r in proactive.iter_rows(named=True):
        out[f"t2.{r['block']}.{r['row_code']}.{r['column_code']}"] = _Cell(r["raw"], r["value"], r["flags"] or [])
    return out


def _td(cell_id: str, cells: dict[str, _Cell], marks: dict[str, tuple[str, list[str]]]) -> str:
    cell = cells.get(cell_id)
    kind, why = marks.get(cell_id, ("", []))
    title = "; ".join(why)
    flags = "".join(f'<span class="flag">{_e(f)}</span>' for f in (cell.flags if cell else []) if f != "blank")
    text = _e(cell.raw).strip() if cell and cell.raw is not None else ""
    return (f'<td class="v {kind}" id="{_cell_key(cell_id)}" data-cell="{_e(cell_id)}"'
            f'{f" title={json.dumps(title, ensure_ascii=False)}" if title else ""}>{text}{flags}</td>')


def _table2(template: str, cells: dict[str, _Cell], marks: dict[str, tuple[str, list[str]]]) -> str:
    parts = ['<table class="t2">']
    for block in layouts.TABLE2_BLOCKS[template]:
        width = len(block.columns) + 1
        parts.append(f'<tr><th colspan="{width}">第二十条第（{block.article_item}）项</th></tr>')
        parts.append("<tr><th>信息内容</th>" + "".join(
            f"<th>{_e(printed(labels.TABLE2_COLUMNS[c][0]))}</th>" for c in block.columns) + "</tr>")
        for row in block.rows:
            label = labels.TABLE2_ROWS[row][-1 if template == layouts.FMT_2021 else 0]  # 行政规范性文件 in 2021
            parts.append(f'<tr><td class="label">{_e(printed(label))}</td>'
                         + "".join(_td(f"t2.{block.code}.{row}.{c}", cells, marks) for c in block.columns) + "</tr>")
    return "".join(parts) + "</table>"


def _table3_rows(template: str) -> list[tuple[str, str, int]]:
    """(code, printed label, indent) in the order the template prints table 3, group rows included."""
    groups = layouts.TABLE3_GROUPS[template]
    first_of = {subs[0]: g for g, subs in groups.items()}
    out: list[tuple[str, str, int]] = []
    for code in layouts.TABLE3_ROWS[template]:
        if code == "granted":
            out.append(("results", printed(labels.TABLE3_GROUP_ROWS["results"][0]), 0))
        if code in first_of:
            g = first_of[code]
            out.append((g, printed((labels.TABLE3_GROUP_ROWS.get(g) or labels.TABLE3_ROWS[g])[0]), 1))
        parent = next((g for g, subs in groups.items() if code in subs), None)
        depth = 2 if parent else (1 if code not in ("new_received", "carried_over", "carried_forward") else 0)
        out.append((code, printed(labels.TABLE3_ROWS[code][0]), depth))
    return out


def _table3(template: str, cells: dict[str, _Cell], marks: dict[str, tuple[str, list[str]]]) -> str:
    orgs = [c for c in layouts.TABLE3_COLUMNS if c.startswith("org_")]
    parts = ['<table class="t3"><tr><th rowspan="3" colspan="1">（本列数据的勾稽关系为：第一项加第二项之和，'
             '等于第三项加第四项之和）</th><th colspan="7">申请人情况</th></tr>',
             f'<tr><th rowspan="2">自然人</th><th colspan="{len(orgs)}">法人或其他组织</th>'
             '<th rowspan="2">总计</th></tr>',
             "<tr>" + "".join(f"<th>{_e(_T3_COLUMN_LABELS[c])}</th>" for c in orgs) + "</tr>"]
    for code, label, depth in _table3_rows(template):
        pad = f' style="padding-left:{0.45 + 1.2 * depth:.2f}rem"'
        printed = any(f"t3.{code}.{c}" in cells for c in layouts.TABLE3_COLUMNS)
        if code in ("results",) or (code in layouts.TABLE3_GROUPS[template] and not printed):
            parts.append(f'<tr><td class="label"{pad} colspan="8">{_e(label)}</td></tr>')
            continue
        parts.append(f'<tr><td class="label"{pad}>{_e(label)}</td>'
                     + "".join(_td(f"t3.{code}.{c}", cells, marks) for c in layouts.TABLE3_COLUMNS) + "</tr>")
    return "".join(parts) + "</table>"


def _table4(cells: dict[str, _Cell], marks: dict[str, tuple[str, list[str]]]) -> str:
    head = ('<table class="t4"><tr><th colspan="5" rowspan="2">行政复议</th><th colspan="10">行政诉讼</th></tr>'
            '<tr><th colspan="5">未经复议直接起诉</th><th colspan="5">复议后起诉</th></tr><tr>'
            + "".join(f"<th>{o}</th>" for _ in layouts.TABLE4_GROUPS for o in _T4_OUTCOME_LABELS) + "</tr>")
    row = "<tr>" + "".join(_td(f"t4.{c}", cells, marks) for c in layouts.TABLE4_COLUMNS) + "</tr>"
    return head + row + "</table>"


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
            "script-src 'unsafe-inline'; img-src data:\">"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>")


def report_page(report: dict[str, Any], cells: dict[str, _Cell], checks: list[dict[str, Any]],
                last_year: dict[str, Any] | None, raw_link: str | None) -> str:
    """One report's page (see the module docstring)."""
    template = report["template"] or ""
    marks: dict[str, tuple[str, list[str]]] = {}
    failing = [c for c in checks if not c["passed"]]
    for c in failing:
        kind = "fail" if c["severity"] == "strict" else "warn"
        for cell in involved_cells(c["check_id"], c["scope"], template):
            old_kind, why = marks.get(cell, ("", []))
            marks[cell] = ("fail" if "fail" in (old_kind, kind) else kind, [*why, f"{c['check_id']}: {c['detail']}"])
    where = " · ".join(x for x in (report.get("province"), report.get("prefecture"), report.get("county")) if x) \
        or (report.get("region") or "")
    status = report["status"]
    body = [f"<p><a href=\"../index.html\">← {report['year']} index</a></p>",
            f"<h1>{_e(report['organ'])} · {report['year']}年</h1>",
            f"<p>{_e(report.get('title') or '')}</p>",
            f"<p>status: <span class=\"status-{_e(status)}\">{_e(status)}</span>"
            f"{' · template ' + _e(template) if template else ''} · {_e(where)}"
            f"{' · organ_id ' + _e(report.get('organ_id')) if report.get('organ_id') else ''}</p>",
            "<p>source: " + (f"<a href=\"{_e(report['source'])}\">{_e(report['source'])}</a>"
                             if str(report["source"]).startswith(("http://", "https://")) else _e(report["source"]))
            + (f" · <a href=\"{_e(raw_link)}\">stored bytes</a>" if raw_link else "") + "</p>"]
    if report.get("error"):
        body.append(f"<p class=\"status-quarantined\">not read: {_e(report['error'])}</p>")
    if report.get("released"):
        body.append("<p>released by a reviewer: " + "; ".join(_e(r) for r in report["released"]) + "</p>")
    if failing:
        body.append("<h2>Relations that do not hold</h2><ul class=\"relations\">")
        for c in failing:
            cls = "fail" if c["severity"] == "strict" else ""
            cells_text = ", ".join(involved_cells(c["check_id"], c["scope"], template))
            body.append(f"<li class=\"{cls}\" data-check=\"{_e(c['check_id'])}\"><b>{_e(c['check_id'])}"
                        f"[{_e(c['scope'])}]</b> {_e(_CHECK_WORDS.get(c['check_id'], ''))}: {_e(c['detail'])}"
                        f"{' <span class=muted>(cells ' + _e(cells_text) + ')</span>' if cells_text else ''}</li>")
        body.append("</ul>")
    if template in layouts.TABLE2_BLOCKS:
        body += ["<h2>二、主动公开政府信息情况</h2>", _table2(template, cells, marks),
                 "<h2>三、收到和处理政府信息公开申请情况</h2>", _table3(template, cells, marks),
                 "<h2>四、政府信息公开行政复议、行政诉讼情况</h2>", _table4(cells, marks)]
    expected = [c for c in checks if c["check_id"] in ("E1", "E5")]
    if expected or last_year:
        body.append("<h2>With last year's report</h2>")
        if last_year:
            body.append(f"<p>{last_year['year']}: <a href=\"{_e(last_year['href'])}\">{_e(last_year['organ'])}"
                        f"</a> ({_e(last_year['status'])})</p>")
        if expected:
            body.append("<table class=\"expected\"><tr><th>relation</th><th>scope</th><th>this year</th>"
                        "<th>from last year</th><th>holds</th><th>in words</th></tr>")
            for c in expected:
                body.append(f"<tr><td>{_e(c['check_id'])}</td><td>{_e(c['scope'])}</td><td class=v>{_e(c['lhs'])}"
                            f"</td><td class=v>{_e(c['rhs'])}</td><td>{'yes' if c['passed'] else 'no'}</td>"
                            f"<td>{_e(c['detail'])}</td></tr>")
            body.append("</table>")
        else:
            body.append("<p class=muted>no expected relation could be evaluated against last year</p>")
    return _page(f"{report['organ']} {report['year']}", "".join(body))


def index_page(year: int, reports: Iterable[dict[str, Any]], pages: set[str]) -> str:
    rows = []
    for r in reports:
        where = " ".join(x for x in (r.get("province"), r.get("prefecture"), r.get("county")) if x) \
            or (r.get("region") or "")
        name = (f"<a href=\"reports/{r['report_id']}.html\">{_e(r['organ'])}</a>" if r["report_id"] in pages
                else _e(r["organ"]))
        failed = ", ".join(r.get("failed_checks") or []) or ("not read" if r.get("error") else "")
        rows.append(f"<tr data-status=\"{_e(r['status'])}\"><td>{name}</td><td>{_e(where)}</td>"
                    f"<td>{_e(r.get('level') or '')}</td><td class=\"status-{_e(r['status'])}\">{_e(r['status'])}"
                    f"{' (released)' if r.get('released') else ''}</td><td>{_e(failed)}</td>"
                    f"<td>{_e(r.get('template') or '')}</td></tr>")
    body = (f"<h1>{year}年 政府信息公开工作年度报告 · audit</h1>"
            "<p><input id=q placeholder=\"organ, region, relation…\" oninput=filt()> "
            "<select id=s onchange=filt()><option value=\"\">every status</option>"
            "<option>curated</option><option>quarantined</option></select> "
            f"<span id=n>{len(rows)}</span> report(s)</p>"
            "<table id=reports><thead><tr><th>organ</th><th>region</th><th>level</th><th>status</th>"
            "<th>failed relations</th><th>template</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
            f"<script>{_FILTER_JS}</script>")
    return _page(f"{year} audit", body)


def audit_year(data_dir: DataDir, year: int, all_pages: bool | None = None) -> str | None:
    """Write the year's audit site from its published datasets; returns the index's path (None: no year)."""
    reports = read_published_year(data_dir, "reports", year)
    if reports.height == 0:
        return None
    reports = reports.sort(["status", "province", "organ"], descending=[True, False, False], nulls_last=True)
    every = all_pages if all_pages is not None else reports.height <= ALL_PAGES_UP_TO
    chosen = reports if every else reports.filter((pl.col("status") == schemas.STATUS_QUARANTINED)
                                                  | (pl.col("released").list.len() > 0))
    ids = chosen["report_id"].to_list()
    requests, review, proactive, checks = (read_published_year(data_dir, dataset, year, report_ids=ids)
                                           for dataset in ("requests", "review_litigation", "proactive", "checks"))
    last = read_published_year(data_dir, "reports", year - 1).select("report_id", "organ_id", "organ", "status")
    last_by_organ = {(r["organ_id"] or r["organ"]): r for r in last.iter_rows(named=True)}
    folder = f"{AUDIT_DIR}/{year}"
    by_id = {rid[0]: g for rid, g in requests.group_by("report_id")}
    t4 = {rid[0]: g for rid, g in review.group_by("report_id")}
    t2 = {rid[0]: g for rid, g in proactive.group_by("report_id")}
    ck = {rid[0]: g for rid, g in checks.group_by("report_id")}
    empty = {"requests": requests.clear(), "review": review.clear(), "proactive": proactive.clear()}
    for r in chosen.iter_rows(named=True):
        rid = r["report_id"]
        cells = _cells(by_id.get(rid, empty["requests"]), t4.get(rid, empty["review"]), t2.get(rid, empty["proactive"]))
        mine = ck[rid].sort("check_id", "scope").to_dicts() if rid in ck else []
        previous = last_by_organ.get(r["organ_id"] or r["organ"])
        last_year = ({**previous, "year": year - 1, "href": f"../../{year - 1}/reports/{previous['report_id']}.html"}
                     if previous else None)
        raw = f"../../../raw/objects/{r['sha256'][:2]}/{r['sha256']}" if r.get("sha256") else None
        data_dir.write_bytes(data_dir.path(folder, "reports", f"{rid}.html"),
                             report_page(r, cells, mine, last_year, raw).encode("utf-8"))
    index = data_dir.path(folder, "index.html")
    data_dir.write_bytes(index, index_page(year, reports.iter_rows(named=True), set(ids)).encode("utf-8"))
    return index


def link_audit(rel: str, data: bytes, year: int) -> bytes:
    """A Great Expectations Data Docs file, with a link to the year's audit site on its HTML pages.

    (Data Docs load their styles and scripts from CDNs, so offline they are bare; the audit site
    shows the same failures per report and needs nothing from the network.)
    """
    if not rel.endswith(".html") or b"<body" not in data:
        return data
    up = "../" * (rel.count("/") + 2)
    banner = (f'<div style="background:#ffd;padding:.5rem;font:14px sans-serif">Offline, per report: '
              f'<a href="{up}{AUDIT_DIR}/{year}/index.html">the {year} audit site</a></div>').encode()
    head, sep, rest = data.partition(b"<body")
    tag_end = rest.find(b">") + 1
    return head + sep + rest[:tag_end] + banner + rest[tag_end:]
