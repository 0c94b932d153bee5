"""Consistency checks (勾稽关系) over a report's statistics, and conservative prose-vs-table checks.

A table check runs only when every cell it needs was read: a cell that is None skips the check
(neither pass nor failure), because an unreadable cell says nothing about the agency's arithmetic.

The prose checks compare a number the report states in words with the same number in its table.
They are deliberately narrow, because a false alarm costs a journalist more than a miss:
only two phrasings (``主动公开…信息N条`` for the old template's 主动公开政府信息数, ``收到…申请N件``
for 收到申请数 / 本年新收), only in sentences without comparisons (同比, 上年, 较 …) and clauses
without negations (未, 没有 …), and only when the whole report states a single number that way.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

from .extract import Indicator, StatsResult, prose
from .indicators import (
    REQUEST_APPLICANT_COLUMNS,
    REQUEST_COLUMNS,
    REQUEST_RESULT_ROWS,
    REQUEST_ROWS,
    REVIEW_RESULT_KEYS,
)

CHECKS: dict[str, str] = {
    "new.requests.balance": "申请情况表：一、本年新收 + 二、上年结转 = 三、（七）总计 + 四、结转下年度继续办理（每一列）",
    "new.requests.row_total": "申请情况表：总计 = 自然人 + 商业企业 + 科研机构 + 社会公益组织 + 法律服务机构 + 其他（每一行）",
    "new.requests.results_total": "申请情况表：（七）总计 = （一）至（六）各项之和，含（三）（四）（五）（六）的子项（每一列）",
    "new.review.sum": "行政复议：总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
    "new.litigation.direct.sum": "行政诉讼（未经复议直接起诉）：总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
    "new.litigation.after_review.sum": "行政诉讼（复议后起诉）：总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
    "old.requests.received_sum": "收到申请数 = 当面申请数 + 传真申请数 + 网络申请数 + 信函申请数",
    "old.requests.completed_sum": "申请办结数 = 按时办结数 + 延期办结数",
    "old.requests.replied_sum": "申请答复数 = 答复类型 1 至 8 之和",
    "old.staff.sum": "从事政府信息公开工作人员数 = 专职人员数 + 兼职人员数",
    "old.review.sum": "行政复议数量 = 维持具体行政行为数 + 被依法纠错数 + 其他情形数",
    "old.litigation.sum": "行政诉讼数量 = 维持具体行政行为或者驳回原告诉讼请求数 + 被依法纠错数 + 其他情形数",
    "old.proactive.channels_cover": "各渠道公开政府信息数之和 ≥ 主动公开政府信息数（同一信息多渠道公开只计1条，故总数不能超过各渠道之和）",
    "prose.proactive_total": "正文所述“主动公开政府信息N条”与统计表主动公开政府信息数一致",
    "prose.requests_received": "正文所述“收到…申请N件”与统计表本年新收申请数（旧表：收到申请数）一致",
}


@dataclass(frozen=True)
class CheckFailure:
    """A relation the report's own numbers break; `cells` are every number involved."""

    check: str
    cells: list[dict] = field(default_factory=list)
    message: str = ""


def _fmt(value: float | int | None) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _sum(inds: list[Indicator]) -> float | int:
    """The sum of read indicators (callers only pass cells whose value is not None)."""
    return sum(ind.value or 0 for ind in inds)


def _cell(ind: Indicator) -> dict:
    return {"key": ind.key, "label": ind.label, "value": ind.value}


def _terms(inds: list[Indicator]) -> str:
    text = " + ".join(f"{ind.label} {_fmt(ind.value)}" for ind in inds)
    return f"{text} = {_fmt(_sum(inds))}" if len(inds) > 1 else text


class _Checker:
    def __init__(self, result: StatsResult) -> None:
        self.by_key = {ind.key: ind for ind in result.indicators}
        self.failures: list[CheckFailure] = []

    def read(self, keys: list[str]) -> list[Indicator] | None:
        """The indicators, or None unless all of them exist and were read."""
        inds = [self.by_key[key] for key in keys if key in self.by_key]
        if len(inds) < len(keys) or any(ind.value is None for ind in inds):
            return None
        return inds

    def equal(self, check: str, left: list[str], right: list[str], context: str = "") -> None:
        lhs, rhs = self.read(left), self.read(right)
        if lhs is None or rhs is None:
            return
        a, b = _sum(lhs), _sum(rhs)
        if not math.isclose(a, b, abs_tol=1e-6):
            message = f"{context}{_terms(lhs)}，但 {_terms(rhs)}（相差 {_fmt(a - b)}）"
            self.failures.append(CheckFailure(check, [_cell(i) for i in lhs + rhs], message))


def _check_new(c: _Checker) -> None:
    columns = [key for key, _ in REQUEST_COLUMNS]
    column_labels = dict(REQUEST_COLUMNS)
    results = [row for row in REQUEST_RESULT_ROWS if f"new.requests.{row}.total" in c.by_key]
    # （六）其他处理 is one row (2019) or three (2021); with neither, （七）总计 has a missing term.
    other_rows = {row for row in REQUEST_RESULT_ROWS if row.split(".")[0] == "other"}
    whole = {"other"} <= set(results) or other_rows - {"other"} <= set(results)
    for col in columns:
        req = f"new.requests.{{}}.{col}".format
        context = f"{column_labels[col]}列："
        c.equal("new.requests.balance", [req("new"), req("carried_in")], [req("total"), req("carried_over")], context)
        if whole:
            c.equal("new.requests.results_total", [req("total")], [req(row) for row in results], context)
    for row in REQUEST_ROWS:
        if f"new.requests.{row.key}.total" in c.by_key:
            cells = [f"new.requests.{row.key}.{col}" for col in REQUEST_APPLICANT_COLUMNS]
            c.equal("new.requests.row_total", [f"new.requests.{row.key}.total"], cells)
    for prefix in ("new.review", "new.litigation.direct", "new.litigation.after_review"):
        c.equal(f"{prefix}.sum", [f"{prefix}.total"], [f"{prefix}.{k}" for k in REVIEW_RESULT_KEYS])


def _check_old(c: _Checker) -> None:
    received = "old.requests.received"
    c.equal("old.requests.received_sum", [received], [f"{received}.{k}" for k in ("in_person", "fax", "online", "letter")])
    c.equal("old.requests.completed_sum", ["old.requests.completed"], ["old.requests.completed.on_time", "old.requests.completed.extended"])
    replies = ("already_public", "granted", "partly_granted", "refused", "not_this_agency", "not_exist", "asked_to_amend", "other_channel")
    c.equal("old.requests.replied_sum", ["old.requests.replied"], [f"old.requests.replied.{k}" for k in replies])
    c.equal("old.staff.sum", ["old.staff.total"], ["old.staff.full_time", "old.staff.part_time"])
    for table in ("review", "litigation"):
        c.equal(f"old.{table}.sum", [f"old.{table}.total"], [f"old.{table}.{k}" for k in ("upheld", "corrected", "other")])
    total = c.read(["old.proactive.total"])
    channels = c.read([f"old.proactive.channel.{k}" for k in ("gazette", "website", "weibo", "wechat", "other")])
    if total and channels and _sum(total) > _sum(channels) + 1e-6:
        message = f"{_terms(total)} 大于各渠道之和：{_terms(channels)}"
        c.failures.append(CheckFailure("old.proactive.channels_cover", [_cell(i) for i in total + channels], message))


_SENTENCE_END = re.compile(r"[。;!?]")
# A sentence comparing years, or a clause with a negation, may state a number that is not this table's.
_COMPARATIVE = re.compile(r"同比|上年|去年|上一年|较|增长|减少|结转")
_NEGATION = re.compile(r"未|没有|无|不")
_PROSE_PATTERNS = {
    "prose.proactive_total": re.compile(r"主动公开(?:各类)?(?:政府|政务)?信息(?:共|总计|合计)?(\d+)条"),
    "prose.requests_received": re.compile(r"收到[^,:;、\d]{0,12}?申请(?:共|总计|合计)?(\d+)件"),
}
_PROSE_TARGETS = {
    "prose.proactive_total": ("old.proactive.total",),
    "prose.requests_received": ("new.requests.new.total", "old.requests.received"),
}


def _prose_numbers(text: str, pattern: re.Pattern[str]) -> dict[int, str]:
    """Each number the prose states in `pattern`'s phrasing, with the first phrase stating it."""
    numbers: dict[int, str] = {}
    if pattern.search(prose(text)):  # none in the whole prose: none in any clause of it
        for clause in _plain_clauses(text):
            for match in pattern.finditer(clause):
                numbers.setdefault(int(match.group(1)), match.group(0))
    return numbers


@functools.lru_cache(maxsize=2)
def _plain_clauses(text: str) -> tuple[str, ...]:
    """The prose's clauses outside sentences comparing years and without a negation, in order;
    remembered: each prose check reads them."""
    return tuple(clause for sentence in _SENTENCE_END.split(prose(text)) if not _COMPARATIVE.search(sentence)
                 for clause in sentence.split(",") if not _NEGATION.search(clause))


def _check_prose(c: _Checker, text: str) -> None:
    for check, pattern in _PROSE_PATTERNS.items():
        table = next((c.by_key[k] for k in _PROSE_TARGETS[check] if k in c.by_key), None)
        if table is None or table.value is None:
            continue
        numbers = _prose_numbers(text, pattern)
        if len(numbers) != 1:
            continue
        (stated, phrase), = numbers.items()
        if not math.isclose(stated, table.value, abs_tol=1e-6):
            message = f"正文写“{phrase}”，统计表“{table.label}”为 {_fmt(table.value)}"
            cell = {"key": "prose", "label": f"正文：{phrase}", "value": stated}
            c.failures.append(CheckFailure(check, [_cell(table), cell], message))


def run_checks(result: StatsResult, text: str | None = None) -> list[CheckFailure]:
    """Every relation in `CHECKS` that the report's read cells break; prose checks need `text`."""
    checker = _Checker(result)
    _check_new(checker)
    _check_old(checker)
    if text is not None:
        _check_prose(checker, text)
    return checker.failures
