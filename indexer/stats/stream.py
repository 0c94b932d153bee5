"""The new template's tables where a row is not a line: saved web pages that flatten a table into
one long line (`规章000规范性文件898989`), print one cell per line (`0 |`, or cells between blank
lines) or write Markdown-like rows (`| 规章 | 0 | 0 | 0 |`).

Read by the template's grammar instead of by lines: rows are found by their label anchors in
table order, and a row's values are what stands between its label and the next row's. Digits
run together (`230 000023` for 23 0 0 0 0 0 23) are split only when exactly one split gives
the row its own arithmetic (总计 = the applicant columns' sum); otherwise every cell of the row
is None with the reason, never a guess.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Protocol

from ..normalize import normalize
from .cells import PLACEHOLDER, align
from .indicators import (
    ART20_CELLS,
    ART20_COLUMN_ANCHORS,
    ART20_ITEMS,
    BOTH,
    REQUEST_COLUMNS,
    REQUEST_ROWS,
    REVIEW_COLUMNS,
    RowSpec,
)

SEP = "|"  # a cell boundary in the stream; normalised text never contains it otherwise
_VALUE_CHARS = "0123456789.,+-—―─–_/\\*×"
_LABEL_CHAR = rf"[^\d{re.escape(_VALUE_CHARS + SEP)}\s]"
# A label's rest before a row's values, and the next label's start after them: text without
# digits that ends (starts) with a label character. Labels carry no digits but their ordinals.
_LEADING_LABEL = re.compile(rf"^[^\d{re.escape(SEP)}]*{_LABEL_CHAR}")
_TRAILING_LABEL = re.compile(rf"{_LABEL_CHAR}[^\d{re.escape(SEP)}]*$")
_MONEY_UNIT = re.compile(r"^(?:万元|亿元|元)")
_ART20_HEAD = re.compile(r"信息内容(?=.{0,12}(?:制发件数|制作数量|处理决定数量|收费金额|上一年项目数量|采购项目数量))")
_APPLICANTS_HEAD = re.compile(r"申请人情况.{0,40}自然人")
_REQUESTS_HEAD = re.compile(rf"{_APPLICANTS_HEAD.pattern}|本年新收政府信息公开申请数量")
_DIGITS = re.compile(r"^\d+$")
_SPLIT_STEPS = 50_000  # digit splits tried per row before giving up: a row of 7 cells needs far fewer

NOTE_RUN_TOGETHER = "数字连在一起，无法唯一拆分到各栏 (digits run together; no single way to split them)"
NOTE_NOT_ALIGNED = "数值与表头列数对不上 (values do not line up with the columns)"

# Header sequences no prose contains: a table printed, however flattened.
_NEW_EVIDENCE = (_ART20_HEAD, _APPLICANTS_HEAD, re.compile(r"结果维持.{0,6}结果纠正"))


@functools.lru_cache(maxsize=2)
def stream(text: str) -> str:
    """The report as one normalised string, cells and lines separated by `SEP`.

    Blank lines separate nothing (page text puts them between cells and paragraphs alike);
    an empty cell between pipes or tabs is a real empty cell. A leading pipe is a row border.
    Remembered like `extract._lines`: detection and extraction ask for the same text.
    """
    pieces: list[str] = []
    for raw in text.splitlines():
        if "\t" in raw:
            cells = raw.split("\t")
        elif "|" in raw or "｜" in raw:
            stripped = raw.replace("｜", "|").strip()
            cells = stripped.split("|")
            if stripped.endswith("|"):
                cells.pop()
            if stripped.startswith("|") and any(cell.strip() for cell in cells):
                cells.pop(0)
        elif raw.strip():
            cells = [raw]
        else:
            continue
        pieces.extend(normalize(cell).replace(SEP, "") for cell in cells)
    return SEP.join(pieces)


def tables_part(flat: str) -> str:
    """The stream from the first table header on: the prose before it is no table evidence."""
    starts = [match.start() for pattern in _NEW_EVIDENCE if (match := pattern.search(flat))]
    return flat[min(starts):] if starts else ""


def detect(flat: str) -> str | None:
    """``"new"`` or None from header sequences in the stream. (The old template's single table is
    not read from page text, so it is not claimed here either.)"""
    return "new" if tables_part(flat) else None


# --- a row's values out of the text between its label and the next -----------------------------


def _cells(segment: str, next_ordinal: int | None) -> list[str]:
    """The value cells in `segment`: its label's rest stripped from the front, the next row's
    label start (its ordinal `2.` included, glued to the values as flattening leaves it) from the back."""
    if next_ordinal is not None:
        segment = re.sub(rf"{next_ordinal}[.、．][^\d]*$", "", segment)
    cells = segment.split(SEP)
    cells[-1] = _strip_trailing(cells[-1])
    cells[0] = _LEADING_LABEL.sub("", cells[0])
    if len(cells) > 1 and not cells[-1]:
        cells.pop()
    if len(cells) > 1 and not cells[0]:
        cells.pop(0)
    # whole cells of label text: a label's continuation before the values, a heading after them
    held = [i for i, cell in enumerate(cells) if _has_value(cell)]
    if held:
        lo = max((i for i in range(held[0]) if cells[i]), default=-1) + 1
        hi = min((i for i in range(held[-1] + 1, len(cells)) if cells[i]), default=len(cells))
        cells = cells[lo:hi]
    else:  # no value printed: what is not empty is label text
        cells = [cell for cell in cells if not cell]
    return cells


def _has_value(cell: str) -> bool:
    return bool(re.search(r"\d", cell) or PLACEHOLDER.match(cell))


def _strip_trailing(cell: str) -> str:
    """The cell without the next label's start; a money unit right after the number stays."""
    match = _TRAILING_LABEL.search(cell)
    if match is None:
        return cell
    unit = _MONEY_UNIT.match(match.group(0))
    return cell[: match.start()] + (unit.group(0) if unit else "")


def _splits(groups: Sequence[str], n: int, ok: Callable[[list[int]], bool]) -> list[list[int]] | None:
    """Up to two ways to read digit groups as `n` numbers without leading zeros that `ok` accepts
    (`ok` sees every prefix); None when there were too many ways to try."""
    found: list[list[int]] = []
    steps = 0
    left = [sum(len(g) for g in groups[i:]) for i in range(len(groups) + 1)]

    def walk(gi: int, pos: int, acc: list[int]) -> None:
        nonlocal steps
        steps += 1
        if len(found) > 1 or steps > _SPLIT_STEPS or not ok(acc):
            return
        if gi == len(groups):
            if len(acc) == n:
                found.append(list(acc))
            return
        group = groups[gi]
        if pos == len(group):
            walk(gi + 1, 0, acc)
            return
        remaining = left[gi] - pos
        if len(acc) + (len(groups) - gi) > n or remaining < n - len(acc):
            return
        ends = [pos + 1] if group[pos] == "0" else range(pos + 1, len(group) + 1)
        for end in ends:
            acc.append(int(group[pos:end]))
            walk(gi, end, acc)
            acc.pop()

    walk(0, 0, [])
    return None if steps > _SPLIT_STEPS else found


def sums_in_blocks(size: int) -> Callable[[list[int]], bool]:
    """A prefix check: every complete block of `size` numbers ends with the sum of the others."""

    def ok(acc: list[int]) -> bool:
        done = len(acc) // size * size
        return all(sum(acc[i : i + size - 1]) == acc[i + size - 1] for i in range(0, done, size))

    return ok


def _no_check(acc: list[int]) -> bool:
    return True


def row_cells(segment: str, n: int, next_ordinal: int | None = None,
              ok: Callable[[list[int]], bool] = _no_check) -> tuple[list[str] | None, str | None]:
    """The row's `n` cells as printed, or None and the reason (None too when it printed no cells:
    the sheet then says the row has no values)."""
    cells = _cells(segment, next_ordinal)
    if not cells:
        return None, None
    tokens = [token for cell in cells for token in (cell.split(" ") if cell.strip() else [cell])]
    aligned = align(tokens, n)
    if aligned is not None:
        return aligned, None
    if len(tokens) > n and not any(tokens):  # however they line up, every cell is empty
        return [""] * n, None
    # Digits are split only where flattening glued them: within one run, never across cells.
    groups = [token for token in tokens if token]
    if len(cells) > 1 or not groups or not all(_DIGITS.match(g) for g in groups):
        return None, NOTE_NOT_ALIGNED
    found = _splits(groups, n, ok)
    if found is None or len(found) != 1:
        return None, NOTE_RUN_TOGETHER
    return [str(v) for v in found[0]], None


# --- the tables -----------------------------------------------------------------------------------


class Sink(Protocol):
    """Where cells go (`extract._Sheet`): a value, a cell that cannot be read, a value of no indicator."""

    def put(self, key: str, raw: str) -> None: ...

    def fail(self, key: str, note: str) -> None: ...

    def extra(self, label: str, cells: list[str], note: str) -> None: ...


def _emit(sink: Sink, keys: Sequence[str], cells: list[str] | None, note: str | None) -> None:
    for i, key in enumerate(keys):
        if cells is not None:
            sink.put(key, cells[i])
        elif note is not None:
            sink.fail(key, note)


def _find(flat: str, anchor: str | re.Pattern[str], start: int, end: int) -> tuple[int, int] | None:
    if isinstance(anchor, str):
        pos = flat.find(anchor, start, end)
        return (pos, pos + len(anchor)) if pos >= 0 else None
    match = anchor.search(flat, start, end)
    return match.span() if match else None


def _bounds(flat: str) -> tuple[int, int, int, int]:
    """Where the 第二十条 tables, the applications table and the 复议/诉讼 table begin, and where
    the last ends (each -1 / len when not found)."""
    header = _ART20_HEAD.search(flat)
    art20 = header.start() if header else -1
    after = max(art20, 0)
    head = _REQUESTS_HEAD.search(flat, after)
    requests = head.start() if head else -1
    review = flat.find("结果维持", max(requests, after))
    review_head = flat.rfind("行政复议", max(requests, after), review) if review >= 0 else -1
    return art20, requests, review_head if review_head >= 0 else review, len(flat)


def _art20(flat: str, start: int, end: int, sink: Sink) -> None:
    """Each 信息内容 header names the columns of the item rows after it, up to the next header."""
    heads = [m.start() for m in _ART20_HEAD.finditer(flat, start, end)]
    for k, head in enumerate(heads):
        lo, hi = head, heads[k + 1] if k + 1 < len(heads) else end
        items = sorted(
            (span, key) for key, _, anchor in ART20_ITEMS if (span := _find(flat, anchor, lo, hi)) is not None
        )
        if not items:
            continue
        header = flat[lo : items[0][0][0]]
        columns = [key for _, key in sorted((header.find(a), key) for a, key in ART20_COLUMN_ANCHORS if a in header)]
        for i, (span, item) in enumerate(items):
            seg_end = items[i + 1][0][0] if i + 1 < len(items) else hi
            ahead = flat.find("第二十条", span[1], seg_end)
            segment = flat[span[1] : ahead if ahead >= 0 else seg_end]
            cells, note = row_cells(segment, len(columns)) if columns else (None, NOTE_NOT_ALIGNED)
            known = [i for i, col in enumerate(columns) if (item, col) in ART20_CELLS]
            mine = None if cells is None else [cells[i] for i in known]
            _emit(sink, [f"new.art20.{item}.{columns[i]}" for i in known], mine, note)
            if cells:
                stray = [cell for i, cell in enumerate(cells) if i not in known]
                sink.extra(item, stray, "第二十条表中无此栏 (column not in the template)")


def _anchor(row: RowSpec) -> str | re.Pattern[str]:
    """A row's anchor; a row printed only as its number and a common word (3.其他) by both."""
    if row.anchor:
        return row.anchor
    word = normalize(row.label.split()[-1]).lstrip("0123456789.、")
    return re.compile(rf"{row.ordinal}[.、．]{word}(?=[{SEP}\d\s]|$)")


def _requests(flat: str, start: int, end: int, rows: Sequence[RowSpec], sink: Sink) -> None:
    found: list[tuple[tuple[int, int], RowSpec]] = []
    pos = start
    for row in rows:
        span = _find(flat, _anchor(row), pos, end)
        if span is not None:
            found.append((span, row))
            pos = span[1]
    columns = [key for key, _ in REQUEST_COLUMNS]
    for i, (span, row) in enumerate(found):
        following = found[i + 1] if i + 1 < len(found) else None
        segment = flat[span[1] : following[0][0] if following else end]
        next_ordinal = following[1].ordinal if following and following[1].group else None
        cells, note = row_cells(segment, len(columns), next_ordinal, sums_in_blocks(len(columns)))
        _emit(sink, [f"new.requests.{row.key}.{column}" for column in columns], cells, note)


def _review(flat: str, start: int, end: int, sink: Sink) -> None:
    """15 values after the header's last word (the header has no digits; prose after may say 总计)."""
    digit = re.compile(r"\d").search(flat, start, end)
    limit = digit.start() if digit else min(end, start + 300)
    header_end = max((m.end() for m in re.finditer("总计|尚未审结|复议后起诉", flat[start:limit])), default=None)
    if header_end is None:
        return
    values_at = start + header_end
    stop = re.search(r"[^\d\s" + re.escape(SEP + _VALUE_CHARS) + "]", flat[values_at:end])
    segment = flat[values_at : values_at + stop.start() if stop else end]
    cells, note = row_cells(segment, len(REVIEW_COLUMNS), None, sums_in_blocks(5))
    if cells is None and not segment.strip(SEP + " "):
        return
    _emit(sink, [key for key, _ in REVIEW_COLUMNS], cells, note)


def read_new(flat: str, edition: str | None, sink: Sink) -> None:
    """Every cell of the new template's three tables that the stream prints, into `sink`; rows of
    an unknown edition are looked for only where both editions print them."""
    art20, requests, review, end = _bounds(flat)
    if art20 >= 0:
        _art20(flat, art20, requests if requests >= 0 else end, sink)
    if requests >= 0:
        rows = [row for row in REQUEST_ROWS if (row.editions == BOTH if edition is None else edition in row.editions)]
        _requests(flat, requests, review if review >= 0 else end, rows, sink)
    if review >= 0:
        _review(flat, review, end, sink)
