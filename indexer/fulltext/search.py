"""Running a query: the gram index counts or narrows, the normalised text verifies.

The matching contract: a report matches a term iff the normalised term is a substring of the
report's normalised text (within the chosen section kinds); counts are non-overlapping
occurrences under the same rule. Most terms are counted by the gram index itself, from the
positions of their bigrams checked against the text (`GramIndex.count`). Terms it does not
count (see `grams.countable`: a single character, a long term, one that can overlap itself as
公公) and terms limited to some sections are counted with `str.count` in the candidate reports
the gram index gives, or in every report where its rarest gram is in most of them (then faster
than any index).
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import repeat
from pathlib import Path

import numpy as np

from ..core import bm25
from ..core.filters import SearchFilters
from ..core.kinds import SECTION_KINDS
from ..core.querylang import SORTS, And, Not, Or, ParsedQuery, QueryError, Term, parse_query
from ..core.shapes import report_summary, results_page
from ..normalize import normalize, source_map, span_to_source
from ..pages import page_at
from ..store import Store
from .analysis import word_spans, words
from .grams import Cells, TextView, cells, count_within, countable, self_overlapping, term_codes
from .index import WORDS, FulltextIndex
from .ranking import Owners, Ranker

SCAN_FRACTION = 0.3  # above this share of reports holding a term's rarest gram, scan instead
SNIPPET_CONTEXT = 40
_TEXT_CACHE_CHARS = 200_000_000  # normalised text kept in memory (~100 M chars for 20,000 reports)
_RECENT_QUERIES = 8  # queries whose matching reports are kept (a few MB each at 20,000 reports)
_RETRIES = 5  # an `index` publishes once per run: a second collision is already unlikely
_KINDS = tuple(SECTION_KINDS)


class _Bounds:
    """report id → its sections' [(norm_start, norm_end, kind)], read from the store as queries
    need them: a first query shows a page, and reading every report's took 0.5 s at 20,000."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.found: dict[str, list[tuple[int, int, str]]] = {}
        self.complete = False  # every visible report's are read

    def need(self, ids: list[str]) -> None:
        """Read the bounds of those of `ids` not read yet, in one go."""
        missing = [] if self.complete else [i for i in ids if i not in self.found]
        if len(missing) > 5000:  # most of a large corpus: one scan of the table is faster
            self.found.update(self.store.section_bounds())
            self.complete = True
        elif missing:
            found = self.store.section_bounds(missing)
            self.found.update((i, found.get(i, [])) for i in missing)

    def get(self, report_id: str, default: list) -> list[tuple[int, int, str]]:
        if report_id not in self.found:
            self.need([report_id])
        return self.found.get(report_id, default)


@dataclass
class _Corpus:
    """What every query needs about the visible reports; rebuilt when the store publishes."""

    gen: tuple[int, int]  # the store's version (see Store.version): a correction reloads reports too
    reports: dict[str, dict]
    bounds: _Bounds
    lengths: dict[str, int]
    avg_length: float = 1.0
    cells: dict[str, Cells] = field(default_factory=dict)  # see grams.cells, filled lazily
    ids: list[str] = field(default_factory=list)  # every visible report, sorted: the unfiltered universe
    texts: list[str] | None = None  # their normalised texts in that order, when all are cached
    rank: dict[str, int] = field(default_factory=dict)  # place in `ids`: ties go to the lower id
    view: TextView | None = None  # these reports as the gram index counts in them (rows are ranks)
    # `ids` and their lengths as arrays: a common phrase matches every report, and looking each
    # of 20,000 hits up in a dict took longer than counting the phrase.
    id_array: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    length_array: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def spans(self, ids: list[str], texts: list[str], kinds: list[str]) -> list[list[tuple[int, int]]]:
        """Each report's spans inside sections of `kinds` (see `_allowed_spans`), its sections'
        bounds read in one go."""
        self.bounds.need(ids)
        return [_allowed_spans(self.bounds.get(i, []), kinds, len(n)) for i, n in zip(ids, texts)]

    def cells_of(self, report_id: str, length: int) -> Cells:
        found = self.cells.get(report_id)
        if found is None:
            found = self.cells[report_id] = cells(self.bounds.get(report_id, []), length)
        return found


@dataclass
class _Hits:
    """Matching reports with their occurrence counts and scores, as parallel columns."""

    ids: list[str]
    counts: np.ndarray
    scores: np.ndarray
    ranks: np.ndarray | None = None  # each one's place in `_Corpus.ids`, where known


class _WordMatches:
    """A keyword query's words in the words index: which sections hold which terms, per report.

    Arrays run over the sections holding at least one term whole (all its words), grouped by
    report; everything is computed over whole posting lists with numpy, none of it per section
    in Python, so that counting every matching section costs about what ranking them did.
    """

    def __init__(self, ranker: Ranker, parsed: ParsedQuery, allowed: np.ndarray | None, corpus: _Corpus) -> None:
        self.ranker, self.tree = ranker, parsed.tree
        terms = list(dict.fromkeys(parsed.positive_terms()))
        self.term_words = {t: list(dict.fromkeys(words(t))) for t in terms}
        postings = {w: ranker.postings(w) for ws in self.term_words.values() for w in ws}
        whole: dict[str, np.ndarray] = {}
        for term, term_words in self.term_words.items():
            holds = np.zeros(ranker.size, dtype=bool)
            if term_words:  # a term without words (punctuation) is in no section
                holds[postings[term_words[0]][0]] = True
                for word in term_words[1:]:
                    holds &= _marks(ranker.size, postings[word][0])
            whole[term] = holds if allowed is None else holds & allowed
        holding = np.logical_or.reduce(list(whole.values())) if whole else np.zeros(ranker.size, dtype=bool)
        self.docs = np.flatnonzero(holding)
        codes, self.owner = np.unique(ranker.owner_codes()[self.docs], return_inverse=True)
        named = ranker.owners.report_ids(codes)
        self.ids = [i if i is not None and i in corpus.reports else None for i in named]
        self.visible = np.array([i is not None for i in self.ids], dtype=bool)
        self.index = {i: r for r, i in enumerate(self.ids) if i is not None}
        self.in_doc = {t: holds[self.docs] for t, holds in whole.items()}
        self.present = self._per_report(self.in_doc)
        counts = np.zeros(len(self.docs))
        for word, (docs, tf) in postings.items():  # a word counts in a section holding one of its terms whole
            where = np.logical_or.reduce([self.in_doc[t] for t, ws in self.term_words.items() if word in ws])
            frequency = np.zeros(ranker.size)
            frequency[docs] = tf
            counts += np.where(where, frequency[self.docs], 0.0)
        self.counts = np.bincount(self.owner, weights=counts, minlength=len(codes)).round()
        self.best = np.zeros(len(codes))
        np.maximum.at(self.best, self.owner, ranker.scores(postings)[self.docs])

    def _per_report(self, in_doc: dict[str, np.ndarray], docs: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """term → for each report, whether one of its sections (among `docs`, positions in
        `self.docs`; all by default) holds the term whole."""
        owner = self.owner if docs is None else self.owner[docs]
        return {t: np.bincount(owner, weights=(held if docs is None else held[docs]), minlength=len(self.ids)) > 0
                for t, held in in_doc.items()}

    def holds(self, present: dict[str, np.ndarray]) -> np.ndarray:
        """Which reports the query's terms hold in, NOT taken as holding (counted apart, exactly)."""
        return _positives_hold(self.tree, present, len(self.ids)) & self.visible

    def kinds_holding(self, report_ids: set[str]) -> dict[str, list[str]]:
        """Each report's section kinds within which the query holds alone, in SECTION_KINDS order."""
        kind_of = self.ranker.kind_codes(_KINDS)[self.docs]
        out: dict[str, list[str]] = {}
        for number in np.unique(kind_of).tolist():
            if number < 0:
                continue
            held = self.holds(self._per_report(self.in_doc, np.flatnonzero(kind_of == number)))
            for r in np.flatnonzero(held).tolist():
                if self.ids[r] in report_ids:
                    out.setdefault(self.ids[r], []).append(_KINDS[number])
        return out  # the kinds were taken in that order

    def sections_of(self, report_id: str) -> list[tuple[int, set[str]]]:
        """(section ord, the words to mark there) of each of a report's sections holding a term
        whole, in text order; read from the stored fields, so only for the reports a page shows."""
        r = self.index.get(report_id)
        if r is None:
            return []
        out = []
        for position in np.flatnonzero(self.owner == r).tolist():
            wanted = {w for t, held in self.in_doc.items() if held[position] for w in self.term_words[t]}
            out.append((int(self.ranker.stored(int(self.docs[position]))["section"]), wanted))
        return sorted(out, key=lambda item: item[0])


def _marks(size: int, docs: np.ndarray) -> np.ndarray:
    marked = np.zeros(size, dtype=bool)
    marked[docs] = True
    return marked


def _positives_hold(node: object, present: dict[str, np.ndarray], size: int) -> np.ndarray:
    """The boolean tree over every report at once from each positive term's presence, NOT taken
    as holding (`_negations_allow` decides those)."""
    if node is None or isinstance(node, Not):
        return np.ones(size, dtype=bool)
    if isinstance(node, Term):
        return present.get(node.text, np.zeros(size, dtype=bool))
    parts = [_positives_hold(item, present, size) for item in node.items]
    return np.logical_and.reduce(parts) if isinstance(node, And) else np.logical_or.reduce(parts)


Locate = Callable[[str, str], list[tuple[int, int]]]
"""(report id, normalised text) → the query's occurrences as (start, end), in text order;
computed only for the reports a page shows."""
Kinds = Callable[[list[str]], list[list[str]]]
"""Report ids → for each, the kinds of the sections holding an occurrence, in text order."""


class Searcher:
    """Keeps the store, the Whoosh indexes and a text cache open across queries (the app, benches)."""

    def __init__(self, index_dir: Path, remember: int = _RECENT_QUERIES) -> None:
        """`remember`: how many recent queries' matches to keep (0 for benchmarks, which must
        time every query from scratch)."""
        self.remember = remember
        self.store = Store(index_dir, create=False)
        self.index = FulltextIndex(index_dir)
        self._corpus: _Corpus | None = None
        self._norms: dict[str, str] = {}
        self._norm_chars = 0
        self._ranker: Ranker | None = None
        self._owners = Owners()  # kept across reopened rankers
        self._recent: dict[tuple, tuple[_Hits, Locate, Kinds | None, dict[str, int]]] = {}

    def close(self) -> None:
        if self._ranker is not None:
            self._ranker.searcher.close()
        self.store.close()

    def _words(self) -> Ranker:
        """The BM25F ranker over the words index's searcher, kept open and reopened only after an
        `index` committed: opening its segments costs about 100 ms at 20,000 reports."""
        current = self._ranker
        if current is not None and current.searcher.up_to_date():
            return current
        if current is not None:
            current.searcher.close()
        self._ranker = None
        for attempt in range(_RETRIES):
            try:
                self._ranker = Ranker(self.index.open(WORDS).searcher(), "words", self._owners)
                break
            except FileNotFoundError:
                # An `index` committed between Whoosh listing the tables of contents and reading
                # the newest, and removed it: the next listing finds the newer one.
                if attempt == _RETRIES - 1:
                    raise
                time.sleep(0.05)
        return self._ranker

    # --- corpus state ------------------------------------------------------------------

    def corpus(self) -> _Corpus:
        gen = self.store.version()
        if self._corpus is None or self._corpus.gen != gen:
            self._norms.clear()
            self._norm_chars = 0
            self._recent.clear()
            reports = {r["id"]: r for r in self.store.reports()}
            ids = sorted(reports)
            # BM25 needs every text's length: the gram index keeps them, and texts are read when
            # a query needs them (reading all took 0.8-1.8 s of a first query at 20,000 reports).
            lengths = self.index.grams.lengths(ids)
            if lengths is None:  # an index from before lengths were kept: count them in the texts
                lengths = {}
                for report_id, norm in self.store.norm_texts():
                    lengths[report_id] = len(norm)
                    self._cache_text(report_id, norm)
            avg = sum(lengths.values()) / len(lengths) if lengths else 1.0
            rank = {i: k for k, i in enumerate(ids)}
            self._corpus = _Corpus(gen, reports, _Bounds(self.store), lengths, avg or 1.0, ids=ids,
                                   rank=rank, view=TextView(rank, self.texts_of), id_array=np.array(ids, dtype=object),
                                   length_array=np.fromiter(map(lengths.__getitem__, ids), np.float64, len(ids)))
            self._all_texts(self._corpus)
        return self._corpus

    def _all_texts(self, corpus: _Corpus) -> list[str] | None:
        """Every visible report's normalised text in `ids` order, once all are cached."""
        if corpus.texts is None and len(self._norms) >= len(corpus.ids) and all(i in self._norms for i in corpus.ids):
            corpus.texts = [self._norms[i] for i in corpus.ids]
        return corpus.texts

    def warm(self) -> None:
        """Read every visible report's text and section bounds (the app, in the background, after
        its first queries): a scan or a listing then reads none from the store."""
        with self.store.snapshot():
            corpus = self.corpus()
            self.texts_of(corpus.ids)
            self._all_texts(corpus)
            corpus.bounds.need(corpus.ids)

    def norm_texts(self, ids: list[str]) -> Iterator[tuple[str, str]]:
        """(id, normalised text) for each id, from memory where it fits, else read in chunks.

        Only normalised text is kept: it is what every query verifies against, and the whole
        corpus's fits in a few hundred MB. Original text is read for a results page only.
        """
        norms = self._norms
        if all(i in norms for i in ids):  # the usual case once the corpus has been read
            yield from ((i, norms[i]) for i in ids)
            return
        missing = []
        for report_id in ids:
            norm = self._norms.get(report_id)
            if norm is None:
                missing.append(report_id)
            else:
                yield report_id, norm
        for report_id, norm in self.store.norm_texts(missing):
            self._cache_text(report_id, norm)
            yield report_id, norm

    def _cache_text(self, report_id: str, norm: str) -> None:
        """Keep a normalised text in memory while the cache has room."""
        if self._norm_chars < _TEXT_CACHE_CHARS:
            self._norms[report_id] = norm
            self._norm_chars += len(norm)

    def texts_of(self, ids: list[str]) -> list[str]:
        """Normalised texts in the order of `ids`: one C-level lookup each once they are cached."""
        try:
            return list(map(self._norms.__getitem__, ids))
        except KeyError:
            texts = dict(self.norm_texts(ids))
            return [texts[i] for i in ids]

    # --- exact mode ----------------------------------------------------------------------

    def _counted(self, terms: list[str], view: TextView,
                 starts: dict[str, dict[str, np.ndarray | None]]) -> dict[str, np.ndarray]:
        """term → occurrences in each report (in corpus.ids order), for the terms the gram index
        counts; `starts` receives term → where they are (see GramIndex.count)."""
        if not self.index.grams.doc_count():  # nothing indexed yet, or an index from before the gram index
            return {}
        return {term: self.index.grams.count(term, view, starts.setdefault(term, {}))
                for term in terms if countable(term)}

    def _candidates(self, terms: list[str], counted: dict[str, np.ndarray], corpus: _Corpus) -> dict[str, set[str] | None]:
        """term → report ids that may hold it, or None where scanning everything is cheaper."""
        out: dict[str, set[str] | None] = {}
        grams = self.index.grams
        total = grams.doc_count()
        for term in terms:
            if term in counted:
                out[term] = {corpus.ids[k] for k in np.flatnonzero(counted[term]).tolist()}
                continue
            if not total:  # nothing indexed yet (or an index from before the gram index): verify everything
                out[term] = None
                continue
            codes = term_codes(term)
            freqs = grams.frequencies(codes)
            order = freqs.argsort(kind="stable")
            if freqs[order[0]] == 0:
                out[term] = set()
            elif freqs[order[0]] > SCAN_FRACTION * total:
                out[term] = None
            else:
                out[term] = grams.holding(codes[order[:4]])
        return out

    modes = ("exact", "keyword")

    def run(self, query: str | ParsedQuery, filters: SearchFilters | None = None, **options) -> dict:
        """`search` on a query string (tests, benchmarks, batch counts): parsed, its filters merged."""
        parsed = query if isinstance(query, ParsedQuery) else parse_query(query, normalize)
        return self.search(parsed, (filters or SearchFilters()).merged(parsed.filters), **options)

    def search(self, parsed: ParsedQuery, filters: SearchFilters, *, mode: str = "exact", limit: int | None = 20,
               offset: int = 0, sort: str = "relevance", snippets: bool = True) -> dict:
        """The `search --json` shape (exact and keyword modes) of a parsed query; `filters` already
        merged with the query's (see `indexer.core.engine`)."""
        if sort not in SORTS:
            raise QueryError(f"unknown sort '{sort}' (one of: {', '.join(SORTS)})")
        if mode not in self.modes:
            raise QueryError(f"unknown mode '{mode}' (one of: {', '.join(self.modes)})")
        # The Whoosh indexes are opened after the snapshot is taken. An `index` that publishes and
        # then deletes the replaced reports' documents in between leaves this snapshot's reports
        # without documents, so when the generation moved under us, run again on the new one.
        for _ in range(_RETRIES):
            with self.store.snapshot():
                corpus = self.corpus()
                hits, locate, kinds, excluded = self._found(mode, parsed, filters, corpus)
                page = _order(hits, corpus, sort, None if limit is None else offset + limit)[offset:]
                results = self._results(hits, page, locate, corpus, snippets, kinds,
                                        listed=mode == "keyword" or _several_terms(parsed.tree))
            if self.store.version() == corpus.gen:
                break
        return results_page(parsed.text, mode, results, total_reports=len(hits.ids),
                            total_occurrences=int(hits.counts.sum()), excluded_unknown=excluded)

    def _found(self, mode: str, parsed: ParsedQuery, filters: SearchFilters,
               corpus: _Corpus) -> tuple[_Hits, Locate, Kinds | None, dict[str, int]]:
        """A query's matching reports and those its filters left out for not knowing a field,
        remembered for the last few queries of this generation: the app asks for each query twice
        (facet counts, then the page) and again on every rerun."""
        key = (mode, parsed.tree, repr(filters))
        found = self._recent.get(key)
        if found is None:
            found = (*self._hits(mode, parsed, filters, corpus), self._excluded_unknown(mode, parsed, filters, corpus))
            if self.remember:
                self._recent[key] = found
                while len(self._recent) > self.remember:
                    del self._recent[next(iter(self._recent))]
        return found

    def _hits(self, mode: str, parsed: ParsedQuery, filters: SearchFilters, corpus: _Corpus,
              among: list[str] | None = None) -> tuple[_Hits, Locate, Kinds | None]:
        """A query's matching reports, among `among` if given (else every report)."""
        if mode == "keyword" and parsed.positive_terms():
            hits, locate, kinds = self._keyword(parsed, filters, corpus, among)
        else:
            hits, locate, kinds = self._exact(parsed, filters, corpus, among)
        return hits, locate, kinds and _remembered(kinds)

    def _excluded_unknown(self, mode: str, parsed: ParsedQuery, filters: SearchFilters, corpus: _Corpus) -> dict[str, int]:
        """For each metadata filter: how many reports matching the query it left out for not knowing
        the field (see `SearchFilters.left_out_unknown`). Those reports are searched again,
        without the metadata filters (sections kept), and only they: usually a few."""
        counts = dict.fromkeys(filters.value_filters(), 0)
        if not counts:
            return {}
        left_out = {i: found for i, r in corpus.reports.items() if (found := filters.left_out_unknown(r))}
        if left_out:
            hits = self._hits(mode, parsed, SearchFilters(sections=filters.sections), corpus, sorted(left_out))[0]
            for report_id in hits.ids:
                for name in left_out[report_id]:
                    counts[name] += 1
        return counts

    def forget(self) -> None:
        """Drop the remembered matches: the next query is computed from scratch."""
        self._recent.clear()

    def _universe(self, filters: SearchFilters, corpus: _Corpus, among: list[str] | None = None) -> list[str]:
        if among is None and filters == SearchFilters():
            return corpus.ids
        reports = corpus.reports if among is None else {i: corpus.reports[i] for i in among}
        universe = [i for i, r in reports.items() if filters.accepts(r)]
        if filters.sections:
            having = self.index.grams.having(filters.sections, corpus.view) if self.index.grams.doc_count() else None
            if having is not None:  # from the cells the gram index keeps, without reading the store
                return [i for i in universe if having[corpus.rank[i]]]
            wanted = set(filters.sections)
            corpus.bounds.need(universe)
            universe = [i for i in universe if any(k in wanted for _, _, k in corpus.bounds.get(i, []))]
        return universe

    def _exact(self, parsed: ParsedQuery, filters: SearchFilters, corpus: _Corpus,
               among: list[str] | None = None) -> tuple[_Hits, Locate, Kinds | None]:
        universe = self._universe(filters, corpus, among)
        positive = parsed.positive_terms()
        present: dict[str, list[bool]] | None = None  # with several terms: which hit holds which
        row_of: dict[str, int] = {}

        def locate(report_id: str, norm: str) -> list[tuple[int, int]]:
            spans = _allowed_spans(corpus.bounds.get(report_id, []), filters.sections, len(norm))
            return sorted(o for t in positive for o in _occurrences(norm, t, spans))

        starts: dict[str, dict[str, np.ndarray | None]] = {}
        from_positions: dict[int, list[str]] | None = None
        per_term: dict[str, dict[int, list[str]]] | None = None  # with several terms: each one's kinds

        def kinds(ids: list[str]) -> list[list[str]]:
            nonlocal from_positions, per_term, starts
            if from_positions is None:  # read once, for every hit: a listing asks for them all
                from_positions = {} if not all(t in starts for t in positive) else \
                    self.index.grams.kinds([starts[t] for t in positive], corpus.view)
                if several and all(t in starts for t in terms):
                    per_term = {t: self.index.grams.kinds([starts[t]], corpus.view) for t in terms}
                starts = {}
            known = [from_positions.get(corpus.rank[i]) for i in ids]
            unknown = [i for i, found in zip(ids, known) if found is None]
            corpus.bounds.need(unknown)
            texts = dict(zip(unknown, self.texts_of(unknown)))
            found = [found if found is not None else text_kinds(i, texts[i]) for i, found in zip(ids, known)]
            if not several:
                return found
            # Several terms: only the kinds within which the whole query holds, as a section filter
            # would find it (a kind holding one of two ANDed terms is not one). From each term's
            # positions where the gram index kept them, else from the text.
            out: list[list[str] | None] = []
            for i, candidates, positions in zip(ids, found, known):
                rank = corpus.rank[i]
                out.append(None if per_term is None or positions is None else
                           [k for k in candidates if _matching(parsed.tree, {t: np.array(k in per_term[t].get(rank, ())) for t in terms})])
            unread = [i for i, kinds_of in zip(ids, out) if kinds_of is None]
            corpus.bounds.need(unread)
            texts = dict(zip(unread, self.texts_of(unread)))
            return [kinds_of if kinds_of is not None else
                    _kinds_where(parsed.tree, terms, texts[i], corpus.bounds.get(i, []), candidates)
                    for i, kinds_of, candidates in zip(ids, out, found)]

        def text_kinds(report_id: str, norm: str) -> list[str]:
            terms = positive if present is None else [t for t in positive if present[t][row_of[report_id]]]
            if filters.sections:
                return _kinds_inside(norm, terms, corpus.bounds.get(report_id, []), filters.sections)
            return _kinds_starting(norm, terms, corpus.cells_of(report_id, len(norm)))

        several = _several_terms(parsed.tree)
        terms = list(dict.fromkeys(_all_terms(parsed.tree)))
        # Without a section limit, a self-overlapping term (公公) is counted from the text's start,
        # which a search from each section's start could disagree with; those locate every occurrence.
        cheap_kinds = kinds if filters.sections or not any(map(self_overlapping, positive)) else None
        if parsed.tree is None:
            zeros = np.zeros(len(universe))
            return _Hits(universe, zeros.astype(np.int64), zeros), locate, cheap_kinds
        view = corpus.view.limited(filters.sections, partial(corpus.spans, kinds=filters.sections)) \
            if filters.sections else corpus.view
        counted = self._counted(terms, view, starts)
        if len(counted) == len(terms):
            # Every term counted by the gram index (within the sections asked for), in every report at once.
            check, counts = corpus.ids, counted
            keep = _matching(parsed.tree, counts)
            if universe is not corpus.ids:
                allowed = np.zeros(len(check), dtype=bool)
                allowed[list(map(corpus.rank.__getitem__, universe))] = True
                keep &= allowed
        else:
            allowed = _candidate_set(parsed.tree, self._candidates(terms, counted, corpus))
            check = universe if allowed is None else [i for i in universe if i in allowed]
            texts = (self._all_texts(corpus) if check is corpus.ids else None) or self.texts_of(check)
            if filters.sections:
                spans = corpus.spans(check, texts, filters.sections)
                counts = {t: np.fromiter(map(count_within, texts, repeat(t), spans), np.int64, len(check))
                          for t in terms}
            else:  # one C-level count per report where the index did not count: a scan
                rows = np.fromiter(map(corpus.rank.__getitem__, check), np.int64, len(check))
                counts = {t: counted[t][rows] if t in counted else
                          np.fromiter(map(str.count, texts, repeat(t)), np.int64, len(check)) for t in terms}
            keep = _matching(parsed.tree, counts)
        matched = np.flatnonzero(keep)
        if check is corpus.ids:
            ranks = matched
            ids = corpus.id_array[matched].tolist()
        else:
            ids = [check[k] for k in matched.tolist()]
            ranks = np.fromiter(map(corpus.rank.__getitem__, ids), np.int64, len(ids))
        tf = np.stack([counts[t][matched] for t in positive], axis=1) if positive else np.zeros((len(ids), 0), np.int64)
        if len(positive) > 1:  # a term a report lacks would be searched for through its whole text
            row_of = dict(zip(ids, range(len(ids))))
            present = {t: (tf[:, k] > 0).tolist() for k, t in enumerate(positive)}
        scores = bm25.scores(tf, corpus.length_array[ranks], corpus.avg_length, len(corpus.reports))
        return _Hits(ids, tf.sum(axis=1), scores, ranks), locate, cheap_kinds

    # --- keyword mode --------------------------------------------------------------------

    def _keyword(self, parsed: ParsedQuery, filters: SearchFilters, corpus: _Corpus,
                 among: list[str] | None = None) -> tuple[_Hits, Locate, Kinds]:
        """Reports whose sections hold the query as whole jieba words, ranked by their best
        section's BM25F over the query's words.

        A term is in a section when every one of its words is (人手不够: 人手 and 不够). The
        query's AND, OR and NOT hold over a report's sections as in exact mode, with NOT and -term
        counted exactly (as exact mode counts them). Every matching section counts, so a facet
        counts every report the query matches with that value. A report's `sections` are the
        kinds within which the query holds alone: what a section filter finds. Occurrences are
        the words of the terms a section holds, as whole words (the words index's frequencies):
        不 alone, not the 不 of 不断, and a word only where its term is whole."""
        ranker = self._words()
        metadata = replace(filters, sections=[])  # a filter applies to the sections before any ranking
        reports = None if metadata == SearchFilters() and among is None else self._universe(metadata, corpus, among)
        only = ("kind", filters.sections) if filters.sections else None
        found = _WordMatches(ranker, parsed, ranker.allowed_docs(only, reports), corpus)
        keep = found.holds(found.present)
        ids = [found.ids[r] for r in np.flatnonzero(keep).tolist()]
        counts, scores = found.counts[keep], found.best[keep]
        negated = parsed.negated_terms()
        if negated and ids:  # words only rank: NOT and -term exclude as in exact mode
            allowed = self._nots_allow(parsed, filters, corpus, ids)
            ids = [i for i, k in zip(ids, allowed.tolist()) if k]
            counts, scores = counts[allowed], scores[allowed]
        by_kind = found.kinds_holding(set(ids))
        if negated:  # within a kind, NOT counts there, as a section filter would count it
            for kind in {k for kinds in by_kind.values() for k in kinds}:
                holding = [i for i in ids if kind in by_kind.get(i, ())]
                allowed = self._nots_allow(parsed, replace(filters, sections=[kind]), corpus, holding)
                for report_id in (i for i, k in zip(holding, allowed.tolist()) if not k):
                    by_kind[report_id] = [k for k in by_kind[report_id] if k != kind]

        def locate(report_id: str, norm: str) -> list[tuple[int, int]]:
            bounds = corpus.bounds.get(report_id, [])
            return [o for section, wanted in found.sections_of(report_id) if section < len(bounds)
                    for o in word_spans(norm[bounds[section][0]:bounds[section][1]], wanted, bounds[section][0])]

        def kinds(report_ids: list[str]) -> list[list[str]]:
            return [by_kind.get(i, []) for i in report_ids]

        return _Hits(ids, counts.astype(np.int64), scores), locate, kinds

    def _nots_allow(self, parsed: ParsedQuery, filters: SearchFilters, corpus: _Corpus, ids: list[str]) -> np.ndarray:
        """Which of `ids` the query's NOTs let through: negated terms counted exactly (within the
        section limit, as exact mode counts them), the tree's other terms taken as present."""
        texts = self.texts_of(ids)
        spans = corpus.spans(ids, texts, filters.sections)
        counts = {t: np.fromiter(map(count_within, texts, repeat(t), spans), np.int64, len(ids))
                  for t in parsed.negated_terms()}
        return _negations_allow(parsed.tree, counts, len(ids))

    def allowed_by_nots(self, parsed: ParsedQuery, filters: SearchFilters) -> set[str] | None:
        """The report ids a query's NOT and -term let through, for answers that are not word
        matches (meaning search: the query layer hands this to the semantic engine); None when the
        query negates nothing. `filters` as merged with the query's."""
        if not parsed.negated_terms():
            return None
        with self.store.snapshot():
            corpus = self.corpus()
            keep = self._nots_allow(parsed, filters, corpus, corpus.ids)
        return {i for i, k in zip(corpus.ids, keep.tolist()) if k}

    # --- results -------------------------------------------------------------------------

    def _results(self, hits: _Hits, page: list[int], locate: Locate, corpus: _Corpus, with_snippets: bool,
                 kinds: Kinds | None = None, listed: bool = False) -> list[dict]:
        """The page's results; their `sections` from `kinds` when `listed` (the kinds within which
        the query holds, which a query of several terms or a keyword query needs), else the kinds
        holding an occurrence, which for one term of exact mode are the same."""
        ids = [hits.ids[i] for i in page]
        if not with_snippets and kinds is not None:
            # A listing (facets, exports, batch counts): counts are known, and the sections holding
            # a match come from the gram index's positions, or are found per section, instead of
            # locating every occurrence (2 s at 20,000).
            # Python lists, not numpy scalars: 20,000 round(np.float64) alone took 80 ms.
            counts, scores = hits.counts[page].tolist(), hits.scores[page].tolist()
            return [_result(corpus.reports[i], count, score, found)
                    for i, found, count, score in zip(ids, kinds(ids), counts, scores)]
        corpus.bounds.need(ids)
        norms = dict(zip(ids, self.texts_of(ids)))
        occurrences = {i: locate(i, norms[i]) for i in ids}
        originals, page_starts = {}, {}
        if with_snippets:
            shown = [i for i in ids if occurrences[i]]
            originals = self.store.original_texts(shown)
            page_starts = self.store.page_starts(shown)
        results = []
        for i in page:
            report_id = hits.ids[i]
            found, norm, text = occurrences[report_id], norms[report_id], originals.get(report_id)
            bounds = corpus.bounds.get(report_id, [])
            found_kinds = [_kind_at(bounds, start) for start, _ in found]
            sections = kinds([report_id])[0] if listed and kinds is not None else list(dict.fromkeys(found_kinds))
            result = _result(corpus.reports[report_id], len(found), float(hits.scores[i]), sections)
            if text is not None and found:
                source = source_map(text, norm)
                result["snippets"] = [_snippet(text, *span_to_source(source, start, end), kind, page_starts.get(report_id))
                                      for (start, end), kind in zip(found, found_kinds)]
            results.append(result)
        return results

    def section_counts(self, query: str | ParsedQuery, filters: SearchFilters | None = None, *,
                       mode: str = "exact") -> dict[str, int]:
        """How many reports each section kind alone finds for the query under `filters` (their
        sections replaced by that kind): the section facet's counts.

        Taken from the listing's `sections` (the kinds within which the query holds), except when
        the query negates a term: a NOT counted within one kind lets in a report that the whole
        query excludes (依申请公开 -政府开放日: 政府开放日 in the overview, 依申请公开 in the problems
        section), so each kind is searched."""
        parsed = query if isinstance(query, ParsedQuery) else parse_query(query, normalize)
        base = replace((filters or SearchFilters()).merged(parsed.filters), sections=[])
        if not parsed.negated_terms():
            listed = self.search(parsed, base, mode=mode, limit=None, snippets=False)["results"]
            counted: dict[str, int] = {}
            for result in listed:
                for kind in result["sections"]:
                    counted[kind] = counted.get(kind, 0) + 1
            return counted
        totals = {kind: self.search(parsed, replace(base, sections=[kind]), mode=mode, limit=0, snippets=False)["total_reports"]
                  for kind in SECTION_KINDS}
        return {kind: n for kind, n in totals.items() if n}

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


def _several_terms(node: object) -> bool:
    return len(set(_all_terms(node))) > 1


def _kinds_where(tree: object, terms: list[str], norm: str, bounds: list[tuple[int, int, str]],
                 candidates: list[str]) -> list[str]:
    """Those of `candidates` within whose sections the query holds alone: every term counted
    wholly inside them, as a filter on that kind counts it."""
    out = []
    for kind in candidates:
        spans = [(start, end) for start, end, k in bounds if k == kind]
        if _matching(tree, {t: np.array(count_within(norm, t, spans)) for t in terms}):
            out.append(kind)
    return out


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


def _negations_allow(node: object, counts: dict[str, np.ndarray], size: int) -> np.ndarray:
    """The tree with every term outside a NOT taken as present: which reports its NOTs let through."""
    if isinstance(node, Not):
        return ~_matching(node.item, counts)
    if isinstance(node, (And, Or)):
        parts = [_negations_allow(item, counts, size) for item in node.items]
        return np.logical_and.reduce(parts) if isinstance(node, And) else np.logical_or.reduce(parts)
    return np.ones(size, dtype=bool)


def _matching(node: object, counts: dict[str, np.ndarray]) -> np.ndarray:
    """The boolean tree over every checked report at once, from each term's counts (or presence;
    0-d arrays for one text)."""
    if isinstance(node, Term):
        return counts[node.text] > 0
    if isinstance(node, Not):
        return ~_matching(node.item, counts)
    parts = [_matching(item, counts) for item in node.items]
    return np.logical_and.reduce(parts) if isinstance(node, And) else np.logical_or.reduce(parts)


def _allowed_spans(bounds: list[tuple[int, int, str]], kinds: list[str], length: int) -> list[tuple[int, int]]:
    if not kinds:
        return [(0, length)]
    return [(start, end) for start, end, kind in bounds if kind in kinds]


def _occurrences(haystack: str, term: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Non-overlapping occurrences of `term` lying wholly inside one of `spans`."""
    out = []
    size = len(term)
    for start, end in spans:
        pos = haystack.find(term, start, end)
        while pos >= 0:
            out.append((pos, pos + size))
            pos = haystack.find(term, pos + size, end)
    return out


def _result(report: dict, count: int, score: float, kinds: list[str]) -> dict:
    """One report's entry in the `search --json` shape; snippets are added by the caller."""
    # `level`: where a place does not apply (core.filters.is_unknown), for facets
    return {**report_summary(report, "title", "region", "level"), "count": count, "score": round(score, 4),
            "sections": kinds, "snippets": []}


def _remembered(kinds: Kinds) -> Kinds:
    found: dict[str, list[str]] = {}

    def remembered(ids: list[str]) -> list[list[str]]:
        missing = [i for i in ids if i not in found]
        if missing:
            found.update(zip(missing, kinds(missing)))
        return [found[i] for i in ids]

    return remembered


def _kinds_starting(norm: str, terms: list[str], cells: Cells) -> list[str]:
    """The kinds `_kind_at` gives the occurrences of `terms` (by where each starts), in text order;
    after a match the search jumps to the next cell, so it costs a search per cell holding one."""
    starts, ends, kinds = cells
    holding = set()
    for term in terms:
        pos = norm.find(term)
        while pos >= 0:
            cell = bisect.bisect_right(starts, pos) - 1
            holding.add(cell)
            pos = norm.find(term, max(ends[cell], pos + 1))  # always forward, even on odd bounds
    return list(dict.fromkeys([kinds[cell] for cell in sorted(holding)]))


def _kinds_inside(norm: str, terms: list[str], bounds: list[tuple[int, int, str]], limit: list[str]) -> list[str]:
    """With a section limit, occurrences lie wholly inside an allowed section."""
    return list(dict.fromkeys([kind for start, end, kind in bounds
                               if kind in limit and any(norm.find(t, start, end) >= 0 for t in terms)]))


def _kind_at(bounds: list[tuple[int, int, str]], pos: int) -> str:
    for start, end, kind in bounds:
        if start <= pos < end:
            return kind
    return "other"


def _order(hits: _Hits, corpus: _Corpus, sort: str, stop: int | None = None) -> list[int]:
    """Positions in `hits`, best first, the first `stop` of them (all if None); ties broken by
    report id so pages are stable."""
    if not hits.ids or stop == 0:
        return []
    ranks = hits.ranks
    if ranks is None:
        ranks = np.fromiter(map(corpus.rank.__getitem__, hits.ids), np.int64, len(hits.ids))
    if sort == "year":
        years = np.array([corpus.reports[i]["year"] or 0 for i in hits.ids])
        keys = (ranks, -hits.scores, -years)
    elif sort == "count":
        keys = (ranks, -hits.scores, -hits.counts)
    else:
        keys = (ranks, -hits.counts, -hits.scores)
    if stop is not None and stop < len(ranks) // 4:
        # A page of a common phrase's 20,000 reports: sort only those whose first key could
        # place them among the first `stop` (ties with the last of them included).
        first = keys[-1]
        among = np.flatnonzero(first <= np.partition(first, stop - 1)[stop - 1])
        return among[np.lexsort(tuple(k[among] for k in keys))][:stop].tolist()
    return np.lexsort(keys)[:stop].tolist()


_NEWLINES = re.compile(r"\s*\n\s*")


def _snippet(text: str, start: int, end: int, kind: str, page_starts: list[int] | None = None) -> dict:
    """The original text around a match, with the page the match starts on (None where pages
    are unknown); line breaks inside the match (page breaks) are closed up."""
    before, middle, after = text[max(0, start - SNIPPET_CONTEXT):start], text[start:end], text[end:end + SNIPPET_CONTEXT]
    # A common phrase's page shows hundreds of snippets, most without a line break: no regex there.
    if "\n" in before or "\n" in middle or "\n" in after:
        before, middle, after = _NEWLINES.sub(" ", before), _NEWLINES.sub("", middle), _NEWLINES.sub(" ", after)
    left, right = before.lstrip(), after.rstrip()
    return {"section_kind": kind, "text": left + middle + right,
            "match_start": len(left), "match_end": len(left) + len(middle), "page": page_at(page_starts, start)}


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
