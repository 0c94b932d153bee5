"""The canonical statistics indicators: the one place their keys, printed labels and units live.

Key scheme: ``<template>.<table>.<row>[.<sub-row>][.<column>]``, lower-case English words, so a
key means the same cell in every report that uses the template and never changes once published.

- ``new.*`` — the 2019-revision tables (国办公开办函〔2019〕60号; from the 2019 reports on).
  ``new.art20.<item>.<column>`` is the 第二十条 table, ``new.requests.<row>.<column>`` the
  applications table (columns ``natural_person … other, total``), ``new.review.*`` and
  ``new.litigation.{direct,after_review}.*`` the 行政复议 / 行政诉讼 table. The 2021 format
  (国办公开办函〔2021〕30号) renamed some 第二十条 columns and split （六）其他处理 into three
  sub-rows; those indicators carry edition ``"2021"`` and the 2019 ones ``"2019"``.
- ``old.*`` — the single 统计指标 / 单位 / 统计数 table of the reports before 2019.
- ``bytype.*`` — not a national template: the one-cell-per-line 主动公开信息表 “by information type”
  some 安徽 agencies printed instead of a statistics table (sample 002). Its categories are that
  catalogue's own, so they are kept apart rather than forced onto ``old.*`` indicators.

Each row also has an ``anchor``: a distinctive part of its normalised printed label, which is
how the extractor recognises the row however the PDF broke or spaced it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..core.kinds import BYTYPE, EDITION_2019, EDITION_2021, NEW, OLD

BOTH = frozenset({EDITION_2019, EDITION_2021})
ONLY_2019 = frozenset({EDITION_2019})
ONLY_2021 = frozenset({EDITION_2021})

UNITS = ("人次", "万元", "条", "件", "项", "人", "个", "次", "篇")


@dataclass(frozen=True)
class IndicatorDef:
    """One statistics cell of a template, as every report of that template prints it."""

    key: str
    label: str
    unit: str
    template: str
    editions: frozenset[str] = BOTH


@dataclass(frozen=True)
class RowSpec:
    """A printed table row: how to recognise it (anchor, or ordinal inside its group) and its unit."""

    key: str
    label: str
    anchor: str | None
    group: str | None = None
    ordinal: int | None = None
    unit: str = "件"
    editions: frozenset[str] = BOTH


# --- new template: 第二十条 table -------------------------------------------------------

# (item key, printed item label, anchor): the rows of the 第二十条 sub-tables.
ART20_ITEMS = (
    ("rules", "规章", "规章"),
    ("normative_docs", "规范性文件", "规范性文件"),
    ("admin_license", "行政许可", "行政许可"),
    ("other_services", "其他对外管理服务事项", "对外管理服务"),
    ("admin_penalty", "行政处罚", "行政处罚"),
    ("admin_coercion", "行政强制", "行政强制"),
    ("admin_fees", "行政事业性收费", "事业性收费"),
    ("procurement", "政府集中采购", "集中采购"),
)

# Rows the 2021 format prints under another name.
ART20_ITEM_LABELS_2021 = {"normative_docs": "行政规范性文件"}

# Header cell anchor (normalised) -> column key. Both editions' headers, and the spellings seen
# in reports (本年度制作数量 for 本年新制作数量).
ART20_COLUMN_ANCHORS = (
    ("制作数量", "made"),
    ("新公开数量", "published"),
    ("对外公开总数量", "public_total"),
    ("制发件数", "issued"),
    ("废止件数", "repealed"),
    ("现行有效件数", "in_force"),
    ("上一年项目数量", "prev_items"),
    ("增/减", "change"),
    ("处理决定数量", "decisions"),
    ("采购项目数量", "items"),
    ("采购总金额", "amount"),
    ("收费金额", "amount"),
)

_DOCS = ("rules", "normative_docs")
_MATTERS = ("admin_license", "other_services", "admin_penalty", "admin_coercion")

# (item, column, printed column label, unit, editions): the cells the 第二十条 tables define.
_ART20_CELLS = (
    *((item, "made", "本年新制作数量", "件", ONLY_2019) for item in _DOCS),
    *((item, "published", "本年新公开数量", "件", ONLY_2019) for item in _DOCS),
    *((item, "public_total", "对外公开总数量", "件", ONLY_2019) for item in _DOCS),
    *((item, "issued", "本年制发件数", "件", ONLY_2021) for item in _DOCS),
    *((item, "repealed", "本年废止件数", "件", ONLY_2021) for item in _DOCS),
    *((item, "in_force", "现行有效件数", "件", ONLY_2021) for item in _DOCS),
    *((item, "prev_items", "上一年项目数量", "项", ONLY_2019) for item in _MATTERS),
    *((item, "change", "本年增/减", "项", ONLY_2019) for item in _MATTERS),
    *((item, "decisions", "处理决定数量", "件", ONLY_2019 if item == "other_services" else BOTH) for item in _MATTERS),
    ("admin_fees", "prev_items", "上一年项目数量", "项", ONLY_2019),
    ("admin_fees", "change", "本年增/减", "项", ONLY_2019),
    ("admin_fees", "amount", "本年收费金额", "万元", ONLY_2021),
    ("procurement", "items", "采购项目数量", "项", ONLY_2019),
    ("procurement", "amount", "采购总金额", "万元", ONLY_2019),
)
ART20_CELLS = frozenset((item, col) for item, col, *_ in _ART20_CELLS)

# --- new template: applications table -------------------------------------------------

REQUEST_COLUMNS = (
    ("natural_person", "自然人"),
    ("commercial", "商业企业"),
    ("research", "科研机构"),
    ("public_interest", "社会公益组织"),
    ("legal_service", "法律服务机构"),
    ("other", "其他"),
    ("total", "总计"),
)
REQUEST_APPLICANT_COLUMNS = tuple(key for key, _ in REQUEST_COLUMNS[:-1])

# Group headings whose numbered sub-rows follow: group key -> anchor.
REQUEST_GROUPS = {
    "withheld": "不予公开",
    "unavailable": "无法提供",
    "not_processed": "不予处理",
    "other": "其他处理",
}

REQUEST_ROWS = (
    RowSpec("new", "一、本年新收政府信息公开申请数量", "本年新收"),
    RowSpec("carried_in", "二、上年结转政府信息公开申请数量", "上年结转"),
    RowSpec("disclosed", "三、本年度办理结果（一）予以公开", "予以公开"),
    RowSpec("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "部分公开"),
    RowSpec("withheld.state_secret", "（三）不予公开 1.属于国家秘密", "国家秘密", "withheld", 1),
    RowSpec("withheld.other_law", "（三）不予公开 2.其他法律行政法规禁止公开", "法律行政法规禁止", "withheld", 2),
    RowSpec("withheld.security_stability", "（三）不予公开 3.危及“三安全一稳定”", "三安全一稳定", "withheld", 3),
    RowSpec("withheld.third_party", "（三）不予公开 4.保护第三方合法权益", "第三方合法权益", "withheld", 4),
    RowSpec("withheld.internal_affairs", "（三）不予公开 5.属于三类内部事务信息", "三类内部事务", "withheld", 5),
    RowSpec("withheld.process_info", "（三）不予公开 6.属于四类过程性信息", "四类过程性", "withheld", 6),
    RowSpec("withheld.enforcement_files", "（三）不予公开 7.属于行政执法案卷", "行政执法案卷", "withheld", 7),
    RowSpec("withheld.admin_query", "（三）不予公开 8.属于行政查询事项", "行政查询事项", "withheld", 8),
    RowSpec("unavailable.not_held", "（四）无法提供 1.本机关不掌握相关政府信息", "不掌握", "unavailable", 1),
    RowSpec("unavailable.needs_creation", "（四）无法提供 2.没有现成信息需要另行制作", "另行制作", "unavailable", 2),
    RowSpec("unavailable.unclear", "（四）无法提供 3.补正后申请内容仍不明确", "仍不明确", "unavailable", 3),
    RowSpec("not_processed.petition", "（五）不予处理 1.信访举报投诉类申请", "信访举报投诉", "not_processed", 1),
    RowSpec("not_processed.repeat", "（五）不予处理 2.重复申请", "重复申请", "not_processed", 2),
    RowSpec("not_processed.publication", "（五）不予处理 3.要求提供公开出版物", "公开出版物", "not_processed", 3),
    RowSpec("not_processed.mass_repeat", "（五）不予处理 4.无正当理由大量反复申请", "大量反复", "not_processed", 4),
    RowSpec("not_processed.confirm", "（五）不予处理 5.要求行政机关确认或重新出具已获取信息", "重新出具", "not_processed", 5),
    RowSpec("other", "（六）其他处理", "其他处理", editions=ONLY_2019),
    RowSpec(
        "other.overdue_correction",
        "（六）其他处理 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        "逾期不补正",
        "other",
        1,
        editions=ONLY_2021,
    ),
    RowSpec(
        "other.overdue_fee",
        "（六）其他处理 2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        "缴纳费用",
        "other",
        2,
        editions=ONLY_2021,
    ),
    RowSpec("other.misc", "（六）其他处理 3.其他", None, "other", 3, editions=ONLY_2021),
    RowSpec("total", "（七）总计", "总计"),
    RowSpec("carried_over", "四、结转下年度继续办理", "结转下年度"),
)

# Rows that make up （七）总计: everything under 三、本年度办理结果.
REQUEST_RESULT_ROWS = tuple(
    row.key for row in REQUEST_ROWS if row.key not in ("new", "carried_in", "total", "carried_over")
)

# --- new template: 行政复议 / 行政诉讼 table (15 columns, one data row) ----------------------

_RESULTS = (("upheld", "结果维持"), ("corrected", "结果纠正"), ("other", "其他结果"), ("pending", "尚未审结"), ("total", "总计"))
REVIEW_COLUMNS = (
    *((f"new.review.{k}", f"行政复议 / {label}") for k, label in _RESULTS),
    *((f"new.litigation.direct.{k}", f"行政诉讼 未经复议直接起诉 / {label}") for k, label in _RESULTS),
    *((f"new.litigation.after_review.{k}", f"行政诉讼 复议后起诉 / {label}") for k, label in _RESULTS),
)
REVIEW_RESULT_KEYS = tuple(k for k, _ in _RESULTS[:-1])

# --- old template: 统计指标 / 单位 / 统计数 --------------------------------------------------

# Section key -> (printed heading, anchor). A row is looked up inside its section, so labels
# that repeat (被依法纠错数 under both 行政复议 and 行政诉讼) stay apart.
OLD_SECTIONS = {
    "proactive": ("一、主动公开情况", "主动公开情况"),
    "response": ("二、回应解读情况", "回应解读情况"),
    "requests": ("三、依申请公开情况", "依申请公开情况"),
    "review": ("四、行政复议数量", "行政复议数量"),
    "litigation": ("五、行政诉讼数量", "行政诉讼数量"),
    "complaints": ("六、举报投诉数量", "举报投诉数量"),
    "fees": ("七、依申请公开信息收取的费用", "收取的费用"),
    "org": ("八、机构建设和保障经费情况", "机构建设和保障经费"),
    "meetings": ("九、政府信息公开会议和培训情况", "会议和培训"),
}

OLD_ROWS = (
    RowSpec("old.proactive.total", "（一）主动公开政府信息数（不同渠道和方式公开相同信息计1条）", "主动公开政府信息数", "proactive", unit="条"),
    RowSpec("old.proactive.normative_docs", "其中：主动公开规范性文件数", "主动公开规范性文件数", "proactive", unit="条"),
    RowSpec("old.proactive.normative_docs_issued", "制发规范性文件总数", "制发规范性文件总数", "proactive"),
    RowSpec("old.proactive.channel.gazette", "1.政府公报公开政府信息数", "政府公报公开政府信息数", "proactive", unit="条"),
    RowSpec("old.proactive.channel.website", "2.政府网站公开政府信息数", "政府网站公开政府信息数", "proactive", unit="条"),
    RowSpec("old.proactive.channel.weibo", "3.政务微博公开政府信息数", "政务微博公开政府信息数", "proactive", unit="条"),
    RowSpec("old.proactive.channel.wechat", "4.政务微信公开政府信息数", "政务微信公开政府信息数", "proactive", unit="条"),
    RowSpec("old.proactive.channel.other", "5.其他方式公开政府信息数", "其他方式公开政府信息数", "proactive", unit="条"),
    RowSpec("old.response.hotspots", "（一）回应公众关注热点或重大舆情数（不同方式回应同一热点或舆情计1次）", "回应公众关注热点或重大舆情数", "response", unit="次"),
    RowSpec("old.response.press_conferences", "1.参加或举办新闻发布会总次数", "参加或举办新闻发布会总次数", "response", unit="次"),
    RowSpec("old.response.press_conferences.by_leaders", "其中：主要负责同志参加新闻发布会次数", "主要负责同志参加新闻发布会次数", "response", unit="次"),
    RowSpec("old.response.online_interviews", "2.政府网站在线访谈次数", "政府网站在线访谈次数", "response", unit="次"),
    RowSpec("old.response.online_interviews.by_leaders", "其中：主要负责同志参加政府网站在线访谈次数", "主要负责同志参加政府网站在线访谈次数", "response", unit="次"),
    RowSpec("old.response.interpretations", "3.政策解读稿件发布数", "政策解读稿件发布数", "response", unit="篇"),
    RowSpec("old.response.weibo_wechat", "4.微博微信回应事件数", "微博微信回应事件数", "response", unit="次"),
    RowSpec("old.response.other", "5.其他方式回应事件数", "其他方式回应事件数", "response", unit="次"),
    RowSpec("old.requests.received", "（一）收到申请数", "收到申请数", "requests"),
    RowSpec("old.requests.received.in_person", "1.当面申请数", "当面申请数", "requests"),
    RowSpec("old.requests.received.fax", "2.传真申请数", "传真申请数", "requests"),
    RowSpec("old.requests.received.online", "3.网络申请数", "网络申请数", "requests"),
    RowSpec("old.requests.received.letter", "4.信函申请数", "信函申请数", "requests"),
    RowSpec("old.requests.completed", "（二）申请办结数", "申请办结数", "requests"),
    RowSpec("old.requests.completed.on_time", "1.按时办结数", "按时办结数", "requests"),
    RowSpec("old.requests.completed.extended", "2.延期办结数", "延期办结数", "requests"),
    RowSpec("old.requests.replied", "（三）申请答复数", "申请答复数", "requests"),
    RowSpec("old.requests.replied.already_public", "1.属于已主动公开范围数", "属于已主动公开范围数", "requests"),
    RowSpec("old.requests.replied.granted", "2.同意公开答复数", "同意公开答复数", "requests"),
    RowSpec("old.requests.replied.partly_granted", "3.同意部分公开答复数", "同意部分公开答复数", "requests"),
    RowSpec("old.requests.replied.refused", "4.不同意公开答复数", "不同意公开答复数", "requests"),
    RowSpec("old.requests.replied.refused.state_secret", "其中：涉及国家秘密", "涉及国家秘密", "requests"),
    RowSpec("old.requests.replied.refused.trade_secret", "涉及商业秘密", "涉及商业秘密", "requests"),
    RowSpec("old.requests.replied.refused.privacy", "涉及个人隐私", "涉及个人隐私", "requests"),
    RowSpec("old.requests.replied.refused.security_stability", "危及国家安全、公共安全、经济安全和社会稳定", "危及国家安全", "requests"),
    RowSpec("old.requests.replied.refused.not_gov_info", "不是《条例》所指政府信息", "所指政府信息", "requests"),
    RowSpec("old.requests.replied.refused.other_law", "法律法规规定的其他情形", "法律法规规定的其他情形", "requests"),
    RowSpec("old.requests.replied.not_this_agency", "5.不属于本行政机关公开数", "不属于本行政机关公开数", "requests"),
    RowSpec("old.requests.replied.not_exist", "6.申请信息不存在数", "申请信息不存在数", "requests"),
    RowSpec("old.requests.replied.asked_to_amend", "7.告知作出更改补充数", "告知作出更改补充数", "requests"),
    RowSpec("old.requests.replied.other_channel", "8.告知通过其他途径办理数", "告知通过其他途径办理数", "requests"),
    RowSpec("old.review.total", "四、行政复议数量", "行政复议数量", "review"),
    RowSpec("old.review.upheld", "（一）维持具体行政行为数", "维持具体行政行为数", "review"),
    RowSpec("old.review.corrected", "（二）被依法纠错数", "被依法纠错数", "review"),
    RowSpec("old.review.other", "（三）其他情形数", "其他情形数", "review"),
    RowSpec("old.litigation.total", "五、行政诉讼数量", "行政诉讼数量", "litigation"),
    RowSpec("old.litigation.upheld", "（一）维持具体行政行为或者驳回原告诉讼请求数", "维持具体行政行为或者驳回原告诉讼请求数", "litigation"),
    RowSpec("old.litigation.corrected", "（二）被依法纠错数", "被依法纠错数", "litigation"),
    RowSpec("old.litigation.other", "（三）其他情形数", "其他情形数", "litigation"),
    RowSpec("old.complaints.total", "六、举报投诉数量", "举报投诉数量", "complaints"),
    RowSpec("old.fees.total", "七、依申请公开信息收取的费用", "收取的费用", "fees", unit="万元"),
    RowSpec("old.org.units", "（一）政府信息公开工作专门机构数", "专门机构数", "org", unit="个"),
    RowSpec("old.org.reading_points", "（二）设置政府信息公开查阅点数", "查阅点数", "org", unit="个"),
    RowSpec("old.staff.total", "（三）从事政府信息公开工作人员数", "从事政府信息公开工作人员数", "org", unit="人"),
    RowSpec("old.staff.full_time", "1.专职人员数（不包括政府公报及政府网站工作人员数）", "专职人员数", "org", unit="人"),
    RowSpec("old.staff.part_time", "2.兼职人员数", "兼职人员数", "org", unit="人"),
    RowSpec("old.org.budget", "（四）政府信息公开专项经费（不包括用于政府公报编辑管理及政府网站建设维护等方面的经费）", "专项经费", "org", unit="万元"),
    RowSpec("old.meetings.meetings", "（一）召开政府信息公开工作会议或专题会议数", "工作会议或专题会议数", "meetings", unit="次"),
    RowSpec("old.meetings.trainings", "（二）举办各类培训班数", "培训班数", "meetings", unit="次"),
    RowSpec("old.meetings.trainees", "（三）接受培训人员数", "接受培训人员数", "meetings", unit="人次"),
)

# --- bytype: 主动公开信息表 by information type (安徽 2018, sample 002) -----------------------

BYTYPE_ROWS = (
    RowSpec("bytype.normative_docs", "规范文件数", "规范文件", unit="条"),
    RowSpec("bytype.org_personnel", "机构领导、机构设置及人事信息", "人事信息", unit="条"),
    RowSpec("bytype.laws_policies", "政策法规", "政策法规", unit="条"),
    RowSpec("bytype.interpretation", "解读回应", "解读回应", unit="条"),
    RowSpec("bytype.responses", "回应关切", "回应关切", unit="条"),
    RowSpec("bytype.dept_docs", "部门文件", "部门文件", unit="条"),
    RowSpec("bytype.budget", "财务预决算、“三公”经费等", "预决算", unit="条"),
    RowSpec("bytype.plans_stats", "规划计划、统计信息", "规划计划", unit="条"),
)


def _build() -> dict[str, IndicatorDef]:
    defs: list[IndicatorDef] = []
    items = {key: label for key, label, _ in ART20_ITEMS}
    order = [key for key, _, _ in ART20_ITEMS]
    for item, col, col_label, unit, editions in sorted(_ART20_CELLS, key=lambda cell: order.index(cell[0])):
        label = ART20_ITEM_LABELS_2021.get(item, items[item]) if editions == ONLY_2021 else items[item]
        defs.append(IndicatorDef(f"new.art20.{item}.{col}", f"{label} / {col_label}", unit, NEW, editions))
    for row in REQUEST_ROWS:
        for col, col_label in REQUEST_COLUMNS:
            defs.append(IndicatorDef(f"new.requests.{row.key}.{col}", f"{row.label} / {col_label}", "件", NEW, row.editions))
    defs.extend(IndicatorDef(key, label, "件", NEW) for key, label in REVIEW_COLUMNS)
    defs.extend(IndicatorDef(row.key, row.label, row.unit, OLD) for row in OLD_ROWS)
    defs.extend(IndicatorDef(row.key, row.label, row.unit, BYTYPE) for row in BYTYPE_ROWS)
    return {d.key: d for d in defs}


INDICATORS: dict[str, IndicatorDef] = _build()


def definitions(template: str, edition: str | None = None) -> list[IndicatorDef]:
    """The indicators a report of `template` (and, for ``new``, `edition`) prints, in table order."""
    return [d for d in INDICATORS.values() if d.template == template and (edition is None or edition in d.editions)]


def edition_of(template: str | None, keys: Iterable[str]) -> str | None:
    """The tables' edition as `detect_edition` names it, from the indicators a report holds:
    ``"old"``, or for ``new`` the edition whose own (not shared) indicators are among `keys`;
    None without indicators (a template known only from the year shows no edition)."""
    defs = [INDICATORS[key] for key in keys if key in INDICATORS and INDICATORS[key].template == template]
    if template == OLD:
        return OLD if defs else None
    held = {next(iter(d.editions)) for d in defs if template == NEW and len(d.editions) == 1}
    return held.pop() if len(held) == 1 else None
