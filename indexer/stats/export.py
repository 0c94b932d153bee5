"""Spreadsheets for journalists: one row per report, one column per indicator.

Input is a list of `to_json` dicts. Columns follow the canonical indicator order, so the same
indicator sits in the same column whatever reports are exported together; the 版本 (edition)
column tells the 2021 tables from the 2019 ones, whose shared rows share columns. Headers are Chinese
(the printed label and unit: ``行政许可 / 处理决定数量（件）``); the stable keys, which a
script can rely on, are a second header row in CSV and a sheet of their own in XLSX. A cell
that could not be read is left empty; its reason stays in the JSON. 完整性 (completeness) is what
the report lacks (`indexer.findings.completeness`), where the caller attached it.

What was exported travels with the numbers (`about`): when, from how many reports, under
which conditions, by which nianbao: in `#` lines above the CSV table, on a sheet in XLSX.
"""

from __future__ import annotations

import csv
import importlib.metadata
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from ..core.kinds import edition_label, template_label
from .indicators import INDICATORS

META = (("report_id", "报告ID"), ("source", "文件"), ("agency", "机关"), ("year", "年份"),
        ("province", "省份"), ("city", "城市"), ("county", "区县"), ("template", "模板"), ("edition", "版本"),
        ("completeness", "完整性"))
REGION = ("province", "city", "county")


def about(reports: int, conditions: str = "") -> list[tuple[str, str]]:
    """What an export says about itself: time, corpus size, conditions, version."""
    try:
        version = importlib.metadata.version("nianbao")
    except importlib.metadata.PackageNotFoundError:
        version = "未知"
    return [("导出时间", datetime.now().astimezone().isoformat(timespec="seconds")), ("导出的报告数", str(reports)),
            ("筛选条件", conditions or "无（全部报告）"), ("nianbao 版本", version)]


def _columns(rows: list[dict]) -> list[tuple[str, str]]:
    """(key, Chinese header) per indicator present in any row: canonical order, then unknown keys as met."""
    seen: dict[str, dict] = {}
    for row in rows:
        for ind in row["indicators"]:
            seen.setdefault(ind["key"], ind)
    order = {key: i for i, key in enumerate(INDICATORS)}
    keys = sorted(seen, key=lambda key: order.get(key, len(order)))
    return [(key, f"{seen[key]['label']}（{seen[key]['unit']}）") for key in keys]


def _meta(row: dict, regions: Mapping[str, Mapping]) -> list:
    region = row.get("region") or regions.get(row["report_id"]) or {}
    values = {**row, **{part: region.get(part) for part in REGION}}
    values["template"] = template_label(row.get("template"), unknown=row.get("template"))
    values["edition"] = edition_label(row.get("edition"), unknown=row.get("edition"))
    return [values.get(field) for field, _ in META]


def _table(rows: list[dict], regions: Mapping[str, Mapping] | None) -> tuple[list[str], list[str], list[list]]:
    columns = _columns(rows)
    header = [*(title for _, title in META), *(title for _, title in columns)]
    keys = [*(field for field, _ in META), *(key for key, _ in columns)]
    body = []
    for row in rows:
        values = {ind["key"]: ind["value"] for ind in row["indicators"]}
        body.append([*_meta(row, regions or {}), *(values.get(key) for key, _ in columns)])
    return header, keys, body


def write_csv(rows: list[dict], path: str | Path, *, regions: Mapping[str, Mapping] | None = None,
              about_lines: list[tuple[str, str]] | None = None) -> None:
    """UTF-8 with a BOM, so Excel shows the Chinese headers without an import dialog.

    `#` lines first (`about_lines`), then the Chinese header, the row of keys, one row per report.
    `regions`: report id → {province, city, county}, for rows that do not carry their region.
    """
    header, keys, body = _table(rows, regions)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        for name, value in about_lines or []:
            writer.writerow([f"# {name}：{value}"])
        writer.writerow(header)
        writer.writerow(keys)
        writer.writerows([["" if value is None else value for value in line] for line in body])


def write_xlsx(rows: list[dict], path: str | Path, *, regions: Mapping[str, Mapping] | None = None,
               about_lines: list[tuple[str, str]] | None = None) -> None:
    """Sheets 统计指标 (Chinese headers), 指标键 (each column's key) and, with `about_lines`, 说明."""
    header, keys, body = _table(rows, regions)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "统计指标"
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in body:
        sheet.append(line)
    sheet.freeze_panes = sheet.cell(row=2, column=len(META) + 1)
    legend = workbook.create_sheet("指标键")
    legend.append(["列", "表头", "键"])
    for number, (title, key) in enumerate(zip(header, keys), 1):
        legend.append([number, title, key])
    if about_lines:
        notes = workbook.create_sheet("说明")
        for name, value in about_lines:
            notes.append([name, value])
    workbook.save(path)
