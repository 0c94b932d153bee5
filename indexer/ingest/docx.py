"""DOCX through python-docx: paragraphs and table rows (cells tab-separated) in document order.

A paragraph's text is every run Word shows: python-docx's own `text` leaves out tracked
insertions (a report sent round for review keeps them) and content controls, and its block
walk skips paragraphs inside content controls. Deleted text and the fallback copy of a text
box stay out. Word's automatic numbering is rendered in front of its paragraphs: reports number
their headings that way too (一、总体情况 … 五、存在的主要问题及改进情况); without the
numbers no section would be found.

Pages: where a page begins is known only at an explicit break (a page break, a paragraph set to
start a page, a section starting on a new page); where text flows onto the next page depends on
Word's layout, which is not in the file. So pages are given only when the explicit breaks
account for every page Word counted when it last saved the file (docProps/app.xml), else none.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator

from .base import Extracted, IngestError, joined_pages

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Subtrees that are not shown as text: deletions, properties, ruby guides, a text box's fallback copy.
_HIDDEN = {f"{_W}{tag}" for tag in ("del", "moveFrom", "pPr", "rPr", "sdtPr", "rt")} | {_MC_FALLBACK}
_CHARS = {f"{_W}tab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}
_PAGE = "\f"  # marks an explicit page break while the text is gathered (XML text cannot hold one)
_APP_PROPERTIES = "application/vnd.openxmlformats-officedocument.extended-properties+xml"


def read(data: bytes) -> Extracted:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise IngestError(f"not a readable DOCX file ({type(exc).__name__})") from None
    pages = "\n".join(_lines(document.element.body, document, _Numbering(document))).split(_PAGE)
    extracted = joined_pages(pages, "")
    if len(pages) != _saved_page_count(document):
        extracted.page_starts = None
    return extracted


def _saved_page_count(document) -> int | None:
    """The page count the application that last saved the file wrote in docProps/app.xml."""
    for part in document.part.package.iter_parts():
        if part.content_type == _APP_PROPERTIES:
            found = re.search(rb"<(?:\w+:)?Pages>\s*(\d+)\s*<", part.blob)
            return int(found.group(1)) if found else None
    return None


def _page_breaks(paragraph) -> tuple[str, str]:
    """Explicit page breaks before and after a paragraph: its own `pageBreakBefore`, and a
    section break in its properties that starts the next section on a new page."""
    ppr = paragraph.find(f"{_W}pPr")
    if ppr is None:
        return "", ""
    before = ppr.find(f"{_W}pageBreakBefore")
    before = before is not None and before.get(f"{_W}val", "true") not in ("0", "false", "off")
    section = ppr.find(f"{_W}sectPr")
    kind = section.find(f"{_W}type") if section is not None else None
    after = section is not None and (kind is None or kind.get(f"{_W}val") != "continuous")
    return _PAGE * before, _PAGE * after


def _lines(element, parent, numbering: "_Numbering") -> Iterator[str]:
    """A document's or a cell's paragraphs and table rows; a row whose cells hold tables (a frame
    around the content, as some reports put their statistics) is read cell by cell instead."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for block in _blocks(element):
        if block.tag == f"{_W}p":
            # Tabs before or after a paragraph's text indent it; they do not make it a table row.
            before, after = _page_breaks(block)
            yield before + numbering.label(Paragraph(block, parent)) + _text(block).strip("\t") + after
            continue
        for row in Table(block, parent).rows:
            cells = list({id(cell._tc): cell for cell in row.cells}.values())  # a merged cell recurs
            if any(cell.tables for cell in cells):
                for cell in cells:
                    yield from _lines(cell._tc, cell, numbering)
            else:
                yield "\t".join(_cell_text(cell) for cell in row.cells)


def _blocks(element) -> Iterator:
    """Paragraph and table elements in order, those inside block-level content controls included."""
    for child in element.iterchildren():
        if child.tag in (f"{_W}p", f"{_W}tbl"):
            yield child
        elif child.tag == f"{_W}sdt":
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                yield from _blocks(content)
        elif child.tag == f"{_W}customXml":
            yield from _blocks(child)


def _cell_text(cell) -> str:
    """A table cell's paragraphs, content controls included, one a line (as python-docx's `cell.text`)."""
    return "\n".join(_text(p) for p in _blocks(cell._tc) if p.tag == f"{_W}p").strip()


def _text(element) -> str:
    """The text Word shows for a paragraph: runs, hyperlinks, insertions, content controls, text boxes."""
    out: list[str] = []
    for child in element.iterchildren():
        tag = child.tag
        if tag == f"{_W}t":
            out.append(child.text or "")
        elif tag == f"{_W}p":  # a paragraph of a text box: a line of its own
            out.append(f"\n{_text(child)}\n")
        elif tag in _CHARS:
            if tag != f"{_W}br" or child.get(f"{_W}type") in (None, "textWrapping"):
                out.append(_CHARS[tag])
            elif child.get(f"{_W}type") == "page":
                out.append(_PAGE)
        elif tag not in _HIDDEN and isinstance(tag, str):
            out.append(_text(child))
    return "".join(out)


class _Numbering:
    """The numbers Word draws before numbered paragraphs, counted in document order.

    A paragraph is numbered by its own `numPr` or its style's (numId, level); the list's
    abstract definition gives each level's start, number format and text (`%1、`, `（%2）`).
    Counting a level restarts every deeper one, as Word does.
    """

    def __init__(self, document) -> None:
        self._levels: dict[str, dict[int, tuple[int, str, str]]] = {}  # numId → level → (start, format, text)
        self._counts: dict[str, dict[int, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (NotImplementedError, KeyError):  # no numbering part: nothing is numbered
            return
        try:
            abstract = {a.get(f"{_W}abstractNumId"): _level_table(a) for a in root.iter(f"{_W}abstractNum")}
            for num in root.iter(f"{_W}num"):
                ref = num.find(f"{_W}abstractNumId")
                levels = dict(abstract.get(ref.get(f"{_W}val") if ref is not None else None, {}))
                for override in num.iter(f"{_W}lvlOverride"):
                    level, start = int(override.get(f"{_W}ilvl", 0)), override.find(f"{_W}startOverride")
                    if start is not None and level in levels:
                        levels[level] = (int(start.get(f"{_W}val", 1)), *levels[level][1:])
                self._levels[num.get(f"{_W}numId")] = levels
        except ValueError:  # a malformed definition: the text is still read, without its numbers
            self._levels = {}

    def label(self, paragraph) -> str:
        from docx.exceptions import PythonDocxError

        try:
            found = _num_pr(paragraph)
        except (ValueError, PythonDocxError):  # a malformed numId or level: no number
            return ""
        if found is None or found[0] not in self._levels:
            return ""
        num_id, level = found
        levels = self._levels[num_id]
        if level not in levels:
            return ""
        counts = self._counts.setdefault(num_id, {})
        counts[level] = counts[level] + 1 if level in counts else levels[level][0]
        for deeper in [k for k in counts if k > level]:
            del counts[deeper]
        _, fmt, text = levels[level]
        if fmt in ("bullet", "none"):
            return ""
        for k in range(level, -1, -1):  # %10 before %1
            start, fmt_k, _ = levels.get(k, (1, "decimal", ""))
            text = text.replace(f"%{k + 1}", _format(counts.get(k, start), fmt_k))
        return text


def _level_table(abstract) -> dict[int, tuple[int, str, str]]:
    levels = {}
    for lvl in abstract.iter(f"{_W}lvl"):
        def value(tag: str, default: str) -> str:
            node = lvl.find(f"{_W}{tag}")
            return node.get(f"{_W}val", default) if node is not None else default
        levels[int(lvl.get(f"{_W}ilvl", 0))] = (int(value("start", "1")), value("numFmt", "decimal"),
                                                 value("lvlText", ""))
    return levels


def _num_pr(paragraph) -> tuple[str, int] | None:
    """(numId, level) from the paragraph's properties, else from its style and the styles it is based on."""
    candidates = [paragraph._p.pPr]
    style = paragraph.style if paragraph._p.pPr is None or paragraph._p.pPr.numPr is None else None
    while style is not None:
        candidates.append(style.element.pPr)
        style = style.base_style
    for ppr in candidates:
        num_pr = ppr.numPr if ppr is not None else None
        if num_pr is not None and num_pr.numId is not None:
            num_id = str(num_pr.numId.val)
            return (None if num_id == "0" else (num_id, num_pr.ilvl.val if num_pr.ilvl is not None else 0))
    return None


_DIGITS = "〇一二三四五六七八九"  # ideographDigital: 一〇 for 10
_COUNTING = "零一二三四五六七八九"
_LEGAL = "零壹贰叁肆伍陆柒捌玖"
_STEMS = "甲乙丙丁戊己庚辛壬癸"
_BRANCHES = "子丑寅卯辰巳午未申酉戌亥"


def _counting(n: int, digits: str = _COUNTING, units: str = "十百千") -> str:
    """一, 十, 十一, 二十三, 一百零五: Chinese counting numbers below 10,000."""
    if not 0 < n < 10_000:
        return str(n)
    out, zero = "", False
    for power, unit in ((1000, units[2]), (100, units[1]), (10, units[0]), (1, "")):
        digit = n // power % 10
        if digit:
            out += (digits[0] if zero and out else "") + ("" if digit == 1 and unit == units[0] and not out else digits[digit]) + unit
            zero = False
        elif out:
            zero = True
    return out


def _letters(n: int) -> str:
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1) if n > 0 else str(n)


def _roman(n: int) -> str:
    if not 0 < n < 4000:
        return str(n)
    out = ""
    for value, numeral in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                           (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        count, n = divmod(n, value)
        out += numeral * count
    return out


def _circled(n: int, first: int, last: int) -> str:
    return chr(first + n - 1) if 0 < n <= last else str(n)


_FORMATS: dict[str, Callable[[int], str]] = {
    "chineseCounting": _counting, "chineseCountingThousand": _counting, "japaneseCounting": _counting,
    "taiwaneseCounting": _counting,
    "chineseLegalSimplified": lambda n: _counting(n, _LEGAL, "拾佰仟"),
    "ideographLegalTraditional": lambda n: _counting(n, _LEGAL, "拾佰仟"),
    "ideographDigital": lambda n: "".join(_DIGITS[int(d)] for d in str(n)),
    "ideographTraditional": lambda n: _STEMS[(n - 1) % 10], "ideographZodiac": lambda n: _BRANCHES[(n - 1) % 12],
    "decimalEnclosedCircle": lambda n: _circled(n, 0x2460, 20),
    "decimalEnclosedCircleChinese": lambda n: _circled(n, 0x2460, 20),
    "ideographEnclosedCircle": lambda n: _circled(n, 0x3220, 10),
    "decimalEnclosedParen": lambda n: f"({n})", "decimalEnclosedFullstop": lambda n: f"{n}.",
    "decimalZero": lambda n: f"{n:02d}",
    "lowerLetter": _letters, "upperLetter": lambda n: _letters(n).upper(),
    "lowerRoman": _roman, "upperRoman": lambda n: _roman(n).upper(),
}


def _format(n: int, fmt: str) -> str:
    return _FORMATS.get(fmt, str)(n)
