"""Running a query: candidates from the gram index, verification against the normalised text.

The matching contract: a report matches a term iff the normalised term is a substring of the
report's normalised text (within the chosen section kinds); counts are non-overlapping
occurrences under the same rule. The gram index only narrows the reports to verify; when a
term's rarest gram is in most reports, scanning every report is faster and is what we do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from whoosh import query as wq

from ..normalize import normalize_with_map
from ..store import Store
from .analysis import term_grams, words
from .index import GRAMS, WORDS, FulltextIndex
from .query import And, Not, Or, ParsedQuery, QueryError, Term, parse_query, section_kind

SORTS = ("relevance", "year", "count")
MODES = ("exact", "keyword", "semantic", "hybrid")
SCAN_FRACTION = 0.3  # above this share of reports holding a term's rarest gram, scan instead
SNIPPET_CONTEXT = 40
_TEXT_CACHE_CHARS = 200_000_000


@dataclass
class SearchFilters:
    """Filters from the command line or the app; merged with field filters written in the query."""

    year: str | None = None  # "2020" or "2018-2020"
    sections: list[str] = field(default_factory=list)
    province: str | None = None
    city: str | None = None
    county: str | None = None
    agency: str | None = None
    template: str | None = None

    def merged(self, query_filters: dict[str, list[str]]) -> "SearchFilters":
        out = replace(self, sections=[section_kind(s) for s in self.sections])
        for name, values in query_filters.items():
            if name == "section":
                out.sections = sorted(set(out.sections) | set(values))
            else:
                setattr(out, name, values[-1])
        return out

    def years(self) -> tuple[int, int] | None:
        if not self.year:
            return None
        if not re.fullmatch(r"\d{4}(-\d{4})?", self.year):
            raise QueryError(f"year {self.year!r} is not a year or a range like 2018-2020")
        first, _, last = self.year.partition("-")
        return int(first), int(last or first)

    def accepts(self, report: dict) -> bool:
        span = self.years()
        if span and (report["year"] is None or not span[0] <= report["year"] <= span[1]):
            return False
        region = report["region"]
        for name in ("province", "city", "county"):
            wanted = getattr(self, name)
            if wanted and (not region[name] or wanted not in region[name]):
                return False
        if self.agency and (not report["agency"] or self.agency not in report["agency"]):
            return False
        return not (self.template and report["template"] != self.template)


@dataclass
class _Corpus:
    """What every query needs about the visible reports; rebuilt when the store publishes."""

    gen: int
    reports: dict[str, dict]
    bounds: dict[str, list[tuple[int, int, str]]]
    lengths: dict[str, int]


class Searcher:
    """Keeps the store, the Whoosh indexes and a text cache open across queries (the app, benches)."""

    def __init__(self, index_dir: Path) -> None:
        self.store = Store(index_dir, create=False)
        self.index = FulltextIndex(index_dir)
        self._corpus: _Corpus | None = None
        self._texts: dict[str, tuple[str, str]] = {}
        self._text_chars = 0
        self._docmap: tuple[object, list[str | None]] | None = None

    def close(self) -> None:
        self.store.close()

    # --- corpus state ------------------------------------------------------------------

    def corpus(self) -> _Corpus:
        gen = self.store.visible_gen()
        if self._corpus is None or self._corpus.gen != gen:
            reports = {r["id"]: r for r in self.store.reports()}
            lengths = {r[0]: r[1] for r in self.store.db.execute("SELECT id, length(norm_text) FROM reports")}
            self._corpus = _Corpus(gen, reports, self.store.section_bounds(), lengths)
            self._texts.clear()
            self._text_chars = 0
        return self._corpus

    def texts(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        ids = list(ids)
        missing = [i for i in ids if i not in self._texts]
        if missing:
            loaded = self.store.texts(missing)
            if self._text_chars > _TEXT_CACHE_CHARS:
                self._texts.clear()
                self._text_chars = 0
            for key, value in loaded.items():
                self._texts[key] = value
                self._text_chars += len(value[0]) + len(value[1])
        return {i: self._texts[i] for i in ids if i in self._texts}

    def _report_ids_for_docs(self, ix, searcher) -> list[str | None]:
        """Whoosh doc number → report id for the grams index, cached per index generation."""
        reader = searcher.reader()
        key = (ix.latest_generation(), reader.doc_count_all())
        if self._docmap is None or self._docmap[0] != key:
            ids: list[str | None] = [None] * reader.doc_count_all()
            for docnum, stored in reader.iter_docs():
                ids[docnum] = stored["report_id"]
            self._docmap = (key, ids)
        return self._docmap[1]

    # --- exact mode ----------------------------------------------------------------------

    def _candidates(self, terms: list[str]) -> dict[str, set[str] | None]:
        """term → report ids that may hold it, or None where scanning everything is cheaper."""
        out: dict[str, set[str] | None] = {}
        ix = self.index.open(GRAMS)
        with ix.searcher() as s:
            total = max(s.doc_count(), 1)
            doc_ids = None
            for term in terms:
                grams = term_grams(term)
                freqs = sorted((s.doc_frequency("grams", g), g) for g in grams)
                if freqs[0][0] == 0:
                    out[term] = set()
                elif freqs[0][0] > SCAN_FRACTION * total:
                    out[term] = None
                else:
                    doc_ids = doc_ids or self._report_ids_for_docs(ix, s)
                    q = wq.And([wq.Term("grams", g) for _, g in freqs[:4]])
                    out[term] = {doc_ids[d] for d in s.docs_for_query(q)}
        return out

    def run(self, query: str | ParsedQuery, filters: SearchFilters | None = None, *, sort: str = "relevance",
            limit: int | None = 20, offset: int = 0, snippets: bool = True, mode: str = "exact") -> dict:
        """Search and return the `search --json` shape (exact and keyword modes)."""
        parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
        query_text = query if isinstance(query, str) else ""
        filters = (filters or SearchFilters()).merged(parsed.filters)
        if sort not in SORTS:
            raise QueryError(f"unknown sort '{sort}' (one of: {', '.join(SORTS)})")
        with self.store.snapshot():
            corpus = self.corpus()
            if mode == "keyword":
                hits = self._keyword(parsed, filters, corpus)
            elif mode == "exact":
                hits = self._exact(parsed, filters, corpus)
            else:
                raise QueryError(f"unknown mode '{mode}' (one of: exact, keyword)")
            ordered = _sorted(hits, corpus, sort)
            page = ordered[offset: None if limit is None else offset + limit]
            results = [self._result(report_id, occ, score, corpus, snippets) for report_id, occ, score in page]
        return {
            "query": query_text,
            "mode": mode,
            "total_reports": len(hits),
            "total_occurrences": sum(len(occ) for _, occ, _ in hits),
            "results": results,
        }

    def _exact(self, parsed: ParsedQuery, filters: SearchFilters, corpus: _Corpus) -> list[tuple[str, list, float]]:
        universe = [i for i, r in corpus.reports.items() if filters.accepts(r)]
        if filters.sections:
            wanted = set(filters.sections)
            universe = [i for i in universe if any(k in wanted for _, _, k in corpus.bounds.get(i, []))]
        if parsed.tree is None:
            return [(i, [], 0.0) for i in universe]
        terms = list(dict.fromkeys(_all_terms(parsed.tree)))
        candidates = self._candidates(terms)
        allowed = _candidate_set(parsed.tree, candidates)
        check = universe if allowed is None else [i for i in universe if i in allowed]
        positive = parsed.positive_terms()
        hits = []
        doc_freq = {t: 0 for t in positive}
        for report_id, (_, norm) in self.texts(check).items():
            spans = _allowed_spans(corpus.bounds.get(report_id, []), filters.sections, len(norm))
            found = {t: _occurrences(norm, t, spans) for t in terms}
            if _evaluate(parsed.tree, found):
                occurrences = sorted(o for t in positive for o in found[t])
                for t in positive:
                    doc_freq[t] += bool(found[t])
                hits.append((report_id, occurrences, found))
        return [(rid, occ, _bm25(found, positive, doc_freq, len(corpus.reports), corpus.lengths.get(rid, 1),
                                 _avg_length(corpus))) for rid, occ, found in hits]

    # --- keyword mode --------------------------------------------------------------------

    def _keyword(self, parsed: ParsedQuery, filters: SearchFilters, corpus: _Corpus) -> list[tuple[str, list, float]]:
        query_words = sorted({w for t in parsed.positive_terms() for w in words(t)})
        if not query_words:
            return []
        restrict = [wq.Term("kind", k) for k in filters.sections]
        whoosh_filter = wq.Or(restrict) if restrict else None
        per_report: dict[str, tuple[float, list[int]]] = {}
        with self.index.open(WORDS).searcher() as s:
            results = s.search(wq.Or([wq.Term("words", w) for w in query_words]), limit=500, filter=whoosh_filter)
            for hit in results:
                report_id = hit["report_id"]
                if report_id not in corpus.reports or not filters.accepts(corpus.reports[report_id]):
                    continue
                best, sections = per_report.get(report_id, (0.0, []))
                per_report[report_id] = (max(best, hit.score), sections + [hit["section"]])
        hits = []
        texts = self.texts(per_report)
        for report_id, (score, section_ords) in per_report.items():
            norm = texts[report_id][1]
            bounds = corpus.bounds.get(report_id, [])
            spans = [bounds[o][:2] for o in section_ords if o < len(bounds)]
            occurrences = sorted(o for w in query_words for o in _occurrences(norm, w, spans, fold_case=True))
            hits.append((report_id, occurrences, score))
        return hits

    # --- results -------------------------------------------------------------------------

    def _result(self, report_id: str, occurrences: list, score: float, corpus: _Corpus, with_snippets: bool) -> dict:
        report = corpus.reports[report_id]
        bounds = corpus.bounds.get(report_id, [])
        kinds = [_kind_at(bounds, start) for start, _ in occurrences]
        result = {
            "report_id": report_id,
            "source": report["source"],
            "title": report["title"],
            "agency": report["agency"],
            "year": report["year"],
            "region": report["region"],
            "count": len(occurrences),
            "score": round(score, 4),
            "sections": sorted(set(kinds), key=kinds.index),
            "snippets": [],
        }
        if with_snippets and occurrences:
            text, _ = self.texts([report_id])[report_id]
            mapping = normalize_with_map(text)
            result["snippets"] = [
                _snippet(text, *mapping.span_to_source(start, end), kind)
                for (start, end), kind in zip(occurrences, kinds)
            ]
        return result

    def counts(self, query: str, filters: SearchFilters | None = None) -> dict[str, int]:
        """report id → occurrences for one query (batch search)."""
        found = self.run(query, filters, limit=None, snippets=False)
        return {r["report_id"]: r["count"] for r in found["results"]}


def _all_terms(node: object) -> list[str]:
    if isinstance(node, Term):
        return [node.text]
    if isinstance(node, (And, Or)):
        return [t for item in node.items for t in _all_terms(item)]
    if isinstance(node, Not):
        return _all_terms(node.item)
    return []


def _candidate_set(node: object, candidates: dict[str, set[str] | None]) -> set[str] | None:
    """Reports that may satisfy the tree; None means any report may."""
    if isinstance(node, Term):
        return candidates[node.text]
    if isinstance(node, Not):
        return None
    sets = [_candidate_set(item, candidates) for item in node.items]
    if isinstance(node, And):
        known = [s for s in sets if s is not None]
        return set.intersection(*known) if known else None
    return None if any(s is None for s in sets) else set().union(*sets)


def _evaluate(node: object, found: dict[str, list]) -> bool:
    if isinstance(node, Term):
        return bool(found[node.text])
    if isinstance(node, Not):
        return not _evaluate(node.item, found)
    if isinstance(node, And):
        return all(_evaluate(i, found) for i in node.items)
    return any(_evaluate(i, found) for i in node.items)


def _allowed_spans(bounds: list[tuple[int, int, str]], kinds: list[str], length: int) -> list[tuple[int, int]]:
    if not kinds:
        return [(0, length)]
    return [(start, end) for start, end, kind in bounds if kind in kinds]


def _occurrences(norm: str, term: str, spans: list[tuple[int, int]], fold_case: bool = False) -> list[tuple[int, int]]:
    """Non-overlapping occurrences of `term` lying wholly inside one of `spans`."""
    haystack = norm.lower() if fold_case else norm
    out = []
    size = len(term)
    for start, end in spans:
        pos = haystack.find(term, start, end)
        while pos >= 0:
            out.append((pos, pos + size))
            pos = haystack.find(term, pos + size, end)
    return out


def _kind_at(bounds: list[tuple[int, int, str]], pos: int) -> str:
    for start, end, kind in bounds:
        if start <= pos < end:
            return kind
    return "other"


def _avg_length(corpus: _Corpus) -> float:
    return (sum(corpus.lengths.values()) / len(corpus.lengths)) if corpus.lengths else 1.0


def _bm25(found: dict[str, list], terms: list[str], doc_freq: dict[str, int], n_docs: int, length: int,
          avg_length: float, k1: float = 1.2, b: float = 0.75) -> float:
    """BM25 over exact occurrence counts: relevance for exact search, from the contract's own counts."""
    score = 0.0
    for term in terms:
        tf = len(found[term])
        if not tf:
            continue
        df = max(doc_freq.get(term, 1), 1)
        idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg_length))
    return score


def _sorted(hits: list[tuple[str, list, float]], corpus: _Corpus, sort: str) -> list[tuple[str, list, float]]:
    def year(rid: str) -> int:
        return corpus.reports[rid]["year"] or 0

    if sort == "year":
        return sorted(hits, key=lambda h: (-year(h[0]), -h[2], h[0]))
    if sort == "count":
        return sorted(hits, key=lambda h: (-len(h[1]), -h[2], h[0]))
    return sorted(hits, key=lambda h: (-h[2], -len(h[1]), h[0]))


_NEWLINES = re.compile(r"\s*\n\s*")


def _snippet(text: str, start: int, end: int, kind: str) -> dict:
    """The original text around a match; line breaks inside the match (page breaks) are closed up."""
    left = _NEWLINES.sub(" ", text[max(0, start - SNIPPET_CONTEXT):start]).lstrip()
    middle = _NEWLINES.sub("", text[start:end])
    right = _NEWLINES.sub(" ", text[end:end + SNIPPET_CONTEXT]).rstrip()
    return {"section_kind": kind, "text": left + middle + right,
            "match_start": len(left), "match_end": len(left) + len(middle)}


def search(index_dir: Path, query: str, filters: SearchFilters | None = None, **options) -> dict:
    """One-off search (the CLI); the app keeps a `Searcher` instead."""
    searcher = Searcher(index_dir)
    try:
        return searcher.run(query, filters, **options)
    finally:
        searcher.close()


def batch_counts(index_dir: Path, queries: list[str], filters: SearchFilters | None = None) -> tuple[list[dict], dict[str, dict[str, int]]]:
    """The term × report table: (reports, {query: {report id: count}})."""
    searcher = Searcher(index_dir)
    try:
        table = {q: searcher.counts(q, filters) for q in queries}
        with searcher.store.snapshot():
            reports = searcher.store.reports()
        return reports, table
    finally:
        searcher.close()
