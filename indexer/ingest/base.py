"""What every reader shares: the error type and the sanity check on extracted text."""

from __future__ import annotations

import unicodedata


class IngestError(Exception):
    """A file that cannot become a report; the message is the one-line reason."""


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
