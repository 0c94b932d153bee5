"""The one entry point for every search mode, used alike by the CLI and the app.

A query is parsed here, once, and its filters merged with the query's own once; the parsed query
goes to the engine that answers the mode (`indexer.core.engine`): `exact` and `keyword` to the
full-text engine, `semantic` to the vectors. `hybrid` belongs to neither: it fuses the keyword
and semantic rankings of passages by reciprocal rank, here, above both.
"""

from __future__ import annotations

from pathlib import Path

from .core.engine import SearchEngine
from .core.filters import SearchFilters
from .core.querylang import MODES, SORTS, ParsedQuery, QueryError
from .core.querylang import parse_query as parse_with
from .core.shapes import results_page
from .fulltext import batch_counts
from .fulltext.analysis import words
from .fulltext.search import Searcher
from .normalize import normalize

__all__ = ["MODES", "SORTS", "Engine", "QueryError", "SearchFilters", "batch_counts", "parse_query", "rrf",
           "run_search"]

RRF_K = 60
"""The usual reciprocal-rank-fusion constant: rank r contributes 1 / (RRF_K + r)."""
HYBRID_DEPTH = 100
"""How many passages of each ranking enter the fusion (of the semantic ranking, only those above
the relevance line)."""
KEYWORD_REPORTS = 50
"""How many reports of the keyword ranking hybrid brings down to passages."""


def parse_query(query: str) -> ParsedQuery:
    """A query in the query language (`indexer.core.querylang`), its terms under the one text
    rule every index applies; `QueryError` with a one-line message when it is malformed."""
    return parse_with(query, normalize)


def rrf(rankings: list[list[int]], depth: int) -> dict[int, float]:
    """Reciprocal rank fusion: each item's sum of 1 / (RRF_K + rank) over the first `depth` of
    each ranking, so an item that both rankings place high comes first, and either alone still counts."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking[:depth], 1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (RRF_K + rank)
    return fused


class Engine:
    """The engines kept open across queries; the app holds one per process."""

    def __init__(self, index_dir: Path, model: str | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.model = model
        self.fulltext = Searcher(self.index_dir)
        self._semantic = None

    @property
    def semantic(self):
        """The semantic engine, made on first use (it loads a model); it reads the full-text
        engine's store, and the full-text engine counts what a query's NOTs exclude for it."""
        if self._semantic is None:
            from .semantic.search import SemanticSearcher

            self._semantic = SemanticSearcher(self.index_dir, self.fulltext.store, model=self.model,
                                              nots=self.fulltext.allowed_by_nots)
        return self._semantic

    def engine_for(self, mode: str) -> SearchEngine:
        if mode in self.fulltext.modes:
            return self.fulltext
        return self.semantic

    def search(self, query: str | ParsedQuery, filters: SearchFilters | None = None, *, mode: str = "exact",
               sort: str = "relevance", limit: int | None = 20, offset: int = 0) -> dict:
        """One page of results in the `search --json` shape; `QueryError` for a bad query, mode or sort."""
        if mode not in MODES:
            raise QueryError(f"unknown mode '{mode}' (one of: {', '.join(MODES)})")
        if sort not in SORTS:
            raise QueryError(f"unknown sort '{sort}' (one of: {', '.join(SORTS)})")
        parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
        filters = (filters or SearchFilters()).merged(parsed.filters)
        filters.years()  # a malformed year is a QueryError before any engine runs
        if mode == "hybrid":
            return self.hybrid(parsed, filters, limit=limit, offset=offset)
        return self.engine_for(mode).search(parsed, filters, mode=mode, sort=sort, limit=limit, offset=offset)

    def inside_words(self, parsed: ParsedQuery, filters: SearchFilters, keyword_reports: int) -> int:
        """The reports whose text holds the query when keyword mode, which counts whole words only,
        found fewer (开放 inside 政府开放日); 0 when it found them all. The desk and the CLI say so,
        so a keyword search never reads as 'not there'."""
        in_text = self.search(parsed, filters, mode="exact", limit=1)["total_reports"]
        return in_text if in_text > keyword_reports else 0

    def hybrid(self, parsed: ParsedQuery, filters: SearchFilters, *, limit: int | None = 20, offset: int = 0) -> dict:
        """Keyword and semantic rankings of passages fused by reciprocal rank; the semantic shape,
        mode "hybrid", and each result says where it came from: ``keyword_rank`` and
        ``semantic_rank`` (1 = first; None where that ranking did not reach it), since the fused
        score itself means nothing to a reader.

        The keyword ranking is the full-text keyword mode's (reports by BM25, filters applied),
        brought down to passages: within those reports, passages ranked by BM25 of the query's
        words in the passage. The semantic ranking holds only the passages above the relevance
        line (`indexer.semantic.relevance`), whose `relevance` the page carries; when neither
        ranking holds anything, the semantically closest few come with ``relevant`` False, as in
        semantic mode.
        """
        from .semantic.search import page_limit

        limit = page_limit(limit)
        depth = max(HYBRID_DEPTH, offset + limit)
        semantic = self.semantic
        ranked = semantic.rank(parsed, filters, depth)
        vs = ranked.vs
        keyword = self.fulltext.search(parsed, filters, mode="keyword", limit=KEYWORD_REPORTS, snippets=False)
        query_words = sorted({w.lower() for t in parsed.positive_terms() for w in words(t) if w.strip()})
        lexical = semantic.keyword_passages(vs, [r["report_id"] for r in keyword["results"]], filters, query_words)
        rankings = [lexical, ranked.rows[:ranked.passed()].tolist()]
        fused = rrf(rankings, depth)
        if not fused:
            weak, scores = ranked.weak(offset, limit)
            parts = {int(r): {"keyword_rank": None, "semantic_rank": None, "relevant": False} for r in weak}
            return results_page(parsed.text, "hybrid", semantic.results(vs, weak, scores, parts),
                                relevance=ranked.summary(weak=True))
        best = sorted(fused, key=lambda r: (-fused[r], r))[offset:offset + limit]
        ranks = [{int(row): n for n, row in enumerate(ranking[:depth], 1)} for ranking in rankings]
        parts = {int(r): {"keyword_rank": ranks[0].get(int(r)), "semantic_rank": ranks[1].get(int(r)), "relevant": True}
                 for r in best}
        return results_page(parsed.text, "hybrid", semantic.results(vs, best, [fused[r] for r in best], parts),
                            relevance=ranked.summary(weak=False))

    def close(self) -> None:
        if self._semantic is not None:
            self._semantic.close()
        self.fulltext.close()


def run_search(index_dir: Path, query: str | ParsedQuery, filters: SearchFilters | None = None, *, mode: str = "exact",
               sort: str = "relevance", limit: int | None = 20, model: str | None = None) -> dict:
    """One-off search (scripts, tests); the CLI and the app keep an `Engine` open instead."""
    engine = Engine(index_dir, model=model)
    try:
        return engine.search(query, filters, mode=mode, sort=sort, limit=limit)
    finally:
        engine.close()
