"""The one entry point for every search mode, used alike by the CLI and the app.

`exact` and `keyword` are answered by the full-text index, `semantic` by the vectors, and
`hybrid` fuses the keyword and semantic rankings by reciprocal rank fusion.
"""

from __future__ import annotations

from pathlib import Path

from .fulltext import SearchFilters, batch_counts
from .fulltext.search import MODES, Searcher

__all__ = ["MODES", "Engine", "SearchFilters", "batch_counts", "run_search"]


class Engine:
    """Searchers kept open across queries; the app holds one per process."""

    def __init__(self, index_dir: Path, model: str | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.model = model
        self.fulltext = Searcher(self.index_dir)
        self._semantic = None

    @property
    def semantic(self):
        if self._semantic is None:
            from .semantic.search import SemanticSearcher

            self._semantic = SemanticSearcher(self.index_dir, self.fulltext, model=self.model)
        return self._semantic

    def search(self, query: str, filters: SearchFilters | None = None, *, mode: str = "exact",
               sort: str = "relevance", limit: int | None = 20, offset: int = 0) -> dict:
        if mode in ("exact", "keyword"):
            return self.fulltext.run(query, filters, mode=mode, sort=sort, limit=limit, offset=offset)
        if mode == "semantic":
            return self.semantic.search(query, filters, limit=limit)
        if mode == "hybrid":
            return self.semantic.hybrid(query, filters, limit=limit)
        from .fulltext import QueryError

        raise QueryError(f"unknown mode '{mode}' (one of: {', '.join(MODES)})")

    def close(self) -> None:
        self.fulltext.close()


def run_search(index_dir: Path, query: str, filters: SearchFilters | None = None, *, mode: str = "exact",
               sort: str = "relevance", limit: int | None = 20, model: str | None = None) -> dict:
    engine = Engine(index_dir, model=model)
    try:
        return engine.search(query, filters, mode=mode, sort=sort, limit=limit)
    finally:
        engine.close()
