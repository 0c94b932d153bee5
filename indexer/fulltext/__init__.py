"""Full-text search: exact phrase search with guaranteed recall, and BM25 keyword ranking.

Character unigrams and bigrams (Whoosh, one document per report) find candidate reports;
the candidates are then verified against their normalised text, so a report matches a term
exactly when the normalised term is a substring of it. jieba words (one Whoosh document
per section) serve BM25 ranking in keyword mode and never decide a match. The query language
and the filters are not this engine's: they live in `indexer.core`.
"""

from .search import Searcher, batch_counts, search

__all__ = ["Searcher", "batch_counts", "search"]
