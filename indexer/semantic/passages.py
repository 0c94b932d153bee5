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

CHUNKER_VERSION = 1
"""Recorded with the vectors: a change to the chunking below re-embeds instead of mixing."""

MAX_CHARS = 160
"""A chunk is cut at the last sentence end before this many characters."""

MIN_CHARS = 6
"""Shorter passages (page numbers, lone item marks) carry no meaning worth a vector."""

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

    @property
    def norm(self) -> str:
        return normalize(self.text)


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


def iter_passages(rows: Iterable, max_chars: int = MAX_CHARS) -> Iterator[Passage]:
    """Passages of paragraph rows (``store.paragraphs()`` rows, or dicts with the same keys)."""
    for row in rows:
        text = row["text"]
        for a, b in chunk_spans(text, max_chars):
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            chunk = text[a:b]
            if len(normalize(chunk)) >= MIN_CHARS:
                yield Passage(row["report_id"], row["section_ord"], row["ord"], a, b, row["section_kind"], chunk)
