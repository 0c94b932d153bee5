"""Top-level sections, their canonical kinds, and the paragraphs and table rows inside them.

Reports follow the 条例's outline (一、总体情况 … 五、存在的主要问题及改进情况), but each agency
words the headings its own way; the kind lets users compare like with like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..normalize import normalize

# The one list of section kinds: key → Chinese label shown to users.
SECTION_KINDS: dict[str, str] = {
    "overview": "总体情况",
    "proactive": "主动公开",
    "requests": "依申请公开",
    "review_litigation": "行政复议和行政诉讼",
    "fees": "收费及减免",
    "interpretation": "政策解读",
    "responses": "回应关切",
    "problems": "存在的主要问题及改进情况",
    "plans": "下一步工作",
    "other": "其他",
}

# Heading keywords in priority order: 存在问题及下一步打算 is a problems section, and
# 因…申请行政复议 is about review, not requests.
_KIND_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("problems", ("存在的主要问题", "存在问题", "存在的问题", "问题与不足", "问题和不足", "不足之处", "改进情况", "改进措施")),
    ("plans", ("下一步", "明年", "下年", "工作计划", "工作思路", "计划安排", "工作打算", "工作要点", "工作安排")),
    ("review_litigation", ("行政复议", "行政诉讼")),
    ("fees", ("收费", "减免")),
    ("requests", ("依申请", "收到和处理", "处理政府信息公开申请", "申请公开")),
    ("interpretation", ("解读",)),
    ("responses", ("回应",)),
    ("proactive", ("主动公开",)),
    ("overview", ("总体", "概述", "概况", "基本情况")),
]

_NUMERALS = "一二三四五六七八九十"
_HEADING = re.compile(rf"^(?:第([{_NUMERALS}]+)部分|([{_NUMERALS}]+)\s*[、.．])\s*(.*)$")
_APPENDIX = re.compile(r"^(附件|附表)")
_ITEM_START = re.compile(rf"^(?:[(（]\s*[{_NUMERALS}\d]+\s*[)）]|\d+\s*[、.．]|[{_NUMERALS}]+是)")
_SENTENCE_END = tuple("。！？!?；;：:")
_HEADING_MAX = 40


def _numeral_value(numeral: str) -> int:
    """一 → 1 … 十九 → 19; enough for report outlines."""
    if numeral == "十":
        return 10
    if numeral.startswith("十"):
        return 10 + _NUMERALS.index(numeral[1]) + 1
    if numeral.endswith("十"):
        return (_NUMERALS.index(numeral[0]) + 1) * 10
    if "十" in numeral:
        tens, ones = numeral.split("十")
        return (_NUMERALS.index(tens) + 1) * 10 + _NUMERALS.index(ones) + 1
    return _NUMERALS.index(numeral) + 1 if len(numeral) == 1 else -1


def classify_heading(heading: str, position: int = 0) -> str:
    """The canonical kind of a section heading; the first section defaults to the overview."""
    norm = normalize(heading)
    for kind, keywords in _KIND_RULES:
        if any(keyword in norm for keyword in keywords):
            return kind
    return "overview" if position == 1 else "other"


def is_table_row(line: str) -> bool:
    """Tables come out of PDFs as tab-separated rows, or (one cell per line) as `cell |`."""
    return "\t" in line.strip("\n") or line.rstrip().endswith("|")


@dataclass
class Paragraph:
    """A prose paragraph with its lines repaired, or one table row; offsets into the report text."""

    kind: str  # "prose" or "table"
    text: str
    start: int
    end: int


@dataclass
class Section:
    kind: str
    heading: str
    number: int  # 1 for 一、…; 0 for the preamble; -1 for appendices
    start: int
    end: int
    text: str
    paragraphs: list[Paragraph] = field(default_factory=list)


def _join_lines(lines: list[str]) -> str:
    """Join lines broken by extraction, keeping one space only between two Latin words."""
    out = ""
    for line in lines:
        if out and out[-1].isascii() and out[-1].isalnum() and line[:1].isascii() and line[:1].isalnum():
            out += " "
        out += line
    return out


def _is_item_title(line: str) -> bool:
    """A short numbered line with no sentence in it (`（一）主动公开情况`) stands alone; one that
    already holds a sentence (`3. 积极开展“政府开放日”活动。2020年，共组织开展`) runs on."""
    return bool(_ITEM_START.match(line)) and len(normalize(line)) <= 30 and not any(c in line for c in _SENTENCE_END)


def split_paragraphs(text: str, offset: int = 0) -> list[Paragraph]:
    """Prose lines joined across line and page breaks until a sentence ends; table rows apart."""
    paragraphs: list[Paragraph] = []
    lines: list[tuple[str, int, int]] = []

    def flush() -> None:
        if lines:
            paragraphs.append(Paragraph("prose", _join_lines([l for l, _, _ in lines]), lines[0][1], lines[-1][2]))
            lines.clear()

    pos = offset
    for raw in text.splitlines(keepends=True):
        start, pos = pos, pos + len(raw)
        stripped = raw.strip()
        if not stripped:
            if lines and lines[-1][0].endswith(_SENTENCE_END):
                flush()
            continue
        lead = len(raw) - len(raw.lstrip())
        span = (start + lead, start + lead + len(stripped))
        if is_table_row(raw):
            flush()
            paragraphs.append(Paragraph("table", stripped, *span))
            continue
        if _ITEM_START.match(stripped):
            flush()
        lines.append((stripped, *span))
        if stripped.endswith(_SENTENCE_END) or _is_item_title(stripped):
            flush()
    flush()
    return paragraphs


def _headings(text: str) -> list[tuple[int, int, str, int]]:
    """(line start, line end, heading text, number) for each top-level heading, in sequence."""
    found = []
    expected = 1
    pos = 0
    for raw in text.splitlines(keepends=True):
        start, pos = pos, pos + len(raw)
        line = raw.strip()
        if not line or is_table_row(raw) or len(normalize(line)) > _HEADING_MAX:
            continue
        if _APPENDIX.match(line) and found:
            found.append((start, pos, line, -1))
            continue
        match = _HEADING.match(line)
        if not match or line.endswith(_SENTENCE_END):
            continue
        number = _numeral_value(match.group(1) or match.group(2))
        if number == expected:
            found.append((start, pos, line, number))
            expected += 1
    return found


def split_sections(text: str) -> list[Section]:
    """The preamble, then one section per top-level heading (一、二、… or 第一部分), then appendices.

    Headings must come in sequence, which keeps table rows such as `四、结转下年度继续办理`
    from being taken for headings.
    """
    headings = _headings(text)
    sections: list[Section] = []
    bounds = [(0, 0, "", 0)] + headings
    for i, (start, body_start, heading, number) in enumerate(bounds):
        end = bounds[i + 1][0] if i + 1 < len(bounds) else len(text)
        body = text[body_start:end]
        if number == 0 and not body.strip():
            continue
        kind = "other" if number <= 0 else classify_heading(heading, number)
        section = Section(kind, heading, number, start, end, text[start:end])
        section.paragraphs = split_paragraphs(body, body_start)
        sections.append(section)
    return sections
