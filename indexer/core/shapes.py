"""The JSON shapes every command and page shares: a report's summary, and a page of search results.

A result of any kind (a search hit, a similar report, a copied passage, a compared section, a
row of statistics) starts with the same four fields, built here and nowhere else, so `--json`
readers and the app find a report's identity under the same names everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

SUMMARY_FIELDS = ("report_id", "source", "agency", "year")


def report_summary(report: Mapping, *extra: str) -> dict:
    """`{report_id, source, agency, year}` and the `extra` fields, in that order, from a report as
    the store reads it (its id under `id`) or a summary already (under `report_id`)."""
    out = {"report_id": report["id"] if "id" in report else report["report_id"], "source": report["source"],
           "agency": report["agency"], "year": report["year"]}
    out.update((name, report[name]) for name in extra)
    return out


def results_page(query: str, mode: str, results: list[dict], **totals: object) -> dict:
    """One page of search results in the `search --json` shape: the query as typed, its mode, the
    engine's totals (full text: `total_reports`, `total_occurrences`, `excluded_unknown`), then the
    results, best first."""
    return {"query": query, "mode": mode, **totals, "results": results}
