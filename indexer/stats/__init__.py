"""Statistics tables of the annual reports: extraction, consistency checks, JSON shapes, export.

Pure functions over a report's text; storing results and the CLI live elsewhere.
"""

from __future__ import annotations

from ..core.shapes import report_summary
from .checks import CHECKS, CheckFailure, run_checks
from .extract import Indicator, StatsResult, UnmappedCell, detect_edition, detect_template, extract_stats
from .indicators import edition_of

__all__ = [
    "CHECKS",
    "CheckFailure",
    "Indicator",
    "StatsResult",
    "UnmappedCell",
    "check_to_json",
    "stats_json",
    "detect_edition",
    "edition_of",
    "detect_template",
    "extract_stats",
    "run_checks",
    "to_json",
]


def _number(value: float | int | None) -> float | int | None:
    """Counts read back from SQLite as floats are shown as the integers they are."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def stats_json(report_meta: dict, template: str | None, indicators: list[dict]) -> dict:
    """The `stats --json` shape of one report; indicators are {key, label, unit, value, note} dicts.
    `edition` (2021, 2019, old) follows from the indicators, so stored reports need no new column."""
    return {
        **report_summary(report_meta),
        "template": template,
        "edition": edition_of(template, (i["key"] for i in indicators)),
        "indicators": [
            {"key": i["key"], "label": i["label"], "unit": i["unit"], "value": _number(i["value"]), "note": i["note"]}
            for i in indicators
        ],
    }


def to_json(report_meta: dict, result: StatsResult) -> dict:
    """One report's indicators as a JSON-ready dict; report_meta needs report_id, source, agency, year."""
    return stats_json(report_meta, result.template, [vars(ind) for ind in result.indicators])


def check_to_json(report_meta: dict, failure: CheckFailure) -> dict:
    """One failed check of one report as a JSON-ready dict."""
    return {
        "report_id": report_meta["report_id"],
        "source": report_meta["source"],
        "check": failure.check,
        "cells": [{"key": c["key"], "label": c["label"], "value": c["value"]} for c in failure.cells],
        "message": failure.message,
    }
