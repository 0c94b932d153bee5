"""BM25, the one relevance formula of nianbao's three word rankings.

Keyword mode ranks sections by Whoosh's BM25F over jieba words (fulltext/ranking.py, with
Whoosh's own idf); exact mode ranks the matching reports by their exact occurrence counts
(fulltext/search.py); hybrid ranks passages by the query's words (semantic/search.py). Each
weighs a term with `weight`, written in the order of Whoosh's `whoosh.scoring.bm25`, so keyword
mode's scores are Whoosh's to the last bit (tests/test_keyword_ranking.py).
"""

from __future__ import annotations

import math

import numpy as np

K1 = 1.2  # how fast repeats of a term stop adding: Whoosh's BM25F default
B = 0.75  # how much a long document's length discounts it: Whoosh's BM25F default


def idf(n_docs: int, df: int) -> float:
    """A term's inverse document frequency, positive however common the term."""
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


def weight(tf: np.ndarray, idf: float, length: np.ndarray, avg_length: float,
           k1: float = K1, b: float = B) -> np.ndarray:
    """A term's BM25 weight in documents with these term frequencies and lengths (0 where tf is 0)."""
    return idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * length / avg_length)))


def scores(tf: np.ndarray, lengths: np.ndarray, avg_length: float, n_docs: int) -> np.ndarray:
    """Each document's BM25: `tf` has a row per document and a column per query term, and a
    term's document frequency is the number of rows holding it, among `n_docs` documents."""
    total = np.zeros(tf.shape[0])
    for column in tf.T:
        total = total + weight(column, idf(n_docs, max(int(np.count_nonzero(column)), 1)), lengths, avg_length)
    return total
