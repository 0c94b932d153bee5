"""Statistics and findings read from the store: the rows behind `nianbao stats` and `nianbao
check`, and the reports passing the filters with their tables' edition and cells, in one pass over
the indicators (not one query per report).

Here rather than in `indexer.stats`, which reads tables out of a report's text at the parse
level and must not reach up to the store.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence

from ..core.filters import SearchFilters
from ..stats import stats_json
from ..stats.export import about
from ..stats.indicators import edition_of
from ..store import Store
from .rates import MIN_DENOMINATOR, RATES, RATES_BY_KEY, rate_table

ReportCells = tuple[dict, "str | None", dict]
FILTER_NAMES = (("year", "年份"), ("province", "省份"), ("city", "城市"), ("county", "区县"), ("agency", "机关"))


def _reports(store: Store, filters: SearchFilters | None, ids: Collection[str] | None = None) -> list[dict]:
    filters = filters or SearchFilters()
    return [r for r in store.reports() if filters.accepts(r) and (ids is None or r["id"] in ids)]


def stats_rows(store: Store, filters: SearchFilters | None = None, ids: Collection[str] | None = None) -> Iterator[dict]:
    """One `stats --json` object per visible report passing the filters and, if given, among `ids`
    (reports without tables have none).

    Yielded one by one, like `check_rows`: all of them at 20,000 reports take over a GB."""
    with store.snapshot():
        for report in _reports(store, filters, ids):
            meta = {"report_id": report["id"], **report}
            yield stats_json(meta, report["template"], [dict(i) for i in store.indicators(report["id"])])


def check_rows(store: Store, filters: SearchFilters | None = None) -> Iterator[dict]:
    """Every failed check (`check --json`), report by report, yielded one by one."""
    with store.snapshot():
        for report in _reports(store, filters):
            for failure in store.check_failures(report["id"]):
                yield {"report_id": report["id"], "source": report["source"], "check": failure["check_key"],
                       "cells": json.loads(failure["cells"]), "message": failure["message"]}


def describe(filters: SearchFilters | None) -> str:
    """The filters in words for an export's 筛选条件 ("" when there are none)."""
    if filters is None:
        return ""
    parts = [f"{label} {getattr(filters, name)}" for name, label in FILTER_NAMES if getattr(filters, name, None)]
    if filters.sections:
        parts.append("章节 " + "、".join(filters.sections))
    return "；".join(parts)


def export_context(store: Store, count: int, conditions: str) -> dict:
    """What `write_csv` / `write_xlsx` add to `count` exported rows: regions and the lines saying what was exported."""
    with store.snapshot():
        regions = {r["id"]: r["region"] for r in store.reports()}
    return {"regions": regions, "about_lines": about(count, conditions)}


def report_cells(store: Store, filters: SearchFilters | None = None) -> list[ReportCells]:
    """(report, edition, {indicator key: value}) for every visible report passing `filters`."""
    filters = filters or SearchFilters()
    with store.snapshot():
        reports = [r for r in store.reports() if filters.accepts(r)]
        wanted = {r["id"] for r in reports}
        values: dict[str, dict] = {}
        for report_id, key, value in store.indicator_values():
            if report_id in wanted:
                values.setdefault(report_id, {})[key] = value
    return [(r, edition_of(r["template"], values.get(r["id"], {})), values.get(r["id"], {})) for r in reports]


def rates(store: Store, filters: SearchFilters | None = None, by: str | None = None, keys: Sequence[str] = (),
          min_denominator: int = MIN_DENOMINATOR, with_cells: bool = False) -> dict:
    """The `rates --json` object: `{"rates": [{key, label, formula, by: [groups]}], ...}`."""
    unknown = [k for k in keys if k not in RATES_BY_KEY]
    if unknown:
        raise KeyError(f"unknown rate {', '.join(unknown)} (one of: {', '.join(RATES_BY_KEY)})")
    chosen = [RATES_BY_KEY[k] for k in keys] if keys else list(RATES)
    rows = report_cells(store, filters)
    return {"by": by, "min_denominator": min_denominator, "reports": len(rows),
            "rates": [rate_table(rate, rows, by, min_denominator, with_cells) for rate in chosen]}


def completeness_rows(store: Store, filters: SearchFilters | None = None) -> list[dict]:
    """The `check --completeness --json` results, one per visible report passing `filters`."""
    from .completeness import completeness

    out = []
    with store.snapshot():
        for report, edition, values in report_cells(store, filters):
            text = store.texts([report["id"]])[report["id"]][0]
            out.append(completeness(report, edition, store.sections(report["id"]), text, values))
    return out


def with_completeness(store: Store, rows: list[dict]) -> list[dict]:
    """`stats` rows with a `completeness` field for the export: what each report lacks, in words."""
    from .completeness import LABELS

    found = {r["report_id"]: r for r in completeness_rows(store)}
    for row in rows:
        result = found.get(row["report_id"])
        gaps = [] if result is None else [*(f"缺{LABELS.get(m, m)}" for m in result["missing"]),
                                          *(f"{LABELS.get(m, m)}为空" for m in result["empty"])]
        row["completeness"] = "；".join(gaps) if gaps else ("齐全" if result else None)
    return rows


def report_completeness(store: Store, report_id: str) -> dict | None:
    """One report's completeness (the 报告 page), reading only that report; None if unknown."""
    from .completeness import completeness

    with store.snapshot():
        found = store.reports([report_id])
        if not found:
            return None
        values = {row["key"]: row["value"] for row in store.indicators(report_id)}
        text = store.texts([report_id])[report_id][0]
        return completeness(found[0], edition_of(found[0]["template"], values), store.sections(report_id), text, values)
