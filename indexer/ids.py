"""Report ids: the same text is the same report, and an id never changes once given.

The id hashes the text as read with its whitespace removed (so line endings, page-break blank
lines and an encoding's re-decoding do not make a second report), and deliberately not the
normalised text: the normaliser has a version and changes, and an id must survive that. This
rule is frozen; ids already stored are never recomputed.
"""

from __future__ import annotations

import hashlib
import re

_WHITESPACE = re.compile(r"\s+")


def text_key(text: str) -> str:
    """The full hash duplicates are found by (kept per report in the store)."""
    return hashlib.sha256(_WHITESPACE.sub("", text).encode()).hexdigest()


def report_id_for(text: str) -> str:
    """A new report's id: the first 16 hex digits of its text key."""
    return text_key(text)[:16]
