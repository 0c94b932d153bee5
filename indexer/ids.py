"""Report ids: the same text is the same report, and an id never changes once given.

The id hashes the text as read with its whitespace removed (so line endings, page-break blank
lines and an encoding's re-decoding do not make a second report), and deliberately not the
normalised text: the normaliser has a version and changes, and an id must survive that. This
rule is frozen; ids already stored are never recomputed.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache


@lru_cache(maxsize=4)
def text_key(text: str) -> str:
    """The full hash duplicates are found by (kept per report in the store); remembered, since
    indexing asks for a new report's id and then for its key. `str.split` cuts at the characters
    the rule's `\\s+` matches (Python's whitespace, both ways), several times faster."""
    return hashlib.sha256("".join(text.split()).encode()).hexdigest()


def report_id_for(text: str) -> str:
    """A new report's id: the first 16 hex digits of its text key."""
    return text_key(text)[:16]
