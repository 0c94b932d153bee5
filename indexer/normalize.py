"""The one text rule: how report text and queries are normalised before matching.

PDF extraction breaks words across lines and pages (`监\\n\\n督`), spaces CJK from digits
(`活动 24 次`) and mixes full- and half-width forms. Every index and every query goes
through `normalize`, so a phrase matches whatever the PDF did to it. The offset map lets
a match in normalised text be shown in the original.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Bump whenever `normalize` changes its output: stored normalised texts and every index built on
# them are derived again by the next `index` (report ids do not depend on it; see `ids`).
NORMALIZER_VERSION = 1

# Whitespace, plus the invisible characters extraction leaves behind (zero-width, BOM).
_GAP = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
# Invisible marks that text pasted from web pages and some PDFs carries inside words: the soft
# hyphen and the bidirectional marks. They separate nothing, so they are dropped with NFKC
# (a query copied with a trailing LRM still finds the phrase), not read as gaps.
_INVISIBLE = "\u00ad\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_HAS_INVISIBLE = re.compile(f"[{_INVISIBLE}]")


@lru_cache(maxsize=65536)
def _nfkc(char: str) -> str:
    return "" if char in _INVISIBLE else unicodedata.normalize("NFKC", char)


def nfkc_final(text: str) -> bool:
    """True when per-character NFKC (with the invisible marks dropped) would leave `text` as it is."""
    return unicodedata.is_normalized("NFKC", text) and not _HAS_INVISIBLE.search(text)


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


_NFKC_TABLE: dict[int, str] = {}  # characters whose NFKC form differs, for str.translate
_SEEN = np.zeros(0x110000, dtype=bool)  # code points already looked at
_CHANGES = np.zeros(0x110000, dtype=bool)  # code points in _NFKC_TABLE
_ONE = np.arange(0x110000, dtype=np.uint32)  # each code point's NFKC form where it is one character
_WIDE = np.zeros(0x110000, dtype=bool)  # code points whose NFKC form is not one character
_LONG = 256  # above this many characters, numpy beats per-character str work


def _learn(codes: Iterable[int]) -> None:
    """Record which of these code points (distinct, not seen before) NFKC changes."""
    for code in codes:
        if code > 0x7F:
            out = _nfkc(chr(code))
            if out != chr(code):
                _NFKC_TABLE[code] = out
                _CHANGES[code] = True
                if len(out) == 1:
                    _ONE[code] = ord(out)
                else:
                    _WIDE[code] = True
        _SEEN[code] = True


def nfkc_with_source(text: str) -> tuple[str, np.ndarray | None]:
    """Per-character NFKC of `text` (ASCII unchanged) and, where a character became several,
    the source index of each output character (None: output and input align one to one).

    Equal to joining `_nfkc(c)` per character, without a Python step per character: a report's
    text is thousands of characters but only a few hundred distinct ones, learnt once.
    """
    if len(text) < _LONG:
        _learn(code for code in map(ord, set(text)) if not _SEEN[code])
        out = text.translate(_NFKC_TABLE)
        if len(out) == len(text):
            return out, None
        return out, np.repeat(np.arange(len(text)), [len(_NFKC_TABLE.get(ord(c), c)) for c in text])
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    unseen = codes[~_SEEN[codes]]
    if unseen.size:
        _learn(np.unique(unseen).tolist())
    changes = _CHANGES[codes]
    if not changes.any():
        return text, None
    if not _WIDE[codes].any():  # the usual case: full-width forms to ASCII, one for one
        return _ONE[codes].tobytes().decode("utf-32-le", "surrogatepass"), None
    changed = np.unique(codes[changes]).tolist()
    keys = np.array(changed, dtype=np.uint32)
    outs = [_NFKC_TABLE[c] for c in changed]
    idx = np.minimum(np.searchsorted(keys, codes), len(keys) - 1)
    hit = changes
    widths = np.array([len(o) for o in outs], dtype=np.int64)
    flat = np.frombuffer("".join(outs).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    first = np.concatenate([[0], np.cumsum(widths)[:-1]])
    per_char = np.where(hit, widths[idx], 1)
    source = np.repeat(np.arange(len(codes)), per_char)
    offset = np.arange(len(source)) - np.repeat(np.cumsum(per_char) - per_char, per_char)
    from_table = hit[source]
    mapped = codes[source].copy()
    mapped[from_table] = flat[first[idx[source[from_table]]] + offset[from_table]]
    return mapped.tobytes().decode("utf-32-le", "surrogatepass"), source


def _nfkc_with_map(text: str) -> tuple[str, list[int]]:
    if nfkc_final(text):
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
    return _normalize_line(text) if len(text) <= _LINE else _normalize(text)


def _normalize(text: str) -> str:
    if not nfkc_final(text):
        text = nfkc_with_source(text)[0]
    return _GAP.sub(_gap_replacement, text)


# Lines are remembered: sections, statistics and metadata each normalise a report's lines, and
# reports share most of theirs (headings, table rows, boilerplate). ~20 MB when full.
_LINE = 200
_normalize_line = lru_cache(maxsize=1 << 16)(_normalize)
