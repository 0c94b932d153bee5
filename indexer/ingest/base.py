"""What every reader shares: what it returns, the error type, the sanity check on extracted text,
and page numbers."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# A line that is only a page number (`- 3 -`, `第 3 页 共 9 页`, `3/9`), once its spaces are removed.
PAGE_NUMBER = re.compile(r"^[-—–－\d第页共/]*$")


class IngestError(Exception):
    """A file that cannot become a report; the message is the one-line reason."""


@dataclass
class Extracted:
    """A report's text as its reader gives it, with where each page starts in that text.

    `page_starts`: the offset of each page's first character, one per page in order (an empty
    page starts where the next does); None where the format has no pages or they are unknown.
    `ocr_pages`: the pages read by OCR, as {"page": 1-based number, "confidence": mean character
    confidence}; None where no page was.
    """

    text: str
    page_starts: list[int] | None = None
    ocr_pages: list[dict] | None = None


def joined_pages(pages: list[str], separator: str) -> Extracted:
    """Pages joined into one text, each page's start recorded."""
    starts, offset = [], 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + len(separator)
    return Extracted(separator.join(pages), starts)


def check_text(text: str) -> str:
    """Reject text that is empty or mostly control/unassigned characters (binary read as text)."""
    stripped = text.strip()
    if not stripped:
        raise IngestError("no text found")
    sample = stripped[:20000]
    if "".join(sample.split()).isprintable():  # the usual case, checked in C: no Cc, Cn, Co or Cs at all
        return text
    bad = sum(
        1
        for c in sample
        if unicodedata.category(c) in ("Cc", "Cn", "Co", "Cs") and c not in "\t\n\r\f"
    )
    if bad > max(2, len(sample) // 100):
        raise IngestError("binary or undecodable content")
    return text


def without_page_numbers(pages: list[str]) -> list[str]:
    """Each page without a page number on its first or last line.

    A footer left between the two halves of a sentence split by the page break (积极参 / - 1 - /
    加上级) hides the phrase from exact search. Only a page's edges are looked at, and only lines
    with a digit: a number alone inside a page may be a table's value.
    """
    out = []
    for page in pages:
        lines = page.split("\n")
        filled = [i for i, line in enumerate(lines) if line.strip()]
        edges = {i for i in filled[:1] + filled[-1:] if _is_page_number(lines[i])}
        out.append("\n".join(line for i, line in enumerate(lines) if i not in edges))
    return out


def _is_page_number(line: str) -> bool:
    compact = "".join(line.split())
    return any(c.isdigit() for c in compact) and bool(PAGE_NUMBER.match(compact))
