"""Statistics tables out of a report's text: pure functions, no I/O.

Tables arrive as PDF extraction left them: tab-separated rows (the 主动公开信息表 of sample 002 one
cell per line, `cell |`), split over pages by blank lines, the header row repeated mid-table,
labels broken over two lines or spaced out (`统 计 指 标`), cells shifted by stray tabs. So rows
are recognised by label anchors (see `indicators.py`) in normalised text, never by line position,
and a row's values are aligned to the columns the template defines (`cells.align`).

Saved web pages print the same tables without tab rows (flattened into one line, one cell per
line, `| a | b |` rows); those are read by the template's grammar in `stream.py`.

Every value cell ends up either in an `Indicator` (value, or None with the reason in `note`) or
in `StatsResult.unmapped` with the reason; `cells_read + cells_unreadable` counts them all.
Tables are recognised by their rows, or in page text by their header sequences; prose is never read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ..core.kinds import BYTYPE, EDITION_2019, EDITION_2021, NEW, OLD
from ..ingest.base import PAGE_NUMBER  # lines between table rows that carry nothing: blank, or a page number
from ..normalize import normalize
from . import stream
from .cells import PLACEHOLDER, align
from .indicators import (
    ART20_CELLS,
    ART20_COLUMN_ANCHORS,
    ART20_ITEMS,
    BOTH,
    BYTYPE_ROWS,
    INDICATORS,
    OLD_ROWS,
    OLD_SECTIONS,
    REQUEST_COLUMNS,
    REQUEST_GROUPS,
    REQUEST_ROWS,
    REVIEW_COLUMNS,
    UNITS,
    IndicatorDef,
    RowSpec,
    definitions,
)

NOTE_EMPTY = "空单元格 (empty cell)"
NOTE_MISSING = "表中未找到该行，或该行没有数值 (row not found, or printed without values)"

_MONEY = ("万元", "亿元", "元")
# What may stand in a unit column: the template's units, and money in units it does not use.
_UNIT_CELLS = (*UNITS, "元", "亿元")
# A number, optionally signed (本年增/减 prints +699) and followed by its unit (24063 万元).
_NUMBER = re.compile(r"^([+-]?)(\d+(?:,\d{3})*(?:\.\d+)?)(%s)?$" % "|".join(sorted(_UNIT_CELLS, key=len, reverse=True)))
_SECTION_NUMBER = re.compile(r"^[一二三四五六七八九十]+、")
_ORDINAL = re.compile(r"(?<![\d.])(\d{1,2})[.、](?!\d)")
# A line without tabs longer than this is prose: the table it followed has ended.
_PROSE_LEN = 60

_NEW_MARKERS = ("第二十条", "本年新收", "上年结转", "申请人情况", "结果维持")
_OLD_MARKERS = ("统计指标", "主动公开政府信息数", "收到申请数", "申请办结数", "从事政府信息公开工作人员数")
_EDITION_MARKERS = {
    EDITION_2021: ("制发件数", "废止件数", "现行有效件数", "收费金额", "逾期不补正", "缴纳费用"),
    EDITION_2019: ("制作数量", "新公开数量", "对外公开总数量", "上一年项目数量", "采购项目数量", "采购总金额"),
}
# 2019's （六）其他处理 carries values itself; 2021's opens numbered sub-rows (1.申请人…).
_OTHER_WITH_VALUES = re.compile(r"其他处理[|\s]*[\d—/-](?!\d*[.、．])")
_REQUEST_HEADER_WORDS = ("申请人情况", "自然人", "法人或其他组织", "商业企业", "科研机构", "社会公益组织", "法律服务机构")
_OLD_HEADER_WORDS = ("统计指标", "单位", "统计数")


@dataclass
class Indicator:
    """One canonical cell of one report; `note` says why `value` is None."""

    key: str
    label: str
    unit: str
    value: float | int | None
    note: str | None = None


@dataclass
class UnmappedCell:
    """A value printed in a table that belongs to no indicator, kept so nothing is dropped silently."""

    label: str
    raw: str
    note: str


@dataclass
class StatsResult:
    """What a report's tables say. `edition` is ``"2019"`` or ``"2021"`` for the new template."""

    template: str | None
    indicators: list[Indicator]
    unmapped: list[UnmappedCell] = field(default_factory=list)
    edition: str | None = None

    @property
    def cells_read(self) -> int:
        return sum(ind.value is not None for ind in self.indicators)

    @property
    def cells_unreadable(self) -> int:
        """Indicators without a value plus table values that map to no indicator."""
        return sum(ind.value is None for ind in self.indicators) + len(self.unmapped)

    def get(self, key: str) -> Indicator | None:
        return next((ind for ind in self.indicators if ind.key == key), None)


@dataclass(frozen=True)
class _Line:
    text: str  # normalised
    cells: tuple[str, ...]  # normalised cells; empty for prose

    @property
    def is_table(self) -> bool:
        return bool(self.cells)


def _cells(raw: str) -> tuple[str, ...]:
    """A table row's normalised cells; () for a line of prose."""
    if "\t" in raw:
        return tuple(normalize(cell) for cell in raw.split("\t"))
    stripped = raw.strip()
    return (normalize(stripped[:-1]),) if stripped.endswith("|") else ()


@functools.lru_cache(maxsize=2)
def _lines(text: str) -> tuple[_Line, ...]:
    """Every line, normalised; remembered because parsing asks for the template first and
    extraction asks again for the same text (a tenth of a worker's time per report)."""
    return tuple(_Line(normalize(raw), _cells(raw)) for raw in text.splitlines())


@functools.lru_cache(maxsize=2)
def prose(text: str) -> str:
    """The report's text without its table rows, normalised (page-broken sentences rejoined);
    remembered like `_lines`: each prose check reads it."""
    return normalize("\n".join(raw for raw in text.splitlines() if not _cells(raw)))


def _is_value(cell: str) -> bool:
    return cell == "" or bool(PLACEHOLDER.match(cell) or _NUMBER.match(cell))


def _split(cells: tuple[str, ...]) -> tuple[str, list[str]]:
    """Label (every cell up to the last text cell, joined) and the cells after it."""
    last = max((i for i, cell in enumerate(cells) if not _is_value(cell) and cell not in _UNIT_CELLS), default=-1)
    return "".join(cells[: last + 1]), list(cells[last + 1 :])


def parse_value(cell: str, unit: str, printed: str | None = None) -> tuple[int | float | None, str | None]:
    """A normalised cell as a number in `unit`, or None and the reason.

    `printed` is the unit the table prints beside the cell; a unit inside the cell (`24063万元`)
    counts too. Money in another unit is refused rather than scaled: the table may be wrong.
    """
    if not cell:
        return None, NOTE_EMPTY
    if PLACEHOLDER.match(cell):
        return None, f"占位符“{cell}”，不是数字 (placeholder, not a number)"
    match = _NUMBER.match(cell)
    if not match:
        return None, f"无法识别“{cell}” (not a number)"
    sign, digits, suffix = match.groups()
    printed = suffix or printed
    if printed and printed != unit and (printed in _MONEY or unit in _MONEY):
        return None, f"单位为{printed}，应为{unit} (unit differs)"
    number = digits.replace(",", "")
    value: int | float = float(number) if "." in number else int(number)
    return (-value if sign == "-" else value), None


class _Sheet:
    """Values collected for one report, keyed by indicator; a key printed twice must agree."""

    def __init__(self) -> None:
        self.cells: dict[str, tuple[int | float | None, str | None, str]] = {}
        self.unmapped: list[UnmappedCell] = []

    def put(self, key: str, raw: str, printed_unit: str | None = None) -> None:
        value, note = parse_value(raw, INDICATORS[key].unit, printed_unit)
        if key in self.cells:
            old_value, old_note, old_raw = self.cells[key]
            if (old_value, old_note) == (value, note):
                return
            value, note = None, f"表中出现两次且数值不同：“{old_raw}”与“{raw}” (printed twice, values differ)"
        self.cells[key] = (value, note, raw)

    def fail(self, key: str, note: str) -> None:
        self.cells[key] = (None, note, "")

    @property
    def read(self) -> int:
        return sum(value is not None for value, _, _ in self.cells.values())

    def extra(self, label: str, cells: list[str], note: str) -> None:
        self.unmapped.extend(UnmappedCell(label, cell, note) for cell in cells if cell)

    def indicators(self, template: str, expected: list[IndicatorDef]) -> list[Indicator]:
        """Every expected indicator, plus any other of the template that the report printed."""
        wanted = {d.key for d in expected}
        out = []
        for d in INDICATORS.values():
            if d.template != template or (d.key not in wanted and d.key not in self.cells):
                continue
            value, note, _ = self.cells.get(d.key, (None, NOTE_MISSING, ""))
            out.append(Indicator(d.key, d.label, d.unit, value, note))
        return out


def _score(lines: Sequence[_Line], markers: tuple[str, ...]) -> int:
    table = [line.text for line in lines if line.is_table]
    return sum(any(marker in text for text in table) for marker in markers)


def detect_template(text: str) -> str | None:
    """``"new"``, ``"old"`` or None, from tables only: prose mentioning a table proves nothing."""
    return _tables(text).template


def detect_edition(text: str) -> str | None:
    """Which statistics tables a report prints: ``"2021"`` (国办公开办函〔2021〕30号), ``"2019"``
    (〔2019〕60号), ``"old"`` (before 2019) or None: no tables, or new-template tables that do not
    show which edition (only the 行政复议 table, say)."""
    tables = _tables(text)
    return OLD if tables.template == OLD else tables.edition


def _detect(lines: Sequence[_Line]) -> str | None:
    new, old = _score(lines, _NEW_MARKERS), _score(lines, _OLD_MARKERS)
    if not new and not old:
        return None
    return NEW if new >= old else OLD


def _edition(table_text: str) -> str | None:
    """The edition whose own header words and rows the tables show more of; None on a tie."""
    scores = {edition: sum(marker in table_text for marker in markers) for edition, markers in _EDITION_MARKERS.items()}
    scores[EDITION_2019] += bool(_OTHER_WITH_VALUES.search(table_text))
    if scores[EDITION_2021] == scores[EDITION_2019]:
        return None
    return max(scores, key=scores.__getitem__)


class _Tables:
    """How a report prints its tables: as rows of cells (`lines`) or not (`flat`), which template
    and, for the new one, which edition."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = _lines(text)
        # rows of several cells that carry a table's words: the row readers get the first try
        self.as_rows = any(len(line.cells) >= 2 for line in self.lines
                           if any(marker in line.text for marker in (*_NEW_MARKERS, *_OLD_MARKERS)))
        self.template = _detect(self.lines) or (None if self.as_rows else stream.detect(self.flat))
        self.edition: str | None = None
        if self.template == NEW:
            rows = "|".join("|".join(line.cells) for line in self.lines if line.is_table)
            self.edition = _edition(rows if self.as_rows else stream.tables_part(self.flat))

    @property
    def flat(self) -> str:
        """The text as one stream of cells (`stream.stream`, remembered)."""
        return stream.stream(self.text)


@functools.lru_cache(maxsize=2)
def _tables(text: str) -> _Tables:
    """`_Tables(text)`, remembered like `_lines`: parsing asks for the edition and extraction for
    the same text's tables again."""
    return _Tables(text)


def _table_lines(lines: Sequence[_Line], start: int) -> Iterator[_Line]:
    """The table from line `start` until prose resumes, without blank lines and page numbers.

    A short line of text inside a table is part of a broken label; it comes back as a row of one
    cell without values, like a table row whose values are on the next line.
    """
    for line in lines[start:]:
        if line.is_table:
            yield line
        elif len(line.text) > _PROSE_LEN:
            return
        elif not PAGE_NUMBER.match(line.text):
            yield _Line(line.text, (line.text,))


def _start(lines: Sequence[_Line], words: tuple[str, ...]) -> int | None:
    """The first table row containing any of `words`."""
    return next((i for i, line in enumerate(lines) if line.is_table and any(w in line.text for w in words)), None)


def _joined_wins(joined: RowSpec | None, alone: RowSpec | None, pending: str, label: str) -> bool:
    """Whether a row label is the second half of the label left pending on the line before.

    Yes when only the joined text names a row, or when the joined text names a row whose anchor
    spans the break (`…参加政府网站` + `在线访谈次数`: the second half alone would name a broader row).
    """
    if joined is None:
        return False
    if alone is None:
        return True
    anchor = joined.anchor or ""
    return anchor not in pending and anchor not in label and anchor in pending + label


def _longest(rows: list[RowSpec], label: str) -> RowSpec | None:
    hits = [row for row in rows if row.anchor and row.anchor in label]
    return max(hits, key=lambda row: len(row.anchor or ""), default=None)


# --- new template -------------------------------------------------------------------------


def _art20_item(label: str) -> str | None:
    hits = [(len(anchor), key) for key, _, anchor in ART20_ITEMS if anchor in label]
    return max(hits)[1] if hits else None


def _read_art20(lines: Sequence[_Line], sheet: _Sheet) -> None:
    """The 第二十条 sub-tables: each `信息内容` header row says which columns its rows carry."""
    start = _start(lines, ("第二十条", "信息内容"))
    if start is None:
        return
    columns: list[str | None] | None = None
    pending = ""
    for line in _table_lines(lines, start):
        if any(word in line.text for word in ("申请人情况", "本年新收", "自然人")):
            break
        label, tail = _split(line.cells)
        named = [next((key for anchor, key in ART20_COLUMN_ANCHORS if anchor in cell), None) for cell in line.cells]
        if not any(tail) and any(named):
            # the header row: 信息内容 (or what a line break left of it), then one cell per column
            first = 1 if named[0] is None else 0
            width = len(line.cells)
            while width > first and not line.cells[width - 1]:
                width -= 1
            columns = named[first:width]
            continue
        if "第二十条" in label:
            pending = ""
            continue
        if not any(tail):
            pending = label
            continue
        item = _art20_item(label)
        if item is None and pending:
            label = pending + label
            item = _art20_item(label)
        pending = ""
        if item is None:
            sheet.extra(label, tail, "第二十条表中无法识别的行 (row label not recognised)")
            continue
        values = align(tail, len(columns)) if columns is not None else None
        if values is None:
            note = "缺少表头或数值与表头列数对不上 (no header, or values do not line up with it)"
            sheet.extra(label, tail, note)
            continue
        for column, cell in zip(columns, values):
            if column is not None and (item, column) in ART20_CELLS:
                sheet.put(f"new.art20.{item}.{column}", cell)
            elif cell:
                sheet.extra(label, [cell], "第二十条表中无此栏 (column not in the template)")


def _match_request(label: str, group: str | None) -> tuple[RowSpec | None, str | None]:
    """The applications-table row a label names, and the group heading in force after it."""
    found = [(label.rfind(anchor), key) for key, anchor in REQUEST_GROUPS.items() if anchor in label]
    if found:
        group = max(found)[1]
    row = _longest([r for r in REQUEST_ROWS if r.group], label)
    if row is not None:
        group = row.group
    elif group:
        ordinal = _ORDINAL.search(label)
        if ordinal:
            row = next((r for r in REQUEST_ROWS if r.group == group and r.ordinal == int(ordinal.group(1))), None)
    if row is None:
        row = _longest([r for r in REQUEST_ROWS if not r.group], label)
        if row is not None and row.key != "other":
            group = None
    return row, group


def _read_requests(lines: Sequence[_Line], sheet: _Sheet) -> None:
    """The applications table: 7 value columns per row, rows named by label anchors and groups."""
    start = _start(lines, ("申请人情况", "自然人", "本年新收"))
    if start is None:
        return
    group: str | None = None
    pending = ""
    columns = [key for key, _ in REQUEST_COLUMNS]
    for line in _table_lines(lines, start):
        if "结果维持" in line.text or ("行政复议" in line.text and "行政诉讼" in line.text):
            break
        label, tail = _split(line.cells)
        if not any(tail):
            if not any(word in label for word in _REQUEST_HEADER_WORDS):
                group = _match_request(label, group)[1]
                pending = label
            continue
        row, new_group = _match_request(label, group)
        if pending:
            joined, joined_group = _match_request(pending + label, group)
            if _joined_wins(joined, row, pending, label):
                row, new_group, label = joined, joined_group, pending + label
        group, pending = new_group, ""
        if row is None:
            sheet.extra(label, tail, "申请情况表中无法识别的行 (row label not recognised)")
            continue
        values = align(tail, len(columns))
        if values is None:
            note = f"{len([c for c in tail if c])}个数值对不上{len(columns)}栏 (values do not line up with the columns)"
            sheet.extra(label, tail, note)
            continue
        for column, cell in zip(columns, values):
            sheet.put(f"new.requests.{row.key}.{column}", cell)
        if row.key == "carried_over":
            break


def _read_review(lines: Sequence[_Line], sheet: _Sheet) -> None:
    """The 行政复议 / 行政诉讼 table: one row of 15 values under a two- or three-line header."""
    starts = (i for i, line in enumerate(lines) if line.is_table and "行政复议" in line.text and "行政诉讼" in line.text)
    start = next(starts, _start(lines, ("结果维持",)))
    if start is None:
        return
    values: list[str] = []
    for line in lines[start + 1 :]:
        if not line.is_table:
            if len(line.text) > _PROSE_LEN or (values and line.text):
                break
            continue
        label, tail = _split(line.cells)
        if label:
            if values:
                break
            continue
        values.extend(tail)
    if not any(values):
        return
    aligned = align(values, len(REVIEW_COLUMNS))
    if aligned is None:
        sheet.extra("行政复议、行政诉讼", values, "数值与15栏对不上 (values do not line up with the 15 columns)")
        return
    for (key, _), cell in zip(REVIEW_COLUMNS, aligned):
        sheet.put(key, cell)


# --- old template -------------------------------------------------------------------------

_OLD_ANCHOR_COUNT = {row.anchor: sum(r.anchor == row.anchor for r in OLD_ROWS) for row in OLD_ROWS}


def _match_old(label: str, section: str | None) -> tuple[RowSpec | None, str | None, bool]:
    """The row a label names, the section in force after it, and whether it is a section heading."""
    heading = False
    if _SECTION_NUMBER.match(label):
        for key, (_, anchor) in OLD_SECTIONS.items():
            if anchor in label:
                section, heading = key, True
    hits = [row for row in OLD_ROWS if row.anchor and row.anchor in label]
    pool = [row for row in hits if row.group == section] or [row for row in hits if _OLD_ANCHOR_COUNT[row.anchor] == 1]
    row = max(pool, key=lambda r: len(r.anchor or ""), default=None)
    if row is not None:
        section = row.group
    return row, section, heading


def _read_old(lines: Sequence[_Line], sheet: _Sheet) -> None:
    """The 统计指标 / 单位 / 统计数 table: label, unit, one value per row, in sections 一 to 九."""
    start = _start(lines, _OLD_MARKERS)
    if start is None:
        return
    section: str | None = None
    pending = ""
    for line in _table_lines(lines, start):
        label, tail = _split(line.cells)
        # The unit column: a unit, or a placeholder (——) standing where the unit goes.
        first = next((i for i, cell in enumerate(tail) if cell), None)
        unit = None
        if first is not None and (tail[first] in _UNIT_CELLS or (PLACEHOLDER.match(tail[first]) and first < len(tail) - 1)):
            unit, tail = tail[first], tail[first + 1 :]
        if not unit and not any(tail):
            if label and not all(word in _OLD_HEADER_WORDS for word in line.cells if word):
                section = _match_old(label, section)[1]
                pending = label
            continue
        row, new_section, heading = _match_old(label, section)
        if pending:
            joined, joined_section, joined_heading = _match_old(pending + label, section)
            if _joined_wins(joined, row, pending, label):
                row, new_section, heading, label = joined, joined_section, joined_heading, pending + label
        section, pending = new_section, ""
        values = [cell for cell in tail if cell]
        if row is None:
            note = (
                "标题行上的数值，模板此处没有统计项 (value on a heading row; the template has no indicator here)"
                if heading or (unit and PLACEHOLDER.match(unit))
                else "统计表中无法识别的行 (row label not recognised)"
            )
            sheet.extra(label, values, note)
        elif len(values) > 1:
            sheet.fail(row.key, f"一行有多个数值：{'、'.join(values)} (several values in one row)")
        else:
            sheet.put(row.key, values[0] if values else "", unit if unit in _UNIT_CELLS else None)


# --- bytype: one cell per line ------------------------------------------------------------


def _read_bytype(lines: Sequence[_Line], sheet: _Sheet) -> bool:
    """The `信息类型 | 数量 |` table, one cell per line, read as label/value pairs after its header.

    Blank lines and page numbers (a page break) do not end it; any other line of text does.
    """
    runs: list[list[str]] = []
    run: list[str] = []
    for line in lines:
        if line.is_table and len(line.cells) == 1:
            run.append(line.cells[0])
        elif run and not PAGE_NUMBER.match(line.text):
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    found = False
    for cells in runs:
        if len(cells) < 2 or "类型" not in cells[0] or cells[1] != "数量":
            continue
        found = True
        body = cells[2:]
        for label, raw in zip(body[::2], body[1::2]):
            row = _longest(list(BYTYPE_ROWS), label)
            if row is None:
                sheet.extra(label, [raw], "主动公开信息表中未定义的类别 (category not in the bytype group)")
            else:
                sheet.put(row.key, raw)
    return found


def _read_new(tables: _Tables) -> _Sheet:
    """The new template's tables by rows where they are printed as rows; by the page-text reader
    where they are not, or where the rows gave less than half the cells (a stray tabbed line
    carrying a table's word is no table). Ties go to the rows."""
    rows = _Sheet()
    if tables.as_rows:
        _read_art20(tables.lines, rows)
        _read_requests(tables.lines, rows)
        _read_review(tables.lines, rows)
        if rows.read * 2 >= len(_expected(NEW, tables.edition)):
            return rows
    flat = _Sheet()
    stream.read_new(tables.flat, tables.edition, flat)
    return flat if flat.read > rows.read else rows


def _expected(template: str, edition: str | None) -> list[IndicatorDef]:
    """The indicators a report must print; both editions' common ones when the edition is unknown."""
    if template == NEW and edition is None:
        return [d for d in definitions(NEW) if d.editions == BOTH]
    return definitions(template, edition)


def extract_stats(text: str) -> StatsResult:
    """Every statistics-table indicator of a report, read from its text as extracted from the file."""
    tables = _tables(text)
    lines, template, edition = tables.lines, tables.template, tables.edition
    sheet = _Sheet()
    indicators: list[Indicator] = []
    if template == NEW:
        sheet = _read_new(tables)
    elif template == OLD:
        _read_old(lines, sheet)
    if template is not None:
        indicators.extend(sheet.indicators(template, _expected(template, edition)))
    if _read_bytype(lines, sheet):
        indicators.extend(sheet.indicators(BYTYPE, definitions(BYTYPE)))
    return StatsResult(template, indicators, sheet.unmapped, edition)
