"""Semantic and hybrid search: passages by meaning, and keyword + meaning fused by reciprocal rank.

Journalists describe things in their own words (人手不够); the passage may say 人员不足.
Semantic mode ranks passages by cosine between the query's vector and each passage's.
Hybrid mode fuses that ranking with the keyword (BM25) ranking, so a passage that has the
query's words and its meaning comes first, and either alone still counts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..fulltext import QueryError, SearchFilters, parse_query
from ..fulltext.query import FILTER_FIELDS
from ..normalize import normalize
from ..store import Store
from .vectors import KINDS, VectorSet, VectorsError, get_model, load_vectors

if TYPE_CHECKING:
    from ..fulltext.search import Searcher
    from .model import Embedder

__all__ = ["RRF_K", "SemanticSearcher", "passage_texts"]

RRF_K = 60
"""The usual reciprocal-rank-fusion constant: rank r contributes 1 / (RRF_K + r)."""
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
HYBRID_DEPTH = 100
"""How many passages of each ranking enter the fusion."""
KEYWORD_REPORTS = 50

_FIELD = re.compile(r"(?<!\S)(?:" + "|".join(FILTER_FIELDS) + r"):\S+", re.IGNORECASE)
_OPERATORS = re.compile(r"(?<!\S)(?:OR|AND|NOT)(?!\S)")


def passage_texts(store: Store, vs: VectorSet, rows: Sequence[int]) -> list[str]:
    """The stored text of each passage row: its chunk of the paragraph, after the short prose
    paragraphs merged into it (one line each)."""
    rows = [int(r) for r in rows]
    keys = {(vs.report_ids[vs.passages["report"][r]], int(vs.passages["section"][r]), int(vs.passages["first"][r]),
             int(vs.passages["para"][r])) for r in rows}
    found = store.paragraph_runs(keys)
    texts = {key: text for key, (_, text) in found.items()}
    prose = {key for key, (kind, _) in found.items() if kind == "prose"}
    out = []
    for r in rows:
        p = vs.passages[r]
        report, section, para = vs.report_ids[p["report"]], int(p["section"]), int(p["para"])
        merged = [texts[(report, section, o)].strip() for o in range(int(p["first"]), para)
                  if (report, section, o) in prose]
        out.append("\n".join([*merged, texts.get((report, section, para), "")[int(p["start"]):int(p["end"])]]))
    return out


def query_text(query: str, filters: SearchFilters | None = None) -> tuple[str, SearchFilters]:
    """The words to embed, and the filters merged with those written in the query; raises QueryError.

    A query that negates (人手不够 -疫情) embeds only the terms it asks for: the excluded ones
    would pull the meaning towards what is excluded (`SemanticSearcher` drops those reports).
    """
    if not isinstance(query, str) or not query.strip():
        raise QueryError("empty query: type what you are looking for")
    parsed = parse_query(query)
    if parsed.negated_terms():
        text = " ".join(parsed.positive_terms())
    else:
        text = _OPERATORS.sub(" ", _FIELD.sub(" ", query))
        text = " ".join(text.replace('"', " ").split())
    if not text.strip(" -()"):
        raise QueryError("the query has only filters or exclusions: add words to search for by meaning")
    merged = (filters or SearchFilters()).merged(parsed.filters)
    merged.years()
    return text, merged


class SemanticSearcher:
    """Answers semantic and hybrid queries; keeps the model and the vectors open across queries."""

    def __init__(self, index_dir: Path, fulltext: Searcher, model: str | Embedder | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.fulltext = fulltext  # for hybrid's keyword ranking and the query's exclusions
        self.store = fulltext.store
        self.model = model
        self._masks: dict[tuple[str, int, str], np.ndarray | None] = {}

    def vectors(self) -> VectorSet:
        """The current vectors, whose model must be the one asked for (if any was)."""
        vs = load_vectors(self.index_dir)
        if self.model is not None:
            from .model import Embedder, model_id_for

            wanted = self.model.model_id if isinstance(self.model, Embedder) else model_id_for(self.model)
            if wanted != vs.model_id:
                raise VectorsError(f"the vectors were made with {vs.model_id}, not {wanted}: "
                                   f"re-index with --model {self.model} to use it")
        return vs

    def embed_query(self, text: str, vs: VectorSet) -> np.ndarray:
        """One short text on a single torch thread: measured 5-10x faster than two threads while
        other processes share the cores (the threads spin waiting for each other); one short
        text has little to split between threads anyway."""
        import torch

        model = get_model(self.model if self.model is not None else vs.model_name)
        if model.model_id != vs.model_id:
            raise VectorsError(f"the vectors were made with {vs.model_id}, not {model.model_id}: re-index to use it")
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return model.embed_queries([text])[0]
        finally:
            torch.set_num_threads(threads)

    def _allowed(self, vs: VectorSet, filters: SearchFilters) -> np.ndarray | None:
        """Rows of visible reports passing the filters; None when every row passes.

        Kept per (vectors, store version, filters), the version counting corrections too: reading
        every report's metadata costs more than the search itself at 10,000 reports, and repeats
        with each page.
        """
        key = (str(vs.path), self.store.version(), repr(filters))
        if key not in self._masks:
            if len(self._masks) >= 32:
                self._masks.clear()
            self._masks[key] = self._compute_allowed(vs, filters)
        return self._masks[key]

    def _compute_allowed(self, vs: VectorSet, filters: SearchFilters) -> np.ndarray | None:
        reports = {r["id"]: r for r in self.store.reports()}
        keep = np.array([rid in reports and filters.accepts(reports[rid]) for rid in vs.report_ids], dtype=bool)
        allowed = keep[vs.passages["report"]] if len(vs.passages) else np.zeros(0, dtype=bool)
        if filters.sections:
            wanted = np.array([k in filters.sections for k in KINDS], dtype=bool)
            allowed &= wanted[vs.passages["kind"]]
        return None if allowed.all() else allowed

    def _rank(self, query: str, text: str, filters: SearchFilters, depth: int) -> tuple[VectorSet, np.ndarray, np.ndarray]:
        vs = self.vectors()
        with self.store.snapshot():
            allowed = self._allowed(vs, filters)
        kept = self.fulltext.allowed_by_nots(query, filters)
        if kept is not None:  # NOT and -term drop the reports holding what they exclude
            in_kept = np.fromiter((rid in kept for rid in vs.report_ids), dtype=bool, count=len(vs.report_ids))
            in_kept = in_kept[vs.passages["report"]]
            allowed = in_kept if allowed is None else allowed & in_kept
        rows, scores = vs.search(self.embed_query(text, vs), depth, allowed)
        return vs, rows, scores

    def _results(self, vs: VectorSet, rows: Sequence[int], scores: Sequence[float],
                 parts: dict[int, dict] | None = None) -> list[dict]:
        with self.store.snapshot():
            reports = {r["id"]: r for r in self.store.reports([vs.report_ids[vs.passages["report"][r]] for r in rows])}
            texts = passage_texts(self.store, vs, rows)
        out = []
        for row, score, text in zip(rows, scores, texts):
            report = reports.get(vs.report_ids[vs.passages["report"][row]])
            if report is None:
                continue
            out.append({"report_id": report["id"], "source": report["source"], "agency": report["agency"],
                        "year": report["year"], "section_kind": KINDS[vs.passages["kind"][row]], "text": text,
                        "score": round(float(score), 4), **(parts or {}).get(int(row), {})})
        return out

    def search(self, query: str, filters: SearchFilters | None = None, limit: int | None = DEFAULT_LIMIT) -> dict:
        """`{query, mode: "semantic", results: [{report_id, source, agency, year, section_kind, text, score}]}`."""
        text, filters = query_text(query, filters)
        limit = _limit(limit)
        vs, rows, scores = self._rank(query, text, filters, limit)
        return {"query": query, "mode": "semantic", "results": self._results(vs, rows, scores)}

    def hybrid(self, query: str, filters: SearchFilters | None = None, limit: int | None = DEFAULT_LIMIT) -> dict:
        """Keyword and semantic rankings of passages fused by reciprocal rank; same shape, mode "hybrid",
        and each result says where it came from: ``keyword_rank`` and ``semantic_rank`` (1 = first;
        None where that ranking did not reach it), since the fused score itself means nothing to a reader.

        The keyword ranking is the full-text keyword mode's (reports by BM25, filters applied),
        brought down to passages: within those reports, passages ranked by BM25 of the query's
        words in the passage.
        """
        text, filters = query_text(query, filters)
        limit = _limit(limit)
        keyword = self.fulltext.run(query, filters, mode="keyword", limit=KEYWORD_REPORTS, snippets=False)
        vs, rows, _ = self._rank(query, text, filters, max(HYBRID_DEPTH, limit))
        lexical = self._keyword_passages(vs, keyword, filters, query)
        fused: dict[int, float] = {}
        for ranking in (rows.tolist(), lexical):
            for rank, row in enumerate(ranking[:max(HYBRID_DEPTH, limit)], 1):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank)
        best = sorted(fused, key=lambda r: (-fused[r], r))[:limit]
        depth = max(HYBRID_DEPTH, limit)
        ranks = [{int(row): n for n, row in enumerate(ranking[:depth], 1)} for ranking in (lexical, rows.tolist())]
        parts = {int(r): {"keyword_rank": ranks[0].get(int(r)), "semantic_rank": ranks[1].get(int(r))} for r in best}
        return {"query": query, "mode": "hybrid", "results": self._results(vs, best, [fused[r] for r in best], parts)}

    def _keyword_passages(self, vs: VectorSet, keyword: dict, filters: SearchFilters, query: str) -> list[int]:
        from ..fulltext.analysis import words

        parsed = parse_query(query)
        query_words = sorted({w.lower() for t in parsed.positive_terms() for w in words(t) if w.strip()})
        report_rank = {r["report_id"]: i for i, r in enumerate(keyword["results"])}
        index = vs.report_index()
        rows = [r for rid in report_rank if rid in index for r in vs.rows_of(rid).tolist()]
        if filters.sections:
            rows = [r for r in rows if KINDS[vs.passages["kind"][r]] in filters.sections]
        if not rows or not query_words:
            return []
        with self.store.snapshot():
            texts = [normalize(t).lower() for t in passage_texts(self.store, vs, rows)]
        df = {w: sum(w in t for t in texts) for w in query_words}
        avg = sum(map(len, texts)) / len(texts) or 1.0
        scored = []
        for row, t in zip(rows, texts):
            score = 0.0
            for w in query_words:
                tf = t.count(w)
                if tf:
                    idf = math.log(1 + (len(texts) - df[w] + 0.5) / (df[w] + 0.5))
                    score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(t) / avg))
            if score > 0:
                rid = vs.report_ids[vs.passages["report"][row]]
                scored.append((-score, report_rank[rid], row))
        return [row for *_, row in sorted(scored)]


def _limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT * 5
    if limit < 1:
        raise QueryError(f"limit must be at least 1, not {limit}")
    return min(int(limit), MAX_LIMIT)
