"""Statistics as kept in the store: the rows behind `nianbao stats`, `nianbao check` and the app."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator

from ..fulltext import SearchFilters
from ..store import Store
from . import stats_json
from .export import about

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
