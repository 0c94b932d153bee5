"""Completeness: what a report's edition requires and the report lacks.

The 2019/2021 formats (国办公开办函〔2019〕60号, 〔2021〕30号) prescribe six parts, three of
them tables; the 2021 format also asks for the 信息处理费 charged, which it puts under
其他需要报告的事项. The old 条例 (2008, 第三十二条) asks for 主动公开, 依申请公开, 收费及减免,
复议诉讼, 存在的主要问题和改进情况, 其他事项; many reports state fees or 复议 in a sentence of
another part rather than a part of their own, so for those a statement anywhere counts. The old
statistics table asked for staff (从事政府信息公开工作人员) and funding (专项经费): checked where
the report prints that table. A table is present when the extractor found any of its cells,
read or not (a printed table with blank cells is there, and blank).

Each result names what is `missing` (a required part, table or statement absent), `empty` (a
part printed with nothing under its heading) and `notes` (what a reader should know, e.g. an
edition inferred from the year). Keys are stable; `LABELS` gives their Chinese names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ..core.kinds import EDITION_2019, EDITION_2021, OLD, SECTION_KINDS

NEW_PARTS = ("overview", "proactive", "requests", "review_litigation", "problems", "other")
OLD_PARTS = ("proactive", "requests", "problems")
OLD_STATEMENTS = {"fees": re.compile(r"收费|费用|收取"), "review_litigation": re.compile(r"复议|诉讼")}
FEES_STATEMENT = re.compile(r"信息处理费|收费|收取.{0,8}费|费用")
STAFF_STATEMENT = re.compile(r"专职|兼职|工作人员\d|人员\d")
FUNDING_STATEMENT = re.compile(r"经费")
# Words that name a shortcoming. A problems part with none of them lists only plans.
PROBLEM_WORDS = re.compile(
    r"不足|不够|不高|不强|不全|不及时|不到位|不完善|不规范|不平衡|不充分|不多|不深|有待|欠缺|缺乏|缺少|滞后|薄弱|短板|差距"
    r"|不准确|不严|等问题|单一|偏少|较少|较弱|尚未|尚不|仍存在|存在.{0,6}(问题|现象|情况)|参差不齐|流动性|兼职")
NEW_TABLES = {  # part → the key prefix of its table's cells; a table is present when any cell was found
    "proactive": "new.art20.",
    "requests": "new.requests.",
    "review_litigation": ("new.review.", "new.litigation."),
}
_CONTENT = re.compile(r"[\w\u4e00-\u9fff]")

LABELS = {
    **{f"section:{kind}": f"{label}部分" for kind, label in SECTION_KINDS.items()},
    "section:other": "其他需要报告的事项部分",
    "table:proactive": "主动公开（第二十条）统计表",
    "table:requests": "收到和处理政府信息公开申请情况表",
    "table:review_litigation": "行政复议、行政诉讼情况表",
    "statement:fees": "收费（信息处理费）情况说明",
    "statement:review_litigation": "行政复议、行政诉讼情况说明",
    "problems_named": "存在的主要问题（只写了改进计划，未写问题）",
    "staff": "工作人员情况",
    "funding": "专项经费情况",
}


def _body(text: str, heading: str) -> str:
    """A part's text without its heading."""
    body = text.strip()
    if heading and body.startswith(heading.strip()):
        body = body[len(heading.strip()):]
    return body


def _has_content(text: str) -> bool:
    return len(_CONTENT.findall(text)) >= 2


def completeness(report: Mapping, edition: str | None, sections: Iterable[Mapping], text: str,
                 values: Mapping[str, float | None]) -> dict:
    """`{report_id, edition, missing, empty, notes}` for one report.

    `sections`: {kind, heading, start, end} over `text`; `values`: its statistics cells."""
    missing: list[str] = []
    empty: list[str] = []
    notes: list[str] = []
    bodies: dict[str, str] = {}
    for s in sections:
        bodies[s["kind"]] = bodies.get(s["kind"], "") + _body(text[s["start"]:s["end"]], s["heading"])
    read = {k for k, v in values.items() if v is not None}
    tables = {part for part, prefix in NEW_TABLES.items() if any(k.startswith(prefix) for k in values)}
    template = report.get("template")
    rules = edition
    if rules is None and template == "new":
        rules = EDITION_2021 if (report.get("year") or 0) >= 2021 else EDITION_2019
        notes.append(f"未读出统计表，按年份套用{rules}年格式")
    elif rules is None and template == OLD:
        rules = OLD
    if rules is None:
        notes.append("模板未知，无法判断应有的部分")
        return {"report_id": report["id"], "edition": edition, "missing": [], "empty": [], "notes": notes}

    if rules in (EDITION_2019, EDITION_2021):
        for part in NEW_PARTS:
            table_read = part in tables
            if part not in bodies and not table_read:
                missing.append(f"section:{part}")
            elif part in bodies and not _has_content(bodies[part]) and not table_read:
                empty.append(f"section:{part}")
        missing.extend(f"table:{part}" for part in NEW_TABLES if part not in tables)
        if rules == EDITION_2021 and not FEES_STATEMENT.search(text):
            missing.append("statement:fees")
    else:
        for part in OLD_PARTS:
            if part not in bodies:
                missing.append(f"section:{part}")
            elif not _has_content(bodies[part]):
                empty.append(f"section:{part}")
        for part, pattern in OLD_STATEMENTS.items():
            if part not in bodies and not pattern.search(text):
                missing.append(f"statement:{part}")
        if not any(k.startswith("old.") for k in values):
            notes.append("未见旧版统计表：工作人员、专项经费无从核对")
        else:  # the table asked for staff and funding; a sentence elsewhere also answers it
            if not ({"old.staff.total", "old.staff.full_time", "old.staff.part_time"} & read or STAFF_STATEMENT.search(text)):
                missing.append("staff")
            if "old.org.budget" not in read and not FUNDING_STATEMENT.search(text):
                missing.append("funding")
    problems = bodies.get("problems", "")
    if _has_content(problems) and not PROBLEM_WORDS.search(problems):
        missing.append("problems_named")
    return {"report_id": report["id"], "edition": edition, "missing": missing, "empty": empty, "notes": notes}


def summary(results: Iterable[Mapping]) -> dict[str, int]:
    """Item key → how many reports lack it (missing or empty), most frequent first."""
    counts: dict[str, int] = {}
    for r in results:
        for item in [*r["missing"], *r["empty"]]:
            counts[item] = counts.get(item, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
