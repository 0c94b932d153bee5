"""Tokens for the two Whoosh fields: character grams (matching) and jieba words (ranking)."""

from __future__ import annotations

import logging
import os
import re
import warnings
from functools import lru_cache
from importlib import resources
from pathlib import Path

import platformdirs

# A long term's candidates are found from the grams of its first PREFIX_CHARS characters:
# enough to be selective, few enough to keep the query small. Verification does the rest.
PREFIX_CHARS = 32
SPACE_MARK = "\u2423"  # Whoosh splits on spaces; a space inside a gram is stored as ␣.

_WORD = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)


def grams(text: str) -> set[str]:
    """Every character and every character bigram of `text` (spaces marked)."""
    text = text.replace(" ", SPACE_MARK)
    out = set(text)
    out.update(text[i:i + 2] for i in range(len(text) - 1))
    return out


def gram_field(text: str) -> str:
    return " ".join(grams(text))


def term_grams(term: str) -> list[str]:
    """The grams a candidate must contain to possibly hold `term` (from its first PREFIX_CHARS)."""
    prefix = term[:PREFIX_CHARS].replace(" ", SPACE_MARK)
    if len(prefix) == 1:
        return [prefix]
    return sorted({prefix[i:i + 2] for i in range(len(prefix) - 1)})


@lru_cache(maxsize=1)
def tokenizer():
    """jieba with the genre's user dictionary and its cache in nianbao's own cache directory."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jieba imports the deprecated pkg_resources
        import jieba

    jieba.setLogLevel(logging.WARNING)
    cache = Path(os.environ.get("NIANBAO_CACHE") or platformdirs.user_cache_dir("nianbao")) / "jieba"
    cache.mkdir(parents=True, exist_ok=True)
    tk = jieba.Tokenizer()
    tk.tmp_dir = str(cache)
    tk.cache_file = "jieba.cache"
    tk.initialize()
    with resources.as_file(resources.files("indexer") / "data" / "userdict.txt") as path:
        tk.load_userdict(str(path))
    return tk


def words(text: str) -> list[str]:
    """jieba words of normalised text, lower-cased, punctuation dropped."""
    return [w.lower() for w in tokenizer().lcut(text, HMM=True) if _WORD.search(w)]


def word_field(text: str) -> str:
    return " ".join(w.replace(" ", SPACE_MARK) for w in words(text))
