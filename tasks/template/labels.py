"""The label dictionary: every printed label, with the variants seen in real reports, mapped to a code.

Labels are compared after `normalise_label()` (NFKC folds full-width brackets, colons and digits;
whitespace, NBSP, quotes and pipes are deleted), so a variant only needs listing here when it
differs in *wording*: a typo (结果维护), a swapped word order (信访投诉举报类申请), a synonym (合计).
Adding a variant is one line in the tuple of its code (and one case in tests/template/).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

from tasks.template import codes

_DELETE = re.compile(r"[\s\u00a0\u3000|“”‘’\"'「」『』]+")
_ENUM_COMMA = re.compile(r"^(\d{1,2})、")


@functools.lru_cache(maxsize=1 << 16)
def normalise_label(text: str) -> str:
    """Fold a printed label to the form the dictionary is keyed on.

    "（二）部分公开（区分处理的，只计这一情形…）" and "(二)部分公开(区分处理的,只计这一情形…)"
    fold to the same key; so do "自\\n然\\n人" and "自然人", "规 章" and "规章" (spec §9).
    Memoised: the same few hundred labels and numbers recur in every report of a year.
    """
    folded = unicodedata.normalize("NFKC", text)
    folded = _DELETE.sub("", folded)
    return _ENUM_COMMA.sub(r"\1.", folded)


# Section headings (spec §2, §9.4), without their numbering (一、 / 5、 / （二）).
SECTION_HEADINGS: Final[dict[str, tuple[str, ...]]] = {
    codes.SEC_OVERVIEW: ("总体情况", "基本情况和总体情况"),
    codes.SEC_PROACTIVE: ("主动公开政府信息情况", "主动公开政府信息的情况"),
    codes.SEC_REQUESTS: ("收到和处理政府信息公开申请情况", "收到和处理政府信息公开申请的情况"),
    codes.SEC_REVIEW_LITIGATION: (
        "政府信息公开行政复议、行政诉讼情况",
        "政府信息公开行政复议和行政诉讼情况",
        "政府信息公开行政复议、行政诉讼的情况",
        "因政府信息公开工作被申请行政复议、提起行政诉讼情况",
    ),
    codes.SEC_PROBLEMS: (
        "存在的主要问题及改进情况",
        "存在的问题及改进情况",
        "存在问题及改进情况",
        "政府信息公开工作存在的主要问题及改进情况",
        "存在的主要问题和改进情况",
    ),
    codes.SEC_OTHER: ("其他需要报告的事项", "其他需要报告事项"),
}
# The numbering a heading may carry: 一、 二． 5、 （三） 3.
SECTION_NUMBERING: Final = re.compile(
    r"^(?:[一二三四五六][、.,]|\d[、.,]|\([一二三四五六]\)|第[一二三四五六]部分[、.,:]?)"
)

# Table 2 (spec §3, §9.1).
TABLE2_CAPTION: Final = re.compile(r"第二十条第\(([一二三四五六七八九十]+)\)项")
TABLE2_HEADER_FIRST: Final = ("信息内容",)
TABLE2_ROWS: Final[dict[str, tuple[str, ...]]] = {
    "regulations": ("规章",),
    "normative_docs": ("规范性文件", "行政规范性文件"),
    "admin_licensing": ("行政许可",),
    "other_admin_services": ("其他对外管理服务事项",),
    "admin_penalty": ("行政处罚",),
    "admin_coercion": ("行政强制",),
    "admin_fees": ("行政事业性收费",),
    "central_procurement": ("政府集中采购",),
}
TABLE2_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "made_new": ("本年新制作数量",),
    "published_new": ("本年新公开数量",),
    "published_total": ("对外公开总数量",),
    "items_prev_year": ("上一年项目数量",),
    "items_change": ("本年增/减", "本年增减"),
    "decisions": ("处理决定数量", "本年处理决定数量"),
    "procurement_projects": ("采购项目数量",),
    "procurement_amount_wan": ("采购总金额",),
    "issued": ("本年制发件数",),
    "repealed": ("本年废止件数",),
    "in_force": ("现行有效件数",),
    "fee_amount_wan": ("本年收费金额(单位:万元)", "本年收费金额"),
}

# Table 3 (spec §4, §9.2).
TABLE3_ROWS: Final[dict[str, tuple[str, ...]]] = {
    "new_received": ("一、本年新收政府信息公开申请数量",),
    "carried_over": ("二、上年结转政府信息公开申请数量",),
    "granted": ("(一)予以公开",),
    "partly_granted": (
        "(二)部分公开(区分处理的,只计这一情形,不计其他情形)",
        "(二)部分公开(区分处理的,只记这一情形,不记其他情形)",
        "(二)部分公开",
    ),
    "withheld_state_secret": ("1.属于国家秘密",),
    "withheld_law_prohibited": ("2.其他法律行政法规禁止公开",),
    "withheld_security_stability": ("3.危及三安全一稳定",),
    "withheld_third_party": ("4.保护第三方合法权益",),
    "withheld_internal_affairs": ("5.属于三类内部事务信息",),
    "withheld_process_info": ("6.属于四类过程性信息",),
    "withheld_enforcement_file": ("7.属于行政执法案卷",),
    "withheld_admin_query": ("8.属于行政查询事项",),
    "unavailable_not_held": ("1.本机关不掌握相关政府信息",),
    "unavailable_needs_creation": ("2.没有现成信息需要另行制作",),
    "unavailable_still_unclear": ("3.补正后申请内容仍不明确",),
    "not_processed_petition": ("1.信访举报投诉类申请", "1.信访投诉举报类申请"),
    "not_processed_duplicate": ("2.重复申请",),
    "not_processed_publication": ("3.要求提供公开出版物",),
    "not_processed_excessive": ("4.无正当理由大量反复申请",),
    "not_processed_confirmation": ("5.要求行政机关确认或重新出具已获取信息",),
    "other_handling": ("(六)其他处理",),
    "other_no_correction": ("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",),
    "other_fee_unpaid": ("2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",),
    "other_misc": ("3.其他",),
    "results_total": ("(七)总计", "(七)合计"),
    "carried_forward": ("四、结转下年度继续办理",),
}
# Rows that only group others (their label is a merged cell); in fmt_2019 (六)其他处理 is a leaf.
TABLE3_GROUP_ROWS: Final[dict[str, tuple[str, ...]]] = {
    "results": ("三、本年度办理结果",),
    "withheld": ("(三)不予公开",),
    "unavailable": ("(四)无法提供",),
    "not_processed": ("(五)不予处理",),
}
TABLE3_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "natural_person": ("自然人",),
    "org_business": ("商业企业",),
    "org_research": ("科研机构",),
    "org_public_interest": ("社会公益组织",),
    "org_legal_services": ("法律服务机构",),
    "org_other": ("其他",),
    "total": ("总计", "合计"),
}
TABLE3_HEADER_OTHER: Final = ("申请人情况", "法人或其他组织")
TABLE3_NOTE_MARK: Final = "勾稽关系"

# Table 4 (spec §5, §9.3): headers are matched only to find where the data row starts.
TABLE4_HEADERS: Final = (
    "行政复议", "行政诉讼", "结果维持", "结果维护", "结果纠正", "其他结果", "尚未审结", "总计", "合计",
    "未经复议直接起诉", "复议后起诉", "结果", "其他", "尚未", "维持", "纠正", "审结",
)

# Template detection (spec §1): any two markers of one version are decisive.
TEMPLATE_MARKERS: Final[dict[str, tuple[str, ...]]] = {
    codes.FMT_2019: (
        "本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增/减",
        "其他对外管理服务事项", "第二十条第(九)项", "政府集中采购", "采购总金额",
    ),
    codes.FMT_2021: (
        "本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额(单位:万元)",
        "逾期不补正", "逾期未按收费通知要求缴纳费用",
    ),
}
# Words of the pre-2019 reports, which chose their own tables (spec §1, OLD).
LEGACY_MARKERS: Final = ("依申请公开政府信息情况", "咨询处理", "支出和收费", "附表", "政府信息公开的收费及减免情况",
                         "因政府信息公开申请行政复议、提起行政诉讼的情况")
REPORT_TITLE_MARK: Final = re.compile(r"政府信息公开(?:工作)?(?:年度)?(?:报告|年报)")
