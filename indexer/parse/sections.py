"""Top-level sections, their canonical kinds, and the paragraphs and table rows inside them.

Reports follow the 条例's outline (一、总体情况 … 五、存在的主要问题及改进情况), but each agency
words the headings its own way; the kind (one of `indexer.core.kinds.SECTION_KINDS`) lets users
compare like with like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..normalize import normalize

# Heading patterns in priority order: 存在问题及下一步打算 is a problems section, and
# 因…申请行政复议 is about review, not requests. Old-template reports word the problems section
# many ways (存在的不足和改进措施, 存在的困难和问题, 工作中存在的问题, 主要问题和改进措施).
_KIND_RULES: list[tuple[str, re.Pattern[str]]] = [(kind, re.compile("|".join(patterns))) for kind, patterns in [
    ("problems", ("存在.{0,6}(问题|不足|困难|差距)", "主要问题", "问题(与|和|及)不足", "不足之处",
                  "改进(情况|措施|方向)", "整改措施")),
    ("plans", ("下一步", "明年", "下年", "今后", "工作计划", "工作思路", "计划安排", "工作打算", "工作要点", "工作安排")),
    ("review_litigation", ("行政复议", "行政诉讼")),
    ("fees", ("收费", "减免")),
    ("requests", ("依申请", "收到和处理", "处理政府信息公开申请", "申请公开")),
    ("interpretation", ("解读",)),
    ("responses", ("回应",)),
    ("proactive", ("主动公开",)),
    ("overview", ("总体", "概述", "概况", "基本情况")),
]]

_NUMERALS = "一二三四五六七八九十"
# A top-level heading's number in the four outline styles.
# The lookahead names every number's first character, so the regex engine passes the others by
# without trying each alternative (the same matches, in two thirds of the time).
_NUMBERED = re.compile(
    rf"(?=[第{_NUMERALS}(（\d])(?:第(?P<part>[{_NUMERALS}]+)部分|(?P<cn>[{_NUMERALS}]+)\s*[、.．]"
    rf"|[(（]\s*(?P<paren>[{_NUMERALS}]+)\s*[)）]\s*、?|(?P<arabic>\d{{1,2}})\s*[、.．](?!\d))\s*")
# Where a heading starts: a line, or (saved web pages flatten the report) a sentence or a gap.
_BOUNDARY = "\n。！？!?；;"
# What may follow a run-in title: its body. Another number right after it makes it a list item
# (`全文包括：一、概述；二、主动公开…`).
_LIST_NEXT = re.compile(rf"[\s；;，,、。]*(?:[{_NUMERALS}]+\s*、|第[{_NUMERALS}]+部分)")
_APPENDIX = re.compile(r"(?=附[件表])(?<![^\n。！？；!?;\s])(附件|附表)(?=\s*\d*\s*[:：]|\s*\d|\s*$)", re.M)  # 附 first: faster
_ITEM_START = re.compile(rf"^(?:[(（]\s*[{_NUMERALS}\d]+\s*[)）]|\d+\s*[、.．]|[{_NUMERALS}]+是)")
_SENTENCE_END = tuple("。！？!?；;：:")
_HEADING_MAX = 40
# Where a heading run into its body (`四、…改进情况目前，我县…`, `一、总体情况2019年，`) stops at
# the latest: a gap, punctuation, a sub-item's number or a year.
_TITLE_STOP = re.compile(rf"\s|[。！？!?；;，,：:(（]|\d{{4}}|\d+\s*[、.．]|[{_NUMERALS}]+是")
# Outline titles name a topic; they end in one of these words, never in a sentence.
_TITLE_END = re.compile("(情况|概述|概况|事项|措施|打算|不足|问题|计划|思路|方向|对策|安排|设想)")
# Row labels of the 2019 template's statistics tables, numbered like headings (四、结转下年度继续办理).
_TABLE_LABELS = ("本年新收", "上年结转", "本年度办理结果", "结转下年度", "申请人情况")
# A line holding nothing but a short title, no number in front (`主要问题和改进措施`).
_BARE_LINE = re.compile(rf"^[ \t\u3000]*(?P<title>[^\s\d(（{_NUMERALS}第][^\n]{{1,24}}?)[ \t\u3000]*$", re.M)


def _numeral_value(numeral: str) -> int:
    """一 → 1 … 十九 → 19, 5 → 5; enough for report outlines."""
    if numeral.isdigit():
        return int(numeral)
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


def _kind_of(norm_heading: str) -> str | None:
    return next((kind for kind, pattern in _KIND_RULES if pattern.search(norm_heading)), None)


def classify_heading(heading: str, position: int = 0) -> str:
    """The canonical kind of a section heading; the first section defaults to the overview."""
    return _kind_of(normalize(heading)) or ("overview" if position == 1 else "other")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("\t") if cell.strip()]


def is_table_row(line: str) -> bool:
    """Tables come out of PDFs as tab-separated rows, or (one cell per line) as `cell |`.

    A "row" whose one filled cell holds a sentence is prose that a ruled table's grid happened
    to cover (pdfplumber reads the lines just above a table into it).
    """
    if line.rstrip().endswith("|"):
        return True
    if "\t" not in line.strip("\n"):
        return False
    cells = _cells(line)
    return len(cells) != 1 or not (cells[0].endswith(_SENTENCE_END) or len(cells[0]) > _HEADING_MAX)


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


@dataclass
class _Heading:
    start: int  # where the number starts
    end: int  # where the section's body starts
    title: str  # as shown: the number, then the title
    style: str  # "cn" 一、, "part" 第一部分, "paren" （一）, "arabic" 1., or "appendix"
    number: int  # -1 for an appendix
    outline: bool  # the title names an outline topic, not just any numbered line


def _is_outline(title: str) -> bool:
    """A topic, as outline titles are (存在的主要问题及改进情况), not a sentence or a slogan."""
    norm = normalize(title)
    if not norm or len(norm) > _HEADING_MAX or any(c in norm for c in "。!?;,，；"):
        return False
    return _kind_of(norm) is not None or bool(_TITLE_END.search(norm[-2:]))


def _line_title(rest: str) -> str | None:
    """The title when the heading is the whole line (a single table cell counts); None if not."""
    cells = _cells(rest)
    title = cells[0] if cells else ""
    if len(normalize(title)) > _HEADING_MAX:
        return None
    if title.endswith(_SENTENCE_END):  # `五、存在的主要问题及改进情况。`: a title, not a sentence
        title = title.rstrip("".join(_SENTENCE_END) + " ")
        return title if _is_outline(title) else None
    return title


def _run_in_title(rest: str) -> str | None:
    """The title of a heading its body runs on from; None unless it ends as outline titles do."""
    title = rest[:match.start()] if (match := _TITLE_STOP.search(rest)) else rest
    ends = list(_TITLE_END.finditer(title[:_HEADING_MAX]))
    if not ends:
        return None
    title = title[:ends[-1].end()]
    return title if _is_outline(title) else None


def _candidates(text: str) -> list[_Heading]:
    """Every numbered line or run-in title that could be a top-level heading, in text order."""
    found = []
    for match in _NUMBERED.finditer(text):
        style = match.lastgroup
        number = _numeral_value(match.group(style))
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        line_end = len(text) if line_end < 0 else line_end
        rest = text[match.end():line_end]
        title, end = None, line_end + 1
        if not text[line_start:match.start()].strip():
            if rest.rstrip().endswith("|") or len(_cells(rest)) > 1:
                continue  # a table row
            title = _line_title(rest)
        if title is None:
            title = _run_in_title(rest)
            if title is None or _LIST_NEXT.match(rest, len(title)):
                continue
            # Glued to the text before it (`…32.52元三、收到和处理…` after a flattened table): only
            # a later heading whose title names a section kind.
            if match.start() and text[match.start() - 1] not in _BOUNDARY and not text[match.start() - 1].isspace():
                if number < 2 or _kind_of(normalize(title)) is None:
                    continue
            end = match.end() + len(title)
        if normalize(title).startswith(_TABLE_LABELS):
            continue
        gap = " " if style == "part" else ""  # 第一部分 总体情况; 一、总体情况
        shown = text[match.start():match.end()].strip() + gap + title.strip()
        found.append(_Heading(match.start(), min(end, len(text)), shown, style, number, _is_outline(title)))
    return found


def _chain(candidates: list[_Heading], style: str, first: int) -> list[_Heading]:
    chain: list[_Heading] = []
    for heading in candidates:
        if heading.style == style and heading.number == first + len(chain):
            chain.append(heading)
    return chain


def _outline(candidates: list[_Heading]) -> list[_Heading]:
    """The top-level headings: a run 1, 2, 3… in one numbering style.

    第一部分 is always the top level, and 一、 is unless 第一部分 numbers two or more; （一） and 1.
    number sub-items in most reports, so they count only with outline titles and at least two
    in a run. A run that starts at 二 takes as its first heading an outline title numbered 1 in
    another style (`1. 总体情况` where a web page turned the first heading into a list item).
    """
    outlined = [c for c in candidates if c.outline]
    parts, cn = (_chain(candidates, style, 1) or _chain(outlined, style, 2) for style in ("part", "cn"))
    best = parts if len(parts) >= 2 else cn or parts
    if not best:
        for style in ("paren", "arabic"):
            chain = _chain(outlined, style, 1)
            if len(chain) >= 2 and len(chain) > len(best):
                best = chain
    if best and best[0].number == 2:
        first = [c for c in candidates if c.number == 1 and c.outline and c.start < best[0].start]
        best = first[-1:] + best
    return best


def _appendices(text: str, after: int) -> list[_Heading]:
    found = []
    for match in _APPENDIX.finditer(text, after):
        line_end = text.find("\n", match.end())
        end = len(text) if line_end < 0 else line_end + 1
        if len(normalize(text[match.start():end])) > _HEADING_MAX:  # its table runs on in the same line
            gap = re.compile(r"\s").search(text, match.end() + 1, match.start() + _HEADING_MAX)
            end = gap.start() if gap else match.start() + _HEADING_MAX
        found.append(_Heading(match.start(), min(end, len(text)), text[match.start():end].strip(), "appendix", -1, False))
    return found


def _unnumbered_problems(text: str, start: int, end: int, number: int) -> _Heading | None:
    """A problems heading the outline forgot to number (`五、行政复议…` then a line `主要问题和改进措施`)
    or numbered after a gap (`三、…` then `六、…存在的主要问题`, a page that lost 四 and 五):
    a line that is only that title, after the last numbered heading. Only this kind, since it is
    the section users compare across reports, and only where no numbered heading has it."""
    for match in _BARE_LINE.finditer(text, start, end):
        title = match.group("title")
        if _is_outline(title) and _kind_of(normalize(title)) == "problems":
            return _Heading(match.start("title"), min(match.end() + 1, len(text)), title, "bare", number, True)
    return None


def _headings(text: str) -> list[_Heading]:
    """The top-level headings in sequence, then the appendices (附件, 附表) after the first."""
    candidates = _candidates(text)
    headings = _outline(candidates)
    if not headings:
        return []
    appendices = _appendices(text, headings[0].end)
    if appendices:  # numbered rows of an appendix's table are not the report's outline
        headings = _outline([c for c in candidates if c.start < appendices[0].start])
    if all(classify_heading(h.title, h.number) != "problems" for h in headings):
        end = appendices[0].start if appendices else len(text)
        last = headings[-1]
        # numbered, but after a gap (三、… then 六、…存在的主要问题: a page that lost 四 and 五)
        skipped = [c for c in candidates if last.start < c.start < end and c.style == last.style
                   and c.number > last.number and c.outline and _kind_of(normalize(c.title)) == "problems"]
        bare = skipped[0] if skipped else _unnumbered_problems(text, last.end, end, last.number + 1)
        headings += [bare] if bare else []
    return headings + appendices


def split_sections(text: str) -> list[Section]:
    """The preamble, then one section per top-level heading, then appendices.

    Headings must come in sequence, which keeps table rows such as `四、结转下年度继续办理`
    from being taken for headings; they may run on into their body on the same line, as in
    saved web pages where a whole report is one line.
    """
    sections: list[Section] = []
    bounds = [_Heading(0, 0, "", "", 0, False)] + _headings(text)
    for i, heading in enumerate(bounds):
        end = bounds[i + 1].start if i + 1 < len(bounds) else len(text)
        body = text[heading.end:end]
        if heading.number == 0 and not body.strip():
            continue
        kind = "other" if heading.number <= 0 else classify_heading(heading.title, heading.number)
        section = Section(kind, heading.title, heading.number, heading.start, end, text[heading.start:end])
        section.paragraphs = split_paragraphs(body, heading.end)
        sections.append(section)
    return sections
