"""One printed table cell: what stands for "no number", and how a row's cells meet its columns.

Shared by the row reader (`extract.py`) and the page-text reader (`stream.py`).
"""

from __future__ import annotations

import re

# A cell printed in place of a number: dashes, slashes, 无.
PLACEHOLDER = re.compile(r"^[-—―─–_/\\*×xX无]+$")


def align(tail: list[str], n: int) -> list[str] | None:
    """The row's `n` value cells, or None when stray and genuinely empty cells cannot be told apart.

    A row of exactly `n` cells is taken by position (its empty cells are real empty cells); else
    trailing, then all, then leading empty cells are taken as layout left by the PDF.
    """
    if len(tail) == n:
        return tail
    trimmed = list(tail)
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    if len(trimmed) == n:
        return trimmed
    filled = [cell for cell in trimmed if cell]
    if len(filled) == n:
        return filled
    while trimmed and not trimmed[0]:
        trimmed.pop(0)
    return trimmed if len(trimmed) == n else None
