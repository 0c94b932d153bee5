"""The statistics tables laid out as the national templates print them: rows, columns, cells.

Why: a report's indicators are a flat list of keys, but people check them against the
printed table. Each `Grid` has the template's row labels and column headers, and every
cell names the indicator key it holds, so a page can draw the table with empty cells kept in
place and mark the cells a failed check names exactly where they sit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .indicators import (
    ART20_ITEM_LABELS_2021,
    ART20_ITEMS,
    BYTYPE_ROWS,
    INDICATORS,
    OLD_ROWS,
    OLD_SECTIONS,
    REQUEST_COLUMNS,
    REQUEST_ROWS,
    REVIEW_COLUMNS,
    edition_of,
)

__all__ = ["Grid", "grids"]


@dataclass(frozen=True)
class Grid:
    """One printed table: `cells[r][c]` is the indicator key shown at row r, column c (None: no cell)."""

    title: str
    columns: list[str]
    rows: list[str]
    cells: list[list[str | None]]

    def keys(self) -> list[str]:
        return [key for row in self.cells for key in row if key]


def _requests(edition: str | None) -> Grid:
    rows = [r for r in REQUEST_ROWS if edition is None or edition in r.editions]
    return Grid("三、收到和处理政府信息公开申请情况（件）", [label for _, label in REQUEST_COLUMNS],
                [r.label for r in rows],
                [[f"new.requests.{r.key}.{col}" for col, _ in REQUEST_COLUMNS] for r in rows])


def _art20(edition: str | None) -> Grid:
    """Items × columns of the 第二十条 tables, by key (the 2021 format prints some items and columns
    under other names); a column is in the grid when the edition defines it for any item."""
    defs = {k: d for k, d in INDICATORS.items() if k.startswith("new.art20.") and (edition is None or edition in d.editions)}
    columns: dict[str, dict[str, str]] = {}  # printed header → item → key
    for key, d in defs.items():
        item = key.split(".")[2]
        columns.setdefault(f"{d.label.split(' / ', 1)[1]}（{d.unit}）", {})[item] = key
    names = {**{item: label for item, label, _ in ART20_ITEMS}, **(ART20_ITEM_LABELS_2021 if edition == "2021" else {})}
    cells = [[column.get(item) for column in columns.values()] for item, _, _ in ART20_ITEMS]
    return Grid("二、主动公开政府信息情况（第二十条）", list(columns), [names[item] for item, _, _ in ART20_ITEMS], cells)


def _review() -> Grid:
    """Printed as one row of 15 cells; laid out as 3 proceedings × 5 results, which fits a page."""
    rows: dict[str, dict[str, str]] = {}
    for key, label in REVIEW_COLUMNS:
        proceeding, result = label.split(" / ", 1)
        rows.setdefault(proceeding, {})[result] = key
    columns = list(dict.fromkeys(result for cells in rows.values() for result in cells))
    return Grid("四、政府信息公开行政复议、行政诉讼情况（件）", columns, list(rows),
                [[cells.get(col) for col in columns] for cells in rows.values()])


def _old() -> list[Grid]:
    out = []
    for section, (heading, _) in OLD_SECTIONS.items():
        rows = [r for r in OLD_ROWS if r.group == section]
        if rows:
            out.append(Grid(heading, ["统计数"], [f"{r.label}（{r.unit}）" for r in rows], [[r.key] for r in rows]))
    return out


def grids(template: str | None, keys: Mapping[str, object] | set[str]) -> list[Grid]:
    """The tables of `template` that hold at least one of `keys`, in the order the template prints them.

    The new template's tables follow the report's edition (see `edition_of`); when it cannot be
    told, rows of both editions are shown. Indicators outside any table are not laid out.
    """
    if template == "new":
        edition = edition_of("new", keys)
        candidates = [_art20(edition), _requests(edition), _review()]
    elif template == "old":
        candidates = _old()
    else:
        candidates = []
    if any(k.startswith("bytype.") for k in keys):
        candidates.append(Grid("主动公开信息（按信息类型）", ["统计数"], [f"{r.label}（{r.unit}）" for r in BYTYPE_ROWS],
                               [[r.key] for r in BYTYPE_ROWS]))
    return [g for g in candidates if any(k in keys for k in g.keys())]

