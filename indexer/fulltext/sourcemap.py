"""Offsets from normalised text back to the original, computed with numpy.

`normalize_with_map` builds its map one Python list item per character: fine for one report,
too slow for every report of a build (section bounds) or every shown report of a results
page (snippets). These give the same map (tests/test_fulltext_speed.py pins them to it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..normalize import _GAP, _is_word, nfkc_final, nfkc_with_source, normalize, normalize_with_map


# What _GAP matches, by code point: whitespace ends at U+3000; U+FEFF is the one gap above it.
_GAP_LUT = np.array([bool(_GAP.fullmatch(chr(c))) for c in range(0x3001)] + [False] * (0xFEFF - 0x3001) + [True, False])


def source_map(text: str, norm: str) -> np.ndarray:
    """normalize_with_map(text).source, computed with numpy: snippets need it for every shown report.

    Same rule: per-character NFKC unless the whole text is NFKC already, then every whitespace
    run dropped except one space between two alphabetic words. Falls back to the reference
    implementation if the result disagrees in length with the stored normalised text.
    """
    if nfkc_final(text):
        nfkc, source = text, None
    else:
        nfkc, source = nfkc_with_source(text)
    if source is None:
        source = np.arange(len(text))
    chars = np.frombuffer(nfkc.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    gap = _GAP_LUT[np.minimum(chars, len(_GAP_LUT) - 1)]
    edges = np.diff(gap.view(np.int8), prepend=0, append=0)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    # A run keeps one space only between two alphabetic characters (code points below U+2E80).
    inside = (starts > 0) & (ends < len(nfkc))
    before = np.where(inside, chars[np.maximum(starts - 1, 0)], 0xFFFF)
    after = np.where(inside, chars[np.minimum(ends, len(nfkc) - 1)], 0xFFFF)
    maybe = np.flatnonzero(inside & (before < 0x2E80) & (after < 0x2E80))
    spaced = [starts[i] for i in maybe.tolist() if _is_word(nfkc[starts[i] - 1]) and _is_word(nfkc[ends[i]])]
    keep = ~gap
    keep[spaced] = True
    source = source[keep]
    if len(source) != len(norm):
        source = np.array(normalize_with_map(text).source, dtype=np.int64)
    if 0 < len(source) < len(norm):
        # `norm` was stored under an older rule (before 2 December 2026, invisible marks were kept):
        # positions stay within the text, if shifted after a mark, until the report is indexed again.
        source = np.concatenate([source, np.full(len(norm) - len(source), source[-1])])
    return source[:len(norm)]


def span_to_source(source: np.ndarray, start: int, end: int) -> tuple[int, int]:
    """Normalized.span_to_source over a source map."""
    if start >= end:
        pos = int(source[start]) if start < len(source) else (int(source[-1]) + 1 if len(source) else 0)
        return pos, pos
    return int(source[start]), int(source[end - 1]) + 1


def norm_bounds(text: str, sections: Sequence) -> tuple[str, list[tuple[int, int]]]:
    """store.section_norm_bounds, fast: the normalised text and each section's span in it."""
    norm = normalize(text)
    source = source_map(text, norm)
    starts = np.searchsorted(source, [s.start for s in sections], side="left")
    ends = np.searchsorted(source, [s.end for s in sections], side="left")
    return norm, [(int(a), int(b)) for a, b in zip(starts, ends)]
