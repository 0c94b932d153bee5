"""The normalisation rule written plainly, one character at a time: the oracle the tests hold
indexer.normalize to. Slow (a Python step per character) and sharing no code with the library,
so a fast path that drifts from the rule shows up as a difference here.
"""

from __future__ import annotations

import re
import unicodedata

# Whitespace runs, counting the zero-width characters and the BOM as whitespace.
GAP = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
# Soft hyphen and bidirectional marks: inside words, they vanish.
INVISIBLE = set("\u00ad\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def nfkc(char: str) -> str:
    """One character's NFKC form; an invisible mark becomes nothing."""
    return "" if char in INVISIBLE else unicodedata.normalize("NFKC", char)


def is_word(char: str) -> bool:
    """Letters and digits of alphabetic scripts (below the CJK radicals, U+2E80)."""
    return char.isalnum() and ord(char) < 0x2E80


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, the index in `text` it came from.

    Each character to its NFKC form, then each whitespace run dropped, except one space where
    the run lies between two words (the space points at the run's first character).
    """
    chars: list[str] = []
    source: list[int] = []
    for i, char in enumerate(text):
        out = nfkc(char)
        chars.append(out)
        source.extend([i] * len(out))
    composed = "".join(chars)
    parts: list[str] = []
    mapped: list[int] = []
    pos = 0
    for gap in GAP.finditer(composed):
        start, end = gap.span()
        parts.append(composed[pos:start])
        mapped.extend(source[pos:start])
        if 0 < start and end < len(composed) and is_word(composed[start - 1]) and is_word(composed[end]):
            parts.append(" ")
            mapped.append(source[start])
        pos = end
    parts.append(composed[pos:])
    mapped.extend(source[pos:])
    return "".join(parts), mapped


def normalize(text: str) -> str:
    return normalize_with_map(text)[0]
