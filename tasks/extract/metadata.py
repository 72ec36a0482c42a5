"""Report metadata from the text: organ, reporting year, title, publication date.

Sources, in order of trust:
* year  -- the 统计期限/统计周期 sentence ("统计期限为2020年1月1日至…", also broken over lines),
           then the title, then the first year named in 总体情况;
* title -- a "标题:" field, a standalone line naming a 政府信息公开(工作)年度报告, the page <title>;
* organ -- the signature above the closing date, then a "发布机构:" field, then the organ named
           in the title (before or after its year), then the intro ("全文包括XX政府信息公开总体情况",
           "由XX编制");
* date  -- a 发文日期/成文日期/发布日期 field, else the signature date at the end.
Catalogue hints (organ, year), when given, win over all of these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from tasks.template.labels import REPORT_TITLE_MARK

_YEAR_PERIOD: Final = re.compile(
    r"统计(?:期限|时限|时间|期间|区间|周期|范围)[^0-9]{0,12}((?:19|20)\d\d)\s*年\s*(?:1|01)\s*月\s*(?:1|01)\s*日")
_TITLE_LINE: Final = re.compile(
    r"^(?:关于)?(?:印发)?(?P<organ>[^\s，,。；;:：|]{2,40}?)[（(]?(?P<year>(?:19|20)\d\d)\s*年(?:度)?[)）]?"
    r"(?:的)?政府信息公开(?:工作)?(?:年度)?(?:报告|年报)(?:\(全文\)|（全文）)?$"
)
_TITLE_IN_TEXT: Final = re.compile(
    r"(?P<organ>[\u4e00-\u9fff（）()]{2,40}?)(?P<year>(?:19|20)\d\d)\s*年(?:度)?政府信息公开(?:工作)?(?:年度)?(?:报告|年报)"
)
# "2019年上海市人民政府办公厅政府信息公开工作年度报告": the year before the organ.
_TITLE_YEAR_FIRST: Final = re.compile(
    r"^(?P<year>(?:19|20)\d\d)年(?:度)?(?P<organ>[\u4e00-\u9fff（）()]{2,40}?)(?:的)?政府信息公开(?:工作)?(?:年度)?(?:报告|年报)"
)
_FIELD_ORGAN: Final = re.compile(r"^(?:发布机构|发文机关|发布单位|来源|信息来源|发布部门)[:：]\|?(?P<organ>[^|]{2,40})")
_TITLE_TAIL: Final = re.compile(r"^(?:19|20)\d\d年(?:度)?(?:的)?政府信息公开(?:工作)?(?:年度)?(?:报告|年报)$")
_FIELD_TITLE: Final = re.compile(r"^标\s*题\s*[:：]\s*\|?\s*(?P<title>[^|]+)")
_FIELD_DATE: Final = re.compile(
    r"(?:发文|成文|发布|印发|生成)(?:日期|时间)\s*[:：]?\s*\|?\s*((?:19|20)\d\d)[-/.年]\s*(\d{1,2})[-/.月]\s*(\d{1,2})"
)
_SIGNATURE_DATE: Final = re.compile(r"^((?:19|20)\d\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$")
_INTRO_ORGAN: Final = (
    re.compile(r"全文包括(?P<organ>[\u4e00-\u9fff]{2,40}?)(?:政府信息公开|的政府信息公开)?总体情况"),
    re.compile(r"由(?P<organ>[\u4e00-\u9fff]{2,40}?)编制"),
)
_VERB_PREFIX: Final = re.compile(r"^(?:现将|现公布|现予公布|特公布|公布|发布|现发布|编制|根据|是|为|关于|印发)+")
_ORGAN_SUFFIX: Final = re.compile(r"(?:人民政府|政府|办公室|局|委员会|委|厅|部|院|署|会|中心|管委会|街道办事处|办事处|"
                                  r"镇|乡|区|县|市|州|盟|旗|所|站|队|处|公司|集团|开发区)$")
_YEAR_ANY: Final = re.compile(r"((?:19|20)\d\d)\s*年")


@dataclass(frozen=True, slots=True)
class Metadata:
    organ: str | None
    year: int | None
    title: str | None
    published_on: str | None


_MARKUP: Final = re.compile(r"^(?:#{1,6}\s+|>\s*)|\*\*|__")


def _clean(line: str) -> str:
    """One line without NBSPs, runs of spaces, pipes at its ends and Markdown markup (`# `, `**`)."""
    line = _MARKUP.sub("", line.replace("\u00a0", " ").replace("\u3000", " ").strip())
    return " ".join(line.split()).strip(" |")


def _organ_from_title(title: str | None) -> str | None:
    if not title:
        return None
    compact = title.replace(" ", "")
    m = _TITLE_LINE.match(compact) or _TITLE_YEAR_FIRST.match(compact) or _TITLE_IN_TEXT.search(compact)
    if not m:
        return None
    organ = _VERB_PREFIX.sub("", m["organ"]).strip("（(")
    return organ or None


def _valid_date(y: str, m: str, d: str) -> str | None:
    try:
        return date(int(y), int(m), int(d)).isoformat()
    except ValueError:
        return None


def read_metadata(lines: list[str], page_title: str | None = None) -> Metadata:
    """Best reading of the metadata from a report's prose lines (first and last lines matter most)."""
    clean = [c for c in (_clean(ln) for ln in lines) if c]
    compact = [c.replace(" ", "") for c in clean]

    title = None
    for c in clean[:40]:
        m = _FIELD_TITLE.match(c)
        if m and REPORT_TITLE_MARK.search(m["title"].replace(" ", "")):
            title = m["title"].strip()
            break
    if title is None:
        title = next((clean[i] for i, c in enumerate(compact[:60])
                      if len(c) <= 60 and (_TITLE_LINE.match(c) or _TITLE_YEAR_FIRST.match(c))), None)
    if title is None:  # a title set on two lines (PDF, Word): the organ, then "2024年政府信息公开工作年度报告"
        for i, c in enumerate(compact[1:12], start=1):
            if _TITLE_TAIL.match(c) and len(compact[i - 1]) <= 30 and _ORGAN_SUFFIX.search(compact[i - 1]):
                title = compact[i - 1] + c
                break
    if title is None and page_title and REPORT_TITLE_MARK.search(page_title.replace(" ", "")):
        title = page_title.split("_")[0].split("-")[0].strip() or None
    if title is None:  # "现公布XX2022年政府信息公开工作年度报告。": the name is printed inside a sentence
        for c in compact[:30]:
            if m := _TITLE_IN_TEXT.search(c):
                title = _VERB_PREFIX.sub("", m.group(0)) or None
                break

    year = None
    for c in compact:
        if m := _YEAR_PERIOD.search(c):
            year = int(m.group(1))
            break
    if year is None:  # the sentence broken over lines (one cell or one half-width run per line)
        if m := _YEAR_PERIOD.search("".join(compact[:400])):
            year = int(m.group(1))
    if year is None and title:
        if m := _YEAR_ANY.search(title.replace(" ", "")):
            year = int(m.group(1))
    if year is None:
        for c in compact[:80]:
            if m := _TITLE_IN_TEXT.search(c):
                year = int(m["year"])
                break

    published_on = None
    for c in compact[:40]:
        if m := _FIELD_DATE.search(c):
            published_on = _valid_date(*m.groups())
            break

    signature_organ = None
    tail = list(range(max(0, len(compact) - 25), len(compact)))
    for i in reversed(tail):
        m = _SIGNATURE_DATE.match(compact[i])
        if not m:
            continue
        if published_on is None:
            published_on = _valid_date(*m.groups())
        if i > 0 and len(compact[i - 1]) <= 30 and _ORGAN_SUFFIX.search(compact[i - 1]) \
                and not re.search(r"[。，,；;：:]", compact[i - 1]):
            signature_organ = compact[i - 1]
        break

    field_organ = None
    for c in compact[:40]:
        if m := _FIELD_ORGAN.match(c):
            field_organ = m["organ"].strip() if _ORGAN_SUFFIX.search(m["organ"].strip()) else None
            if field_organ:
                break
    organ = signature_organ or field_organ or _organ_from_title(title)
    if organ is None:
        for c in compact[:80]:
            if m := _TITLE_IN_TEXT.search(c):
                organ = _VERB_PREFIX.sub("", m["organ"]) or None
                if organ:
                    break
    if organ is None:
        for c in compact[:80]:
            for pattern in _INTRO_ORGAN:
                if m := pattern.search(c):
                    organ = m["organ"]
                    if organ.endswith("办公室") and re.search(r"[局委厅署]办公室$", organ):
                        organ = organ[: -len("办公室")]
                    break
            if organ:
                break
    if organ is None and len(compact) > 1 and title and compact[0] != title.replace(" ", "") \
            and len(compact[0]) <= 30 and _ORGAN_SUFFIX.search(compact[0]):
        organ = compact[0]
    return Metadata(organ=organ, year=year, title=title, published_on=published_on)
