"""What the desk's downloads say about themselves: a file name naming their content, and the
lines (time, corpus size, conditions, version) that travel inside the file."""

from __future__ import annotations

import io
import re
from datetime import date

import pandas as pd

from indexer.stats.export import about

_UNSAFE = re.compile(r'[\\/:*?"<>|\s；、]+')


def file_name(what: str, count: int, conditions: str = "") -> str:
    """`nianbao-统计指标-5份报告-年份2018-2026-12-06`: what, how many, under which conditions, when."""
    parts = ["nianbao", what, f"{count}份报告"]
    if conditions:
        parts.append(_UNSAFE.sub("", conditions)[:60])
    parts.append(date.today().isoformat())
    return "-".join(parts)


def csv_bytes(frame: pd.DataFrame, count: int, conditions: str) -> bytes:
    """`#` lines saying what was exported, then the table; UTF-8 with a BOM for Excel."""
    lines = "".join(f"# {name}：{value}\n" for name, value in about(count, conditions))
    return (lines + frame.to_csv(index=False)).encode("utf-8-sig")


def xlsx_bytes(sheets: dict[str, pd.DataFrame], count: int, conditions: str) -> bytes:
    """One sheet per table, then 说明 with what was exported."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, index=False, sheet_name=name[:31])
        pd.DataFrame(about(count, conditions), columns=["项目", "内容"]).to_excel(writer, index=False, sheet_name="说明")
    return buffer.getvalue()
