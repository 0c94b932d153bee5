"""Spreadsheets for journalists: one row per report, one column per indicator.

Input is a list of `to_json` dicts. Columns follow the canonical indicator order, so the same
indicator sits in the same column whatever reports are exported together; each header carries
the printed Chinese label, the unit and the stable key (``行政许可 / 处理决定数量（件） [new.art20…]``).
The `edition` column tells the 2021 tables from the 2019 ones: their shared rows share columns.
A cell that could not be read is left empty; its reason stays in the JSON.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from .indicators import INDICATORS

META = ("report_id", "source", "agency", "year", "template", "edition")


def _columns(rows: list[dict]) -> list[tuple[str, str]]:
    """(key, header) per indicator present in any row: canonical order, then unknown keys as met."""
    seen: dict[str, dict] = {}
    for row in rows:
        for ind in row["indicators"]:
            seen.setdefault(ind["key"], ind)
    order = {key: i for i, key in enumerate(INDICATORS)}
    keys = sorted(seen, key=lambda key: order.get(key, len(order)))
    return [(key, f"{seen[key]['label']}（{seen[key]['unit']}） [{key}]") for key in keys]


def _table(rows: list[dict]) -> tuple[list[str], list[list]]:
    columns = _columns(rows)
    header = [*META, *(title for _, title in columns)]
    body = []
    for row in rows:
        values = {ind["key"]: ind["value"] for ind in row["indicators"]}
        body.append([*(row.get(field) for field in META), *(values.get(key) for key, _ in columns)])
    return header, body


def write_csv(rows: list[dict], path: str | Path) -> None:
    """UTF-8 with a BOM, so Excel shows the Chinese headers without an import dialog."""
    header, body = _table(rows)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([["" if value is None else value for value in line] for line in body])


def write_xlsx(rows: list[dict], path: str | Path) -> None:
    header, body = _table(rows)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "统计指标"
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in body:
        sheet.append(line)
    sheet.freeze_panes = "G2"
    workbook.save(path)
