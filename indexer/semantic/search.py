"""Semantic search: passages by meaning.

Journalists describe things in their own words (人手不够); the passage may say 人员不足.
Semantic mode ranks passages by cosine between the query's vector and each passage's, and shows
those above the query's relevance line (`relevance`), not a fixed number. It is one
of two sibling engines (`indexer.core.engine`); hybrid mode, which fuses this ranking with the
keyword one, lives above both in `indexer.query`, and hands this engine the words to rank
passages by (`keyword_passages`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core import bm25
from ..core.filters import SearchFilters
from ..core.querylang import QUERY_FIELDS, ParsedQuery, QueryError
from ..core.shapes import report_summary, results_page
from ..normalize import normalize
from ..store import Store
from .relevance import WEAK, Cut, Reference
from .vectors import KINDS, VectorSet, VectorsError, get_model, load_vectors

if TYPE_CHECKING:
    from .model import Embedder

__all__ = ["SemanticSearcher", "passage_texts", "query_text"]

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000

_FIELD = re.compile(r"(?<!\S)(?:" + "|".join(QUERY_FIELDS) + r"):\S+", re.IGNORECASE)
_OPERATORS = re.compile(r"(?<!\S)(?:OR|AND|NOT)(?!\S)")

Nots = Callable[[ParsedQuery, SearchFilters], "set[str] | None"]
"""(parsed query, filters) → the report ids its NOT and -term let through, None when it negates
nothing: counted exactly by the full-text engine, handed in by the query layer."""


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


def query_text(parsed: ParsedQuery) -> str:
    """The words to embed; raises QueryError.

    A query that negates (人手不够 -疫情) embeds only the terms it asks for: the excluded ones
    would pull the meaning towards what is excluded (`SemanticSearcher` drops those reports).
    """
    if parsed.negated_terms():
        text = " ".join(parsed.positive_terms())
    else:
        text = _OPERATORS.sub(" ", _FIELD.sub(" ", parsed.text))
        text = " ".join(text.replace('"', " ").split())
    if not text.strip(" -()"):
        raise QueryError("the query has only filters or exclusions: add words to search for by meaning")
    return text


@dataclass
class Ranked:
    """One query's closest passages, best first, with its relevance line."""

    vs: VectorSet
    rows: np.ndarray
    scores: np.ndarray
    cut: Cut
    vector: np.ndarray
    allowed: np.ndarray | None  # the rows the filters allow; None: all

    def passed(self) -> int:
        """How many of the rows reach the line (they come best first)."""
        return int(np.count_nonzero(self.scores >= self.cut.line))

    def count_above(self) -> int | None:
        """How many passages the filters allow reach the line: of the rows, unless every one of
        them does; then the exact search counts them all, and the approximate index cannot (None)."""
        passed = self.passed()
        if passed < len(self.rows):
            return passed
        if self.vs.meta.get("ann"):
            return None
        above = self.vs.scores(self.vector) >= self.cut.line
        return int((above if self.allowed is None else above & self.allowed).sum())

    def weak(self, offset: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """The closest few (at most `WEAK`, within the page) offered when no passage reaches the
        line, so a search never ends in a silent empty page; rows and their scores."""
        end = min(WEAK, limit)
        return self.rows[offset:end], self.scores[offset:end]

    def summary(self, weak: bool) -> dict:
        """The line, how many passages reach it, how many were searched, the closest passage's
        score (at or above the floor, a weak answer means the query is too general for any
        passage to stand out, not that nothing is about it), and whether the results are only
        the closest few offered as weak."""
        searched = self.vs.count if self.allowed is None else int(self.allowed.sum())
        best = round(float(self.scores[0]), 4) if len(self.scores) else None
        return {**self.cut.as_dict(), "passed": self.count_above(), "searched": searched, "best": best, "weak": weak}


class SemanticSearcher:
    """Answers semantic queries; keeps the model and the vectors open across queries."""

    modes = ("semantic",)

    def __init__(self, index_dir: Path, store: Store, model: str | Embedder | None = None,
                 nots: Nots | None = None) -> None:
        """`nots`: what a query's exclusions let through (see `Nots`); without it a query that
        negates is refused, since meaning alone cannot exclude a word."""
        self.index_dir = Path(index_dir)
        self.store = store
        self.model = model
        self.nots = nots
        self._masks: dict[tuple[str, int, str], np.ndarray | None] = {}
        self._reference: tuple[str, Reference] | None = None

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

    def rank(self, parsed: ParsedQuery, filters: SearchFilters, depth: int) -> Ranked:
        """The `depth` best passage rows for the query with their cosines, and its relevance line
        (drawn on the whole index, whatever the filters: they narrow what is shown, not what is relevant)."""
        text = query_text(parsed)
        vs = self.vectors()
        with self.store.snapshot():
            allowed = self._allowed(vs, filters)
        if parsed.negated_terms():  # NOT and -term drop the reports holding what they exclude
            if self.nots is None:
                raise QueryError("this search cannot exclude words by meaning alone: remove the NOT or -term")
            kept = self.nots(parsed, filters)
            in_kept = np.fromiter((rid in kept for rid in vs.report_ids), dtype=bool, count=len(vs.report_ids))
            in_kept = in_kept[vs.passages["report"]]
            allowed = in_kept if allowed is None else allowed & in_kept
        vector = self.embed_query(text, vs)
        vector = vector / (np.linalg.norm(vector) or 1.0)
        rows, scores = vs.search(vector, depth, allowed)
        return Ranked(vs, rows, scores, self.reference(vs).cut(vector), vector, allowed)

    def reference(self, vs: VectorSet) -> Reference:
        """The passages the relevance line is measured on, kept per vectors generation."""
        if self._reference is None or self._reference[0] != str(vs.path):
            self._reference = (str(vs.path), Reference(vs))
        return self._reference[1]

    def results(self, vs: VectorSet, rows: Sequence[int], scores: Sequence[float],
                parts: dict[int, dict] | None = None) -> list[dict]:
        """Passage rows as results: the report's summary, the section kind, the passage, the score,
        and what `parts` adds to a row."""
        with self.store.snapshot():
            reports = {r["id"]: r for r in self.store.reports([vs.report_ids[vs.passages["report"][r]] for r in rows])}
            texts = passage_texts(self.store, vs, rows)
        out = []
        for row, score, text in zip(rows, scores, texts):
            report = reports.get(vs.report_ids[vs.passages["report"][row]])
            if report is None:
                continue
            out.append({**report_summary(report), "section_kind": KINDS[vs.passages["kind"][row]], "text": text,
                        "score": round(float(score), 4), **(parts or {}).get(int(row), {})})
        return out

    def search(self, parsed: ParsedQuery, filters: SearchFilters, *, mode: str = "semantic",
               limit: int | None = DEFAULT_LIMIT, offset: int = 0, sort: str = "relevance") -> dict:
        """`{query, mode: "semantic", relevance, results: [{report_id, source, agency, year, section_kind,
        text, score, relevant}]}`: the passages above the relevance line (see `relevance`), the
        closest first; when none is, the closest few with ``relevant`` False. ``relevance``: the
        line and how it was drawn (`Cut`), with ``passed`` (how many passages reach it; None where
        the approximate index cannot say beyond those returned), ``searched``, ``best`` and ``weak``
        (see `Ranked.summary`). Passages are ranked by meaning whatever `sort` asks (it orders
        reports, not passages)."""
        if mode not in self.modes:
            raise QueryError(f"unknown mode '{mode}' (one of: {', '.join(self.modes)})")
        limit = page_limit(limit)
        ranked = self.rank(parsed, filters, offset + limit)
        passed = ranked.passed()
        rows, scores = (ranked.rows[offset:passed], ranked.scores[offset:passed]) if passed else ranked.weak(offset, limit)
        parts = {int(r): {"relevant": bool(passed)} for r in rows}
        return results_page(parsed.text, mode, self.results(ranked.vs, rows, scores, parts),
                            relevance=ranked.summary(weak=not passed))

    def keyword_passages(self, vs: VectorSet, report_ids: Sequence[str], filters: SearchFilters,
                         query_words: Sequence[str]) -> list[int]:
        """The passages of `report_ids` (the keyword ranking's reports, best first) ranked by BM25
        of `query_words` (lower-case) in the passage, ties to the better report: hybrid's keyword
        ranking brought down to passages."""
        report_rank = {rid: i for i, rid in enumerate(report_ids)}
        index = vs.report_index()
        rows = [r for rid in report_rank if rid in index for r in vs.rows_of(rid).tolist()]
        if filters.sections:
            rows = [r for r in rows if KINDS[vs.passages["kind"][r]] in filters.sections]
        if not rows or not query_words:
            return []
        with self.store.snapshot():
            texts = [normalize(t).lower() for t in passage_texts(self.store, vs, rows)]
        tf = np.array([[t.count(w) for w in query_words] for t in texts], dtype=np.int64)
        lengths = np.array([len(t) for t in texts], dtype=np.float64)
        scores = bm25.scores(tf, lengths, sum(map(len, texts)) / len(texts) or 1.0, len(texts))
        scored = [(-score, report_rank[vs.report_ids[vs.passages["report"][row]]], row)
                  for row, score in zip(rows, scores.tolist()) if score > 0]
        return [row for *_, row in sorted(scored)]

    def close(self) -> None:
        """The store is the query layer's: nothing of this engine's to close."""


def page_limit(limit: int | None) -> int:
    """How many passages a page shows: None means the default page of a listing; QueryError below 1."""
    if limit is None:
        return DEFAULT_LIMIT * 5
    if limit < 1:
        raise QueryError(f"limit must be at least 1, not {limit}")
    return min(int(limit), MAX_LIMIT)
