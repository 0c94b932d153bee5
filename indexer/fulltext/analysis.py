"""jieba words for the Whoosh words index (ranking); the character grams for matching are in grams.py."""

from __future__ import annotations

import logging
import marshal
import re
import warnings
from array import array
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from ..core import settings

SPACE_MARK = "\u2423"  # Whoosh splits on spaces; a space inside a gram is stored as ␣.

_WORD = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)


@lru_cache(maxsize=1)
def tokenizer():
    """jieba with the genre's user dictionary and its cache in nianbao's own cache directory.

    jieba-next segments identically (checked on the samples and 2,000 synthetic reports)
    about six times faster, so it is used where its wheel installs; jieba is the fallback.
    """
    cache = settings.cache_dir("jieba")
    try:
        import jieba_next

        jieba_next.set_log_level(logging.WARNING)
        tk = jieba_next.Tokenizer(cache_dir=cache)
        tk.cache_file = str(cache / "jieba_next.cache")
        _read_cache(tk, cache / "jieba_next.cache")
    except ImportError:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # jieba imports the deprecated pkg_resources
            import jieba

        jieba.setLogLevel(logging.WARNING)
        tk = jieba.Tokenizer()
        tk.tmp_dir = str(cache)
        tk.cache_file = "jieba.cache"
    tk.initialize()
    with resources.as_file(resources.files("indexer") / "data" / "userdict.txt") as path:
        tk.load_userdict(str(path))
    return tk


def _read_cache(tk, path: Path) -> None:
    """Load jieba-next's dictionary cache (word → frequency) ourselves, as `initialize` would.

    `marshal.load` on a file object reads each of its ~500,000 words through a Python-level
    read call: 0.9-1.3 s here, the most of a first keyword query. `marshal.loads` of the file's
    bytes takes 0.35 s. Without a readable cache `initialize` builds and writes one as before.
    """
    try:
        tk.FREQ, tk.total = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return
    tk.initialized = True


def words(text: str) -> list[str]:
    """jieba words of normalised text, lower-cased, punctuation dropped.

    jieba cuts a text into runs of word characters and the rest, and segments each run on its
    own, so the words of a text are the words of its runs (`_BLOCKS`), in order. Runs are
    remembered: a build meets the same phrases again and again (85 % of a synthetic corpus's
    characters, 63 % of 65 real reports'), and segmenting was the largest cost of parsing a report.
    """
    found: list[str] = []
    for run in _BLOCKS.split(text):
        if run:
            found.extend(_run_words(run))
    return found


@lru_cache(maxsize=1 << 16)
def _run_words(run: str) -> tuple[str, ...]:
    return tuple(w for w in map(_indexed_form, tokenizer().lcut(run, HMM=True)) if w)


def word_spans(text: str, wanted: set[str], offset: int = 0) -> list[tuple[int, int]]:
    """Where the jieba words of `text` that are in `wanted` lie, shifted by `offset`: whole words
    only, as the words index counts them (不 alone, not the 不 of 不断).

    jieba cuts each run of word characters (its `re_han_default`, of which `_BLOCKS` is the
    widest version) apart from the rest, so a run holding none of `wanted` as a substring holds
    none as a word and is not cut at all: marking a page of keyword results cut every section
    holding a term, most of the time of a query."""
    spans = []
    position = offset
    for piece in _BLOCKS.split(text):
        if piece and any(w in piece.lower() for w in wanted):
            for token in tokenizer().lcut(piece, HMM=True):  # the tokens cover the piece, in order
                if _indexed_form(token) in wanted:
                    spans.append((position, position + len(token)))
                position += len(token)
        else:
            position += len(piece)
    return spans


_BLOCKS = re.compile(r"([\u4e00-\u9fd5a-zA-Z0-9+#&._%\-]+)")
"""jieba's runs of word characters (jieba's own pattern; jieba-next's lacks the hyphen, a run it
cuts in two itself): a piece cut by it is segmented alone as within the whole text, by either
tokenizer."""


@lru_cache(maxsize=1 << 16)
def _indexed_form(token: str) -> str:
    """A token as the words field holds it ('' for punctuation and spaces): remembered, since a
    build meets the same few thousand words again and again (a third of the regex-and-lower cost)."""
    return token.lower() if _WORD.search(token) else ""


class CountedWords(NamedTuple):
    """A section's words-field terms and how often each occurs, as two columns: the terms joined
    by spaces (no term holds one: see SPACE_MARK) and their counts. They cross from the parsing
    workers to the single writer: as a dict a report's ~1,000 terms took 0.15 ms to unpickle
    there, as one string and one array 0.02."""

    terms: str
    counts: array  # array("I"), one count a term

    def split(self) -> list[str]:
        return self.terms.split(" ") if self.terms else []

    def items(self) -> Iterator[tuple[str, int]]:
        return zip(self.split(), self.counts)


def word_counts(text: str) -> CountedWords:
    """A section's words-field terms and how often each occurs (see index.CountedText)."""
    found = words(text)
    if " " in text:  # only text with a space can give a word holding one
        found = [w.replace(" ", SPACE_MARK) for w in found]
    counted = Counter(found)
    return CountedWords(" ".join(counted), array("I", counted.values()))
