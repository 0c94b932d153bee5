"""The one text rule: how report text and queries are normalised before matching.

PDF extraction breaks words across lines and pages (`监\\n\\n督`), spaces CJK from digits
(`活动 24 次`) and mixes full- and half-width forms. Every index and every query goes
through `normalize`, so a phrase matches whatever the PDF did to it. The offset map lets
a match in normalised text be shown in the original.

The rule runs in two steps, each written once: per-character NFKC (`_nfkc`), then every
whitespace run dropped except one space between two alphabetic words (`_close_gaps`). The
offset map is read off the text those steps produced (`_source_of`), never worked out a second
way. tests/normalize_oracle.py is the rule written plainly, one character at a time: the
tests hold these functions equal to it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Bump whenever `normalize` changes its output: stored normalised texts and every index built on
# them are derived again by the next `index` (report ids do not depend on it; see `ids`).
NORMALIZER_VERSION = 1

# Whitespace (Unicode has none above U+3000), plus the invisible characters extraction leaves
# behind (zero-width, BOM): the characters of a gap.
_GAP_CHARS = "".join(filter(str.isspace, map(chr, range(0x3001)))) + "\u200b\u200c\u200d\u2060\ufeff"
_GAP = re.compile(f"[{re.escape(_GAP_CHARS)}]+")
_IS_GAP = np.zeros(0x110000, dtype=bool)
_IS_GAP[[ord(c) for c in _GAP_CHARS]] = True
# Invisible marks that text pasted from web pages and some PDFs carries inside words: the soft
# hyphen and the bidirectional marks. They separate nothing, so they are dropped with NFKC
# (a query copied with a trailing LRM still finds the phrase), not read as gaps.
_INVISIBLE = "\u00ad\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_HAS_INVISIBLE = re.compile(f"[{_INVISIBLE}]")


@dataclass(frozen=True, eq=False)
class Normalized:
    """Normalised text and, for each of its characters, the index of its source character."""

    text: str
    source: np.ndarray

    def span_to_source(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of normalised text to the span of original text it came from."""
        return span_to_source(self.source, start, end)

    def spans_from_source(self, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """Spans of the original text (a report's sections) as spans of the normalised text."""
        bounds = np.searchsorted(self.source, np.array(list(spans), dtype=np.int64).reshape(-1), side="left")
        return [(int(a), int(b)) for a, b in bounds.reshape(-1, 2)]


def normalize(text: str) -> str:
    """NFKC, then drop every whitespace run except one space between two alphabetic words.

    Dropping the run joins `监\\n\\n督` into `监督` and `2018 年` into `2018年`; `open data`
    keeps its space so Latin words stay apart.
    """
    return _normalize_line(text) if len(text) <= _LINE else _normalize(text)


def normalize_with_map(text: str) -> Normalized:
    """`normalize(text)` with the index in `text` of each of its characters."""
    nfkc, source = _nfkc(text)
    norm = _close_gaps(nfkc)
    return Normalized(norm, _source_of(nfkc, source, norm))


def source_map(text: str, norm: str) -> np.ndarray:
    """`normalize_with_map(text).source` for a `norm` normalised before (stored with the report),
    without normalising again: snippets need it for every shown report.

    A `norm` stored under an older rule (before 2 December 2026 invisible marks were kept) gets
    the current map cut or stretched to its length: positions stay within the text, if shifted
    after a mark, until the report is indexed again.
    """
    source = _source_of(*_nfkc(text), norm)
    if source is None:
        source = normalize_with_map(text).source
        if 0 < len(source) < len(norm):
            source = np.concatenate([source, np.full(len(norm) - len(source), source[-1])])
    return source[:len(norm)]


def span_to_source(source: np.ndarray | Sequence[int], start: int, end: int) -> tuple[int, int]:
    """Map a span of normalised text to the span of original text it came from, through `source`."""
    if start >= end:
        pos = int(source[start]) if start < len(source) else (int(source[-1]) + 1 if len(source) else 0)
        return pos, pos
    return int(source[start]), int(source[end - 1]) + 1


def _normalize(text: str) -> str:
    return _close_gaps(_nfkc(text)[0])


# Lines are remembered: sections, statistics and metadata each normalise a report's lines, and
# reports share most of theirs (headings, table rows, boilerplate). ~20 MB when full.
_LINE = 200
_normalize_line = lru_cache(maxsize=1 << 16)(_normalize)


# --- step 1: per-character NFKC ------------------------------------------------------------------

_NFKC_TABLE: dict[int, str] = {}  # characters whose NFKC form differs, and that form
_SEEN = np.zeros(0x110000, dtype=bool)  # code points already looked at
_CHANGES = np.zeros(0x110000, dtype=bool)  # code points in _NFKC_TABLE
_ONE = np.arange(0x110000, dtype=np.uint32)  # each code point's NFKC form where it is one character
_WIDE = np.zeros(0x110000, dtype=bool)  # code points whose NFKC form is not one character


def code_points(text: str) -> np.ndarray:
    """The text's code points, one uint32 each (a lone surrogate kept as itself)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _text(codes: np.ndarray) -> str:
    return codes.tobytes().decode("utf-32-le", "surrogatepass")


def _learn(codes: Iterable[int]) -> None:
    """Record which of these code points (distinct, not seen before) NFKC changes; the invisible
    marks become nothing."""
    for code in codes:
        char = chr(code)
        out = "" if char in _INVISIBLE else unicodedata.normalize("NFKC", char)
        if out != char:
            _NFKC_TABLE[code] = out
            _CHANGES[code] = True
            if len(out) == 1:
                _ONE[code] = ord(out)
            else:
                _WIDE[code] = True
        _SEEN[code] = True


def _nfkc(text: str) -> tuple[str, np.ndarray | None]:
    """Each character of `text` replaced by its NFKC form and, where one became several or none,
    the source index of each output character (None: output and input align one to one).

    Characters are looked at one by one, not the text as a whole: composing across characters
    would break the offset map. Without a Python step per character: a report's text is
    thousands of characters but only a few hundred distinct ones, learnt once.
    """
    if unicodedata.is_normalized("NFKC", text) and not _HAS_INVISIBLE.search(text):
        return text, None  # most lines: per-character NFKC would leave them as they are
    codes = code_points(text)
    unseen = codes[~_SEEN[codes]]
    if unseen.size:
        _learn(np.unique(unseen).tolist())
    changes = _CHANGES[codes]
    if not changes.any():
        return text, None
    if not _WIDE[codes].any():  # the usual case: full-width forms to ASCII, one for one
        return _text(_ONE[codes]), None
    # Some characters become several or none: lay every output character out with its source.
    changed = np.unique(codes[changes])
    outs = [_NFKC_TABLE[c] for c in changed.tolist()]
    which = np.minimum(np.searchsorted(changed, codes), len(outs) - 1)  # a changed code's place in `outs`
    lengths = np.array([len(o) for o in outs], dtype=np.int64)
    widths = np.where(changes, lengths[which], 1)  # output characters per input character
    source = np.repeat(np.arange(len(codes)), widths)
    within = np.arange(len(source)) - np.repeat(np.cumsum(widths) - widths, widths)  # place in its form
    firsts = np.cumsum(lengths) - lengths  # each form's start in `flat`
    flat = code_points("".join(outs))
    mapped = codes[source].copy()
    from_table = changes[source]
    mapped[from_table] = flat[firsts[which[source[from_table]]] + within[from_table]]
    return _text(mapped), source


# --- step 2: gaps ----------------------------------------------------------------------------------

def _is_word(char: str) -> bool:
    """Letters and digits of alphabetic scripts: the only neighbours a space survives between."""
    return char.isalnum() and ord(char) < 0x2E80


def _gap_replacement(gap: re.Match[str]) -> str:
    text, start, end = gap.string, gap.start(), gap.end()
    if 0 < start and end < len(text) and _is_word(text[start - 1]) and _is_word(text[end]):
        return " "
    return ""


def _close_gaps(nfkc: str) -> str:
    return _GAP.sub(_gap_replacement, nfkc) if len(nfkc) < _LONG else _close_gaps_at_once(nfkc)


# A whole report has hundreds of gaps, a Python call each for `_gap_replacement`; from about this
# length the same rule as array operations is faster (a 5,000-character text: 110 → 35 µs).
_LONG = 2000
_IS_WORD = np.zeros(0x110000, dtype=bool)  # `_is_word` of each code point
_IS_WORD[[code for code in range(0x2E80) if chr(code).isalnum()]] = True


def _close_gaps_at_once(nfkc: str) -> str:
    codes = code_points(nfkc)
    gap = _IS_GAP[codes]
    edges = np.diff(gap.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)  # each gap's first character
    if not starts.size:
        return nfkc
    ends = np.flatnonzero(edges == -1)  # the character after each gap
    inside = (starts > 0) & (ends < len(codes))
    spaces = starts[inside & _IS_WORD[codes[starts - 1]] & _IS_WORD[codes[np.minimum(ends, len(codes) - 1)]]]
    kept = ~gap
    kept[spaces] = True
    codes = codes.copy()
    codes[spaces] = 0x20
    return _text(codes[kept])


# --- the offset map ----------------------------------------------------------------------------------

def _source_of(nfkc: str, source: np.ndarray | None, norm: str) -> np.ndarray | None:
    """For each character of `norm` (`nfkc` after `_close_gaps`), its index in the original text;
    None when `norm` is not the shape `_close_gaps` gives `nfkc` (a text stored under an older rule).

    `_close_gaps` keeps every character that is no gap, in order, and puts a space only where a
    gap was: the n-th other character of `norm` is the n-th of `nfkc`, and a space stands for the
    gap that begins right after the character before it.
    """
    kept = np.flatnonzero(~_IS_GAP[code_points(nfkc)])
    spaces = code_points(norm) == 0x20
    if len(spaces) - np.count_nonzero(spaces) != len(kept) or (len(spaces) and (spaces[0] or spaces[-1])):
        return None
    before = np.cumsum(~spaces) - 1  # for each character of `norm`, the last one that is no space
    at = kept[before] + spaces  # a space: the character after the one before it
    return at if source is None else source[at]
