"""The one text rule: how report text and queries are normalised before matching.

PDF extraction breaks words across lines and pages (`监\\n\\n督`), spaces CJK from digits
(`活动 24 次`) and mixes full- and half-width forms. Every index and every query goes
through `normalize`, so a phrase matches whatever the PDF did to it. The offset map lets
a match in normalised text be shown in the original.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Whitespace, plus the invisible characters extraction leaves behind (zero-width, BOM).
_GAP = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")


@lru_cache(maxsize=65536)
def _nfkc(char: str) -> str:
    return unicodedata.normalize("NFKC", char)


def _is_word(char: str) -> bool:
    """Letters and digits of alphabetic scripts: the only neighbours a space survives between."""
    return char.isalnum() and ord(char) < 0x2E80


@dataclass(frozen=True)
class Normalized:
    """Normalised text and, for each of its characters, the index of its source character."""

    text: str
    source: list[int]

    def span_to_source(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of normalised text to the span of original text it came from."""
        if start >= end:
            pos = self.source[start] if start < len(self.source) else (self.source[-1] + 1 if self.source else 0)
            return pos, pos
        return self.source[start], self.source[end - 1] + 1


def _nfkc_with_map(text: str) -> tuple[str, list[int]]:
    if unicodedata.is_normalized("NFKC", text):
        return text, list(range(len(text)))
    chars: list[str] = []
    source: list[int] = []
    for i, char in enumerate(text):
        out = _nfkc(char) if ord(char) > 0x7F else char
        chars.append(out)
        source.extend([i] * len(out))
    return "".join(chars), source


def normalize_with_map(text: str) -> Normalized:
    """NFKC, then drop every whitespace run except one space between two alphabetic words.

    Dropping the run joins `监\\n\\n督` into `监督` and `2018 年` into `2018年`; `open data`
    keeps its space so Latin words stay apart.
    """
    nfkc, nfkc_source = _nfkc_with_map(text)
    parts: list[str] = []
    source: list[int] = []
    pos = 0
    for gap in _GAP.finditer(nfkc):
        start, end = gap.span()
        parts.append(nfkc[pos:start])
        source.extend(nfkc_source[pos:start])
        if 0 < start and end < len(nfkc) and _is_word(nfkc[start - 1]) and _is_word(nfkc[end]):
            parts.append(" ")
            source.append(nfkc_source[start])
        pos = end
    parts.append(nfkc[pos:])
    source.extend(nfkc_source[pos:])
    return Normalized("".join(parts), source)


def _gap_replacement(gap: re.Match[str]) -> str:
    text, start, end = gap.string, gap.start(), gap.end()
    if 0 < start and end < len(text) and _is_word(text[start - 1]) and _is_word(text[end]):
        return " "
    return ""


def normalize(text: str) -> str:
    """The normalised form of `text`; equal to `normalize_with_map(text).text`, faster."""
    if not unicodedata.is_normalized("NFKC", text):
        text = "".join(_nfkc(c) if ord(c) > 0x7F else c for c in text)
    return _GAP.sub(_gap_replacement, text)
