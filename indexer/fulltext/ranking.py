"""Whoosh's BM25F ranking, computed with numpy over whole posting lists.

Why: Whoosh scores one posting per chain of Python calls (about 3 µs each with its field
length lookup), and a keyword query at 20,000 reports scores 100,000 section postings or more
per common word: 200-800 ms a query. The scores here are Whoosh's own: its idf and average
field length, BM25F's B and K1, the weights and field lengths it stored, and its formula
(core.bm25.weight is written as Whoosh writes it); only the loop moves into numpy. Ties go to
the lower document number, as in Whoosh's collector.
tests/test_keyword_ranking.py holds the ranking equal to `searcher.search` with Whoosh's BM25F.

Whoosh has no public call that hands out a posting list or a column at once, so
`_gather` reads the whoosh3 posting format's bytes (pinned: whoosh3==3.54.0) and `_lengths`
a segment's length bytes in one read; both are checked against Whoosh's answers by that test.
"""

from __future__ import annotations

import bisect
import io
import pickle
import struct
import zlib
from collections.abc import Iterable

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC
from whoosh.reading import CorruptIndexError, TermNotFound
from whoosh.scoring import BM25F
from whoosh.searching import Searcher as WhooshSearcher
from whoosh.util.numeric import byte_to_length

from ..core.bm25 import weight

_BYTE_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_WEIGHTING = BM25F()


class Owners:
    """The report each document of a segment belongs to, as a code (0 for none), per segment.

    Filters on a report's metadata must apply before the best documents are cut. Reading a
    segment's owners takes a posting list per report (~1 s at 20,000 reports), and a Whoosh
    segment never changes its documents, so they are kept across searchers: after a commit
    only its new segment is read.
    """

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self._ids: list[str | None] = [None]  # code → report id, rebuilt when codes are added
        self._segments: dict[str, np.ndarray] = {}

    def of(self, reader) -> np.ndarray:
        key = reader.segment().segment_id()
        owners = self._segments.get(key)
        if owners is None:
            owners = np.zeros(reader.doc_count_all(), dtype=np.int32)
            for term in reader.lexicon("report_id"):
                report_id = term.decode()
                owners[_postings(reader, "report_id", report_id)[0]] = \
                    self.codes.setdefault(report_id, len(self.codes) + 1)
            self._segments[key] = owners
        return owners

    def keep(self, readers: Iterable) -> None:
        """Forget the segments a merge has replaced."""
        current = {reader.segment().segment_id() for reader in readers}
        self._segments = {k: v for k, v in self._segments.items() if k in current}

    def report_ids(self, codes: np.ndarray) -> list[str | None]:
        """The report id of each code (None for 0, a document of no report)."""
        if len(self._ids) != len(self.codes) + 1:
            self._ids = [None] * (len(self.codes) + 1)
            for report_id, code in self.codes.items():
                self._ids[code] = report_id
        return [self._ids[c] for c in codes.tolist()]

    def mask(self, report_ids: Iterable[str]) -> np.ndarray:
        """Indexed by code: whether it is the code of one of `report_ids`."""
        mask = np.zeros(len(self.codes) + 1, dtype=bool)
        mask[[self.codes[i] for i in report_ids if i in self.codes]] = True
        return mask


class Ranker:
    """Top documents of a Whoosh searcher for an OR of terms in one field, by BM25F.

    A term's postings are gathered from every segment and scored in one numpy pass: a build
    leaves ~50 segments at 20,000 reports, and numpy calls per segment cost as much as the
    reading. Keeps the field lengths, owners and each filter's documents for the whole index:
    make a new Ranker when the searcher is reopened, with the same `owners`.
    """

    def __init__(self, searcher: WhooshSearcher, fieldname: str, owners: Owners | None = None) -> None:
        self.searcher = searcher
        self.fieldname = fieldname
        self._segments = searcher.reader().leaf_readers()
        self._offsets = [offset for _, offset in self._segments]
        self._size = sum(reader.doc_count_all() for reader, _ in self._segments)
        self._lengths: np.ndarray | None = None
        self._owners: np.ndarray | None = None
        self._allowed: dict[tuple, np.ndarray] = {}
        self.owners = owners or Owners()
        self.owners.keep(reader for reader, _ in self._segments)

    def top(self, terms: Iterable[str], limit: int, only: tuple[str, list[str]] | None = None,
            reports: Iterable[str] | None = None) -> list[tuple[float, int]]:
        """(score, document number) of the best `limit` documents holding any of `terms`, best first.

        `only` = (field, values) keeps the documents holding one of those values there;
        `reports` keeps the documents of those report ids (its `report_id` field)."""
        postings = {t: self.postings(t) for t in dict.fromkeys(terms)}
        total = self.scores(postings)
        hit = np.zeros(self._size, dtype=bool)
        for docs, _ in postings.values():
            hit[docs] = True
        allowed = self.allowed_docs(only, reports)
        if allowed is not None:
            hit &= allowed
        docs_all = np.flatnonzero(hit)
        scores_all = total[docs_all]
        if len(docs_all) > limit:
            keep = np.argpartition(-scores_all, limit - 1)[:limit]
            threshold = scores_all[keep].min()
            keep = np.flatnonzero(scores_all >= threshold)  # every tie at the cut, then the lowest numbers
            docs_all, scores_all = docs_all[keep], scores_all[keep]
        order = np.lexsort((docs_all, -scores_all))[:limit]
        return list(zip(scores_all[order].tolist(), docs_all[order].tolist()))

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """A term's documents (numbered across every segment) and its frequency in each."""
        if (self.fieldname, term) not in self.searcher.reader():
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return _gather(self._segments, self.fieldname, term)

    def scores(self, postings: dict[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Every document's BM25F score for an OR of the terms whose postings are given (0 where
        none occurs): what `top` ranks by."""
        avgfl = self.searcher.avg_field_length(self.fieldname) or 1
        lengths = self._all_lengths()
        total = np.zeros(self._size, dtype=np.float64)
        for term, (docs, tf) in postings.items():
            if len(docs):
                total[docs] += weight(tf, self.searcher.idf(self.fieldname, term), lengths[docs], avgfl,
                                      _WEIGHTING.K1, _WEIGHTING.B)
        return total

    @property
    def size(self) -> int:
        """How many documents the segments hold, deleted ones included (the length of every array here)."""
        return self._size

    def owner_codes(self) -> np.ndarray:
        """Each document's report as a code (see `Owners`; 0 for none)."""
        return self._all_owners()

    def kind_codes(self, kinds: tuple[str, ...]) -> np.ndarray:
        """Each document's section kind as its place in `kinds` (-1 for none), read once per ranker."""
        key = ("kind codes", kinds)
        codes = self._allowed.get(key)
        if codes is None:
            codes = np.full(self._size, -1, dtype=np.int8)
            for number, kind in enumerate(kinds):
                codes[_gather(self._segments, "kind", kind)[0]] = number
            self._allowed[key] = codes
        return codes

    def allowed_docs(self, only: tuple[str, list[str]] | None = None, reports: Iterable[str] | None = None) -> np.ndarray | None:
        """Which documents hold one of `only`'s values in its field and belong to one of `reports`
        (see `top`); None when neither limits."""
        allowed = None if only is None else self._allowed_docs(only)
        if reports is not None:
            owners = self._all_owners()  # codes first: the mask is sized by them
            mine = self.owners.mask(reports)[owners]
            allowed = mine if allowed is None else allowed & mine
        return allowed

    def stored(self, docnum: int) -> dict:
        """A document's stored fields, read from its segment: the searcher's own call maps the
        number through every segment and copies the fields through a schema check (~40 % more)."""
        number = bisect.bisect_right(self._offsets, docnum) - 1
        reader, offset = self._segments[number]
        return reader._perdoc.stored_fields(docnum - offset)

    def _all_lengths(self) -> np.ndarray:
        if self._lengths is None:
            self._lengths = np.concatenate([np.zeros(0)] + [_lengths(r, self.fieldname) for r, _ in self._segments])
        return self._lengths

    def _all_owners(self) -> np.ndarray:
        if self._owners is None:
            self._owners = np.concatenate([np.zeros(0, dtype=np.int32)] + [self.owners.of(r) for r, _ in self._segments])
        return self._owners

    def _allowed_docs(self, only: tuple[str, list[str]]) -> np.ndarray:
        key = (only[0], tuple(only[1]))
        allowed = self._allowed.get(key)
        if allowed is None:
            allowed = np.zeros(self._size, dtype=bool)
            for value in only[1]:
                allowed[_gather(self._segments, only[0], value)[0]] = True
            self._allowed[key] = allowed
        return allowed


def _postings(reader, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
    """A term's live documents in one segment and their weights (term frequencies)."""
    return _gather([(reader, 0)], fieldname, term)


def _gather(segments: list, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
    """A term's live documents in (segment reader, first document number) pairs, numbered from
    there, and their weights; nothing from a segment that lacks the term."""
    deltas: list[int] = []
    weights: list[float] = []
    sizes: list[int] = []
    bases: list[int] = []
    deleted: list[int] = []
    for reader, offset in segments:
        try:  # one lookup: asking first whether the segment has the term would look it up twice
            info = reader._terms.term_info(fieldname, reader._text_to_bytes(fieldname, term))
        except TermNotFound:
            continue
        if info.is_inlined():  # W3Codec's inline limit of 1 never inlines a written posting list
            raise TypeError(f"inlined postings for {term!r}: whoosh3==3.54.0 with W3Codec() is required")
        start, length = info.extent()  # a term info read from disk holds its length as a 1-tuple
        data = reader._terms._postfile.get(start, length[0] if isinstance(length, tuple) else length)
        blocks = len(sizes)
        try:
            _blocks(data, deltas, weights, sizes)
        except (pickle.UnpicklingError, EOFError, zlib.error, struct.error, ValueError, TypeError) as error:
            raise CorruptIndexError(f"damaged postings of {fieldname}:{term!r} ({error}): rebuild the index") from error
        bases.extend([offset] * (len(sizes) - blocks))
        deleted.extend(offset + d for d in reader.deleted_docs_set)
    if not sizes:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    # Each block's ids are deltas from 0: the running sum restarts at every block.
    running = np.cumsum(np.array(deltas, dtype=np.int64))
    sizes_arr = np.array(sizes, dtype=np.int64)
    ends = np.cumsum(sizes_arr)
    restart = np.concatenate(([0], running[ends[:-1] - 1]))
    docs = running + np.repeat(np.array(bases, dtype=np.int64) - restart, sizes_arr)
    tf = np.array(weights, dtype=np.float64)
    if deleted:
        live = ~np.isin(docs, np.array(deleted, dtype=np.int64))
        docs, tf = docs[live], tf[live]
    return docs, tf


_BLOCK_LENGTH = struct.Struct("!i")


def _blocks(data: bytes, deltas: list[int], weights: list[float], sizes: list[int]) -> None:
    """A W3 posting list's blocks read from its bytes onto the lists: ids (deltas), weights, sizes.

    Each block is its length (negative for the last), a pickled info tuple, and the pickled
    (ids, weights, values) tuple, zlib-compressed when the info says so. Reading them here
    from one buffer skips the matcher's seek, read and method calls per block (~10 % of a
    common word's time); gathering every block before converting skips numpy calls per block.
    """
    if data[:4] != WHOOSH3_HEADER_MAGIC:
        raise ValueError("no posting list header")
    stream = io.BytesIO(data)
    header = pickle.Unpickler(stream)
    position = 4
    while True:
        (length,) = _BLOCK_LENGTH.unpack_from(data, position)
        stream.seek(position + 4)
        count, _, _, compressed, _, _ = header.load()
        position += 4 + abs(length)
        block = data[stream.tell():position]
        ids, block_weights, _ = pickle.loads(zlib.decompress(block) if compressed else block)
        deltas.extend(ids)
        sizes.append(count)
        if block_weights is None or isinstance(block_weights, float):
            weights.extend([1.0 if block_weights is None else block_weights] * count)
        else:
            weights.extend(block_weights)
        if length < 0:
            return


def _lengths(reader, fieldname: str) -> np.ndarray:
    """Every document's stored length of `fieldname` in one segment (Whoosh keeps a byte each)."""
    codes = length_bytes(reader._perdoc, fieldname)
    return np.ones(reader.doc_count_all()) if codes is None else _BYTE_LENGTHS[np.frombuffer(codes, dtype=np.uint8)]


def length_bytes(perdoc, fieldname: str) -> bytes | None:
    """A segment's length column of `fieldname` in one read, a byte per document (Whoosh's
    own reader seeks and reads once per document); None when the field has no lengths."""
    column = perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
    if column is None:
        return None
    count = perdoc.doc_count_all()
    stored = column._dbfile.get(column._basepos, min(column._count, count))
    return stored + bytes(count - len(stored))  # documents past the column's end have length 0
