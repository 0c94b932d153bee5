"""Derived measures (rates), defined once: each with its label, its formula over the template
cells (indicator keys, indicators.py) per edition, and the editions it applies to.

A rate over a group of reports is Σ numerator / Σ denominator over the reports of the group
that print every cell the formula needs (a report with a cell unread is left out and counted,
never read as 0). Groups whose denominator is under the minimum keep their value but get no
rank: a 100 % refusal rate on three requests says nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..core.kinds import EDITION_2019, EDITION_2021, OLD
from ..stats.indicators import INDICATORS, REQUEST_COLUMNS, REQUEST_ROWS

MIN_DENOMINATOR = 30
UNKNOWN_GROUP = "（未知）"
GROUPINGS = ("province", "city", "level", "year", "agency")
NEW_EDITIONS = (EDITION_2019, EDITION_2021)


@dataclass(frozen=True)
class Formula:
    """Σ numerator cells / Σ denominator cells, for one edition."""

    numerator: tuple[str, ...]
    denominator: tuple[str, ...]

    def cells(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.numerator + self.denominator))

    def text(self) -> str:
        def side(keys: tuple[str, ...]) -> str:
            return " + ".join(f"{INDICATORS[k].label} [{k}]" for k in keys)

        return f"({side(self.numerator)}) ÷ ({side(self.denominator)})"


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    formulas: Mapping[str, Formula]  # edition ("2019", "2021", "old") → formula

    @property
    def editions(self) -> tuple[str, ...]:
        return tuple(self.formulas)

    def formula_text(self) -> str:
        """One line per edition group: the editions sharing a formula are named together."""
        by_text: dict[str, list[str]] = {}
        for edition, formula in self.formulas.items():
            by_text.setdefault(formula.text(), []).append(edition)
        return "；".join(f"{'/'.join(eds)}：{text}" for text, eds in by_text.items())


def _req(row: str, col: str = "total") -> str:
    return f"new.requests.{row}.{col}"


def _rows(group: str, edition: str) -> tuple[str, ...]:
    """The total cells of a group's sub-rows that `edition` prints (（三）不予公开 1–8 …)."""
    return tuple(_req(r.key) for r in REQUEST_ROWS if r.group == group and edition in r.editions)


def _new(numerator, denominator=None) -> dict[str, Formula]:
    """The same formula for both new editions; callables get the edition (sub-rows differ)."""
    out = {}
    for edition in NEW_EDITIONS:
        num = numerator(edition) if callable(numerator) else numerator
        den = denominator(edition) if callable(denominator) else (denominator or (_req("total"),))
        out[edition] = Formula(tuple(num), tuple(den))
    return out


_OLD_REPLIED = ("old.requests.replied",)
_OTHER = {EDITION_2019: (_req("other"),), EDITION_2021: _rows("other", EDITION_2021)}
_REVIEW_CLOSED = tuple(f"new.review.{k}" for k in ("upheld", "corrected", "other"))
_LITIGATION_CLOSED = tuple(f"new.litigation.{w}.{k}" for w in ("direct", "after_review") for k in ("upheld", "corrected", "other"))

_WITHHELD_REASONS = [r for r in REQUEST_ROWS if r.group == "withheld"]
_APPLICANTS = REQUEST_COLUMNS[:-1]

RATES: tuple[Rate, ...] = (
    Rate("requests.disclosed_share", "予以公开占办理结果比例",
         {**_new((_req("disclosed"),)), OLD: Formula(("old.requests.replied.granted",), _OLD_REPLIED)}),
    Rate("requests.partial_share", "部分公开占办理结果比例",
         {**_new((_req("partial"),)), OLD: Formula(("old.requests.replied.partly_granted",), _OLD_REPLIED)}),
    Rate("requests.granted_share", "公开（予以公开＋部分公开）占办理结果比例",
         {**_new((_req("disclosed"), _req("partial"))),
          OLD: Formula(("old.requests.replied.granted", "old.requests.replied.partly_granted"), _OLD_REPLIED)}),
    Rate("requests.withheld_share", "不予公开占办理结果比例",
         {**_new(lambda e: _rows("withheld", e)), OLD: Formula(("old.requests.replied.refused",), _OLD_REPLIED)}),
    *(Rate(f"requests.withheld.{r.key.split('.', 1)[1]}_share", f"不予公开（{r.label.split(' ', 1)[1]}）占办理结果比例",
           _new((_req(r.key),))) for r in _WITHHELD_REASONS),
    Rate("requests.unavailable_share", "无法提供占办理结果比例", _new(lambda e: _rows("unavailable", e))),
    Rate("requests.not_processed_share", "不予处理占办理结果比例", _new(lambda e: _rows("not_processed", e))),
    Rate("requests.other_share", "其他处理占办理结果比例", _new(lambda e: _OTHER[e])),
    Rate("requests.carried_over_share", "结转下年度占收到申请（新收＋上年结转）比例",
         _new((_req("carried_over"),), (_req("new"), _req("carried_in")))),
    *(Rate(f"requests.applicant.{col}_share", f"{label}申请占本年新收申请比例",
           _new((_req("new", col),), (_req("new"),))) for col, label in _APPLICANTS),
    Rate("requests.on_time_share", "按时办结占申请办结比例",
         {OLD: Formula(("old.requests.completed.on_time",), ("old.requests.completed",))}),
    Rate("review.per_request", "行政复议数与本年新收申请之比",
         {**_new(("new.review.total",), (_req("new"),)), OLD: Formula(("old.review.total",), ("old.requests.received",))}),
    Rate("review.corrected_share", "行政复议结果纠正占审结比例",
         {**_new(("new.review.corrected",), _REVIEW_CLOSED), OLD: Formula(("old.review.corrected",), ("old.review.total",))}),
    Rate("litigation.corrected_share", "行政诉讼结果纠正占审结比例",
         {**_new(("new.litigation.direct.corrected", "new.litigation.after_review.corrected"), _LITIGATION_CLOSED),
          OLD: Formula(("old.litigation.corrected",), ("old.litigation.total",))}),
)
RATES_BY_KEY = {rate.key: rate for rate in RATES}


@dataclass
class Contribution:
    """One report's share of a rate: its cells, and the sums the group adds up."""

    report_id: str
    numerator: float
    denominator: float
    cells: dict[str, float]


def contribution(rate: Rate, report_id: str, edition: str | None, values: Mapping[str, float | None]) -> Contribution | None:
    """This report's numerator and denominator, or None when the rate does not apply to its
    edition or a needed cell was not read."""
    formula = rate.formulas.get(edition or "")
    if formula is None:
        return None
    cells = {key: values.get(key) for key in formula.cells()}
    if any(value is None for value in cells.values()):
        return None
    return Contribution(report_id, sum(cells[k] for k in formula.numerator),
                        sum(cells[k] for k in formula.denominator), cells)


def group_of(report: dict, by: str | None) -> str:
    """The report's group under `by`; a value the store does not know is its own group, never guessed."""
    if by is None:
        return "全部"
    value = report.get(by) if by in ("level", "year", "agency") else report["region"].get(by)
    return UNKNOWN_GROUP if value in (None, "") else str(value)


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def rate_table(rate: Rate, reports: Iterable[tuple[dict, str | None, Mapping[str, float | None]]], by: str | None,
               min_denominator: int = MIN_DENOMINATOR, with_cells: bool = False) -> dict:
    """One rate over (report, edition, indicator values): its groups, ranked by value where the
    denominator reaches `min_denominator`. Each group names the reports it sums and, with
    `with_cells`, each report's cells (`contributions`): a number traced to the printed table."""
    groups: dict[str, list[Contribution]] = {}
    left_out = 0
    for report, edition, values in reports:
        found = contribution(rate, report["id"], edition, values)
        if found is None:
            left_out += edition in rate.formulas
            continue
        groups.setdefault(group_of(report, by), []).append(found)
    rows = []
    for group, members in groups.items():
        num, den = sum(c.numerator for c in members), sum(c.denominator for c in members)
        rows.append({"group": group, "numerator": _number(num), "denominator": _number(den),
                     "value": round(num / den, 4) if den else None, "reports": len(members),
                     "report_ids": sorted(c.report_id for c in members), "rank": None})
        if with_cells:
            rows[-1]["contributions"] = [
                {"report_id": c.report_id, "numerator": _number(c.numerator), "denominator": _number(c.denominator),
                 "cells": {k: _number(v) for k, v in c.cells.items()}}
                for c in sorted(members, key=lambda c: c.report_id)]
    ranked = sorted((r for r in rows if r["value"] is not None and r["denominator"] >= min_denominator),
                    key=lambda r: (-r["value"], -r["denominator"], r["group"]))
    for n, row in enumerate(ranked, 1):
        row["rank"] = n
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, -(r["value"] or 0), r["group"]))
    return {"key": rate.key, "label": rate.label, "formula": rate.formula_text(), "editions": list(rate.editions),
            "min_denominator": min_denominator, "reports_without_cells": left_out, "by": rows}
