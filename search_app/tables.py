"""HTML tables for statistics: the template's grids with values and failed checks in place,
and indicators aligned across reports (one row per indicator, one column per report).

HTML, not a data grid: a grid scrolls, hides columns off screen and sorts away the layout
people check against the printed report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from indexer.stats.indicators import INDICATORS
from indexer.stats.layout import Grid
from search_app.render import esc

CSS = """<style>
.nb-grid-title { font-weight: 600; margin: 0.8rem 0 0.2rem 0; }
.nb-grid-wrap { overflow-x: auto; }
.nb-grid { border-collapse: collapse; font-size: 0.85rem; }
.nb-grid th, .nb-grid td { border: 1px solid #ced4da; padding: 0.15rem 0.45rem; }
.nb-grid thead th { background: #f1f3f5; font-weight: 600; text-align: center; }
.nb-grid th.nb-rowhead { text-align: left; font-weight: 400; background: #f8f9fa; max-width: 28rem; }
.nb-grid td.nb-num { text-align: right; min-width: 3.2rem; font-variant-numeric: tabular-nums; }
.nb-grid td.nb-none { background: repeating-linear-gradient(45deg, #fff, #fff 4px, #f1f3f5 4px, #f1f3f5 8px); }
.nb-grid td.nb-failcell { background: #ffc9c9; color: #a61e1e; font-weight: 700; }
.nb-grid sup { font-weight: 400; margin-left: 0.15rem; }
.nb-unread { color: #868e96; font-size: 0.75rem; }
</style>"""

UNREAD = "未读出"
"""A cell the template has and the report printed, but whose number could not be read."""


def number(value: object) -> str:
    """A count as people write it: 12, 3.5; empty for None."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def grid_html(grid: Grid, values: Mapping[str, object], failed: Mapping[str, list[int]]) -> str:
    """One template table; `values` key → value (None: present, not read); `failed` key → failure numbers.

    A cell the report does not have stays empty; a failed cell is red and carries its
    failures' numbers (①②…) so the list above the table names it.
    """
    head = "".join(f"<th>{esc(c)}</th>" for c in grid.columns)
    body = []
    for label, keys in zip(grid.rows, grid.cells):
        cells = []
        for key in keys:
            if key is None:
                cells.append('<td class="nb-none"></td>')
                continue
            text = number(values[key]) if key in values and values[key] is not None else ""
            if key in values and values[key] is None:
                text = f'<span class="nb-unread">{UNREAD}</span>'
            else:
                text = esc(text)
            if key in failed:
                marks = "".join(circled(n) for n in failed[key])
                cells.append(f'<td class="nb-num nb-failcell" data-key="{esc(key)}">{text}<sup>{marks}</sup></td>')
            else:
                cells.append(f'<td class="nb-num" data-key="{esc(key)}">{text}</td>')
        body.append(f'<tr><th class="nb-rowhead">{esc(label)}</th>{"".join(cells)}</tr>')
    return (f'{CSS}<div class="nb-grid-title">{esc(grid.title)}</div><div class="nb-grid-wrap"><table class="nb-grid">'
            f'<thead><tr><th></th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def circled(n: int) -> str:
    """①…⑳ for the first twenty failures, then (21)…"""
    return chr(0x2460 + n - 1) if 1 <= n <= 20 else f"({n})"


def aligned_html(keys: Sequence[str], columns: Sequence[str], values: Sequence[Mapping[str, object]],
                 failed: Sequence[set[str]]) -> str:
    """Indicators across reports: one row per indicator key, one column per report (`columns` its label).

    An empty cell: the report does not have the indicator; 未读出: it has it but no number was read.
    """
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for key in keys:
        definition = INDICATORS.get(key)
        label = f"{definition.label}（{definition.unit}）" if definition else key
        cells = []
        for report_values, report_failed in zip(values, failed):
            if key not in report_values:
                cells.append('<td class="nb-num"></td>')
                continue
            value = report_values[key]
            text = f'<span class="nb-unread">{UNREAD}</span>' if value is None else esc(number(value))
            css = "nb-num nb-failcell" if key in report_failed else "nb-num"
            cells.append(f'<td class="{css}">{text}</td>')
        body.append(f'<tr><th class="nb-rowhead">{esc(label)}</th>{"".join(cells)}</tr>')
    return (f'{CSS}<div class="nb-grid-wrap"><table class="nb-grid"><thead><tr><th>指标</th>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')
