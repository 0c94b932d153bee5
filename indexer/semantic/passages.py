"""What gets embedded: prose paragraphs, long ones cut into chunks at sentence ends.

Why chunk: a 400–500-character paragraph often covers several topics, and one vector for
all of them matches none well (NOTES: most retrieval misses came from such paragraphs).
Why normalised text: the embedding cache is keyed by it, so the same boilerplate written
with other spaces or full-width forms is embedded once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..normalize import normalize

CHUNKER_VERSION = 5
"""Recorded with the vectors: a change to the chunking or to the embedded text re-embeds
instead of mixing. 2: short paragraphs merged forward, section heading in front.
3: windows of two sentences (:func:`windows`). 4: windows only for passages of
:data:`WINDOW_MIN_CHARS`, without overlap; fragments under :data:`FRAGMENT_CHARS` dropped.
5: statistics tables flattened into prose (:func:`looks_tabular`) dropped.
Each text is made as before, so :data:`EMBED_RECIPE` and the cache stay: the new generation
is built from cached vectors."""

EMBED_RECIPE = "sym-heading-merge/1"
"""How the embedded text is made (the symmetric ``query: `` prompt for e5, heading in front,
short paragraphs merged forward); part of every embedding-cache key, so vectors made the old
way are never taken for new ones."""

MAX_CHARS = 160
"""A chunk is cut at the last sentence end before this many characters."""

MIN_CHARS = 6
"""Shorter passages (page numbers, lone item marks) carry no meaning worth a vector."""

FRAGMENT_CHARS = 12
"""A passage shorter than this with no short paragraph merged in front is a fragment (a
table's `只计这一情形，`, `无其他需要报告的事项`, a lone sub-heading, an excerpt cut short)
and is not embedded. Measured (issue 25, docs/performance.md): such fragments topped misses
of bench/eval_semantic_fresh.json; dropping them cost nothing on either set."""

WINDOW_MIN_CHARS = 120
"""Only a passage this long (normalised, its own text) gets :func:`windows`: in a shorter one
two sentences are most of the passage, which its own vector matches already. Measured
(issue 25, with :data:`FRAGMENT_CHARS`): 15 % fewer texts to embed, R@5 0.929 -> 0.905 on
bench/eval_semantic.json (one query) and 0.743 -> 0.770 on bench/eval_semantic_fresh.json."""

MERGE_BELOW = 40
"""A paragraph shorter than this (normalised characters) is embedded in front of the next
paragraph of its section instead of alone. Measured on bench/eval_semantic.json: short
fragments (000's `（1）单位业务单一…`) matched every query vaguely and topped seven misses."""

# A number as a table cell gives it: digits (spaced cells too, `0 0 0`), decimals kept whole.
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[ \t]+\d+(?:\.\d+)?)*")
# What follows a number in a sentence: a unit or counter (`240条`, `5.3%`, `2019年`) or punctuation.
_QUANTITY_NEXT = frozenset("年月日号时分秒条件个次项家人名户份期篇场批类元万亿千百余多%‰米吨亩座所台辆天周届岁倍位起宗例张本册"
                           "页部章节款度枚套栋间处级轮-:：/，,、。；;")
TABLE_CELLS = 3
"""A passage with this many bare numbers (:func:`looks_tabular`), one per 40 characters or
denser, is a flattened table."""

_ENUMERATION = re.compile(r"^(?:第?[一二三四五六七八九十]+[、.．部分]+|[（(][一二三四五六七八九十\d]+[)）]|\d+[、.．])\s*")

_SENTENCE = re.compile(r"[^。！？；!?;]*(?:[。！？；!?;]+|$)")
_CLAUSE = re.compile(r"[^，,、：:]*(?:[，,、：:]+|$)")


@dataclass(frozen=True)
class Passage:
    """One embedded unit: a chunk [start, end) of one stored paragraph's text."""

    report_id: str
    section_ord: int
    para_ord: int
    start: int
    end: int
    section_kind: str
    text: str  # the chunk as stored (for display)
    context: str = ""  # normalised text embedded in front of it: section heading, merged short paragraphs
    first_para: int = -1  # ord of the first short paragraph merged into it (-1: none); shown with it

    @property
    def first(self) -> int:
        """Ord of the first paragraph the passage shows: a merged short one, or its own."""
        return self.first_para if self.first_para >= 0 else self.para_ord

    @property
    def norm(self) -> str:
        return normalize(self.text)

    @property
    def embed_text(self) -> str:
        """What the model embeds (after its prompt): context, then the normalised chunk."""
        return self.context + self.norm


def _bare_numbers(norm: str) -> list[str]:
    """Numbers glued between labels with no unit or punctuation after them: a table's cells
    as a page's text gives them (`规章000规范性文件898989`, `予以公开7000007（二）`)."""
    cells = []
    for m in _NUMBER.finditer(norm):
        before = norm[m.start() - 1] if m.start() else "。"
        after = norm[m.end()] if m.end() < len(norm) else ""
        glued = "\u4e00" <= before <= "\u9fff" and before != "第" or before in ")）"
        if not glued or after in _QUANTITY_NEXT:
            continue
        cells.append(m.group().replace(" ", "").replace("\t", ""))
    return cells


def looks_tabular(norm: str) -> bool:
    """A statistics table flattened into one run of text, not prose: many bare numbers, or a
    row of zeros (`00000002.其他法律…`, `尚未审结总计000000000000000`).

    Why: a page whose tables lost their cells gives passages of labels and digits that sit
    near every query about requests or reviews and push the prose that answers down (issue 25:
    three of `bench/eval_semantic_fresh.json`'s queries had one in their first three). Their
    numbers are read by the statistics parser, and exact search finds every word in them."""
    cells = _bare_numbers(norm)
    if len(cells) >= TABLE_CELLS and len(cells) * 40 >= len(norm):
        return True
    zeros = [c for c in cells if "00000" in c]
    return len(cells) >= 2 and bool(zeros) or any(len(c) >= 10 and set(c) == {"0"} for c in cells)


def windows(passage: Passage) -> list[str]:
    """Extra texts embedded for a passage of :data:`WINDOW_MIN_CHARS` and three or more
    sentences: its sentences two by two without overlap (the last pair ends on the last
    sentence), with the passage's context in front. A query scores the passage by its best
    vector (the passage's or a window's), so one sentence of a long passage can match alone.
    Measured on bench/eval_semantic.json: semantic R@5 0.857 -> 0.929 with every overlapping
    pair of every passage; these fewer windows keep 0.905 (docs/performance.md, issue 25)."""
    norm = passage.norm
    if len(norm) < WINDOW_MIN_CHARS:
        return []
    sentences = [norm[a:b] for a, b in _pieces(norm, _SENTENCE)]
    if len(sentences) <= 2:
        return []
    starts = list(range(0, len(sentences) - 1, 2))
    if starts[-1] != len(sentences) - 2:
        starts.append(len(sentences) - 2)
    return [passage.context + sentences[i] + sentences[i + 1] for i in starts]


def heading_context(heading: str | None) -> str:
    """``{heading}：`` without its enumeration (五、 / （二）), normalised; empty for no heading.

    Why: a passage alone (`人员不足，影响时效`) does not say it is a problem; with
    `存在的主要问题及改进情况：` in front, queries and section comparisons find it
    (bench/semantic.py: R@5 0.81 -> 0.88 with the heading)."""
    norm = _ENUMERATION.sub("", normalize(heading or "")).strip()
    return f"{norm}：" if norm else ""


def _pieces(text: str, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in pattern.finditer(text) if m.end() > m.start()]


def _split_long(start: int, end: int, text: str, max_chars: int) -> list[tuple[int, int]]:
    """A sentence longer than a chunk: cut at clause marks, and hard where even a clause is too long."""
    out: list[tuple[int, int]] = []
    for a, b in _pieces(text[start:end], _CLAUSE):
        a, b = a + start, b + start
        while b - a > max_chars:
            out.append((a, a + max_chars))
            a += max_chars
        out.append((a, b))
    return out


def chunk_spans(text: str, max_chars: int = MAX_CHARS) -> list[tuple[int, int]]:
    """[start, end) spans covering ``text``: whole sentences (。！？；) packed up to ``max_chars``."""
    units: list[tuple[int, int]] = []
    for a, b in _pieces(text, _SENTENCE):
        units.extend(_split_long(a, b, text, max_chars) if b - a > max_chars else [(a, b)])
    spans: list[tuple[int, int]] = []
    for a, b in units:
        if spans and b - spans[-1][0] <= max_chars:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


def iter_passages(rows: Iterable, max_chars: int = MAX_CHARS,
                  headings: dict[tuple[str, int], str] | None = None) -> Iterator[Passage]:
    """Passages of paragraph rows (``store.paragraphs()`` rows, or dicts with the same keys),
    in row order.

    ``headings`` maps (report id, section ord) to the section's heading, embedded in front of
    each passage. A paragraph under :data:`MERGE_BELOW` characters is not a passage of its own
    when a paragraph of the same section follows: its text goes in front of that paragraph's
    first chunk, and is shown with it (``first_para``); the heading is embedded, never shown.
    A chunk under :data:`FRAGMENT_CHARS` with nothing merged in front is not a passage, nor is
    one that :func:`looks_tabular`.
    """
    headings = headings or {}
    pending: list[str] = []
    pending_first = -1
    pending_section: tuple[str, int] | None = None
    rows = list(rows)
    for n, row in enumerate(rows):
        section = (row["report_id"], row["section_ord"])
        if section != pending_section:
            pending, pending_first, pending_section = [], -1, section
        text = row["text"]
        norm = normalize(text)
        following = rows[n + 1] if n + 1 < len(rows) else None
        if len(norm) < MERGE_BELOW and following is not None \
                and (following["report_id"], following["section_ord"]) == section:
            pending.append(norm)
            pending_first = row["ord"] if pending_first < 0 else pending_first
            continue
        head = heading_context(headings.get(section))
        first = True
        for a, b in chunk_spans(text, max_chars):
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            chunk = text[a:b]
            norm_chunk = normalize(chunk)
            size = len(norm_chunk)
            if size >= MIN_CHARS and (size >= FRAGMENT_CHARS or (first and pending)) and not looks_tabular(norm_chunk):
                context = head + ("".join(pending) if first else "")
                yield Passage(row["report_id"], row["section_ord"], row["ord"], a, b, row["section_kind"], chunk,
                              context, pending_first if first else -1)
                first = False
        pending, pending_first = [], -1
