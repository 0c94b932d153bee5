"""What a search engine is to the query layer: one small interface, two implementations.

`indexer.fulltext.search.Searcher` answers `exact` and `keyword`, `indexer.semantic.search
.SemanticSearcher` answers `semantic`. `indexer.query.Engine` parses a query once, merges its
filters once, and hands both to the engine that answers the mode; hybrid fuses the two engines'
rankings there, above either. Neither engine imports the other.
"""

from __future__ import annotations

from typing import Protocol

from .filters import SearchFilters
from .querylang import ParsedQuery


class SearchEngine(Protocol):
    modes: tuple[str, ...]
    """The modes this engine answers."""

    def search(self, parsed: ParsedQuery, filters: SearchFilters, *, mode: str, limit: int | None = 20,
               offset: int = 0, sort: str = "relevance") -> dict:
        """One page of results in the `search --json` shape (`indexer.core.shapes.results_page`);
        `filters` are already merged with the query's own (`SearchFilters.merged`)."""
        ...

    def close(self) -> None:
        ...
