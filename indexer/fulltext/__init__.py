"""Full-text search: exact phrase search with guaranteed recall, and BM25 keyword ranking.

Character unigrams and bigrams (Whoosh, one document per report) find candidate reports;
the candidates are then verified against their normalised text, so a report matches a term
exactly when the normalised term is a substring of it. jieba words (one Whoosh document
per section) serve BM25 ranking in keyword mode and never decide a match.
"""

from .query import QueryError, parse_query
from .search import SearchFilters, batch_counts, search

__all__ = ["QueryError", "SearchFilters", "batch_counts", "parse_query", "search"]
