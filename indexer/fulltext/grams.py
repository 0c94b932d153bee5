"""The gram index: which reports hold each character and each character bigram.

It only narrows exact search to candidate reports (verification against the text decides),
so it needs document sets, not positions or scores. Whoosh spent about 25 ms per report
writing a report's ~3,100 gram postings one Python call at a time (the largest cost of a
build), stored 9 KB per report and intersected long posting lists slowly; numpy arrays do
the same job in well under a millisecond per report and a few KB.

A gram is a 64-bit code: a character is its code point, a bigram is `first << 21 | second`
(code points fit in 21 bits and no text holds U+0000 before another character, so the two
never collide). Each commit writes immutable segments of at most SEGMENT_DOCS reports:
sorted gram codes, then per gram either a list of the segment's report numbers or, where
that would be bigger, a bitmap. The table of contents (grams.json) names the live segments
and the deleted report ids; it is replaced atomically, so readers see one commit or the
next. Writers must hold nianbao's write lock (indexing.WriteLock).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TOC_FILE = "grams.json"
SEGMENT_PREFIX = "grams-"
SEGMENT_SUFFIX = ".npz"
# A long term's candidates are found from the grams of its first PREFIX_CHARS characters:
# enough to be selective, few enough to keep the query small. Verification does the rest.
PREFIX_CHARS = 32
SEGMENT_DOCS = 2048  # bitmaps stay small (256 bytes) and doc numbers fit in uint16
_SHIFT = np.uint64(21)
_ARRAYS = ("ids", "terms", "counts", "dense", "starts", "docs", "bits")


def gram_codes(text: str) -> np.ndarray:
    """Sorted unique codes of every character and every character bigram of `text`."""
    chars = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if chars.size < 2:
        return np.unique(chars)
    return np.unique(np.concatenate([chars, (chars[:-1] << _SHIFT) | chars[1:]]))


def term_codes(term: str) -> np.ndarray:
    """The gram codes a report must hold to possibly contain `term`: the bigrams of its first
    PREFIX_CHARS characters (or its one character), unique, sorted."""
    chars = np.frombuffer(term[:PREFIX_CHARS].encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if chars.size < 2:
        return chars
    return np.unique((chars[:-1] << _SHIFT) | chars[1:])


@dataclass
class _Segment:
    name: str
    ids: np.ndarray  # report id per local doc number
    terms: np.ndarray  # sorted gram codes (uint64)
    counts: np.ndarray  # reports holding each term
    dense: np.ndarray  # row in `bits` per term, or -1 for a listed term
    starts: np.ndarray  # listed terms: docs[starts[i]:starts[i + 1]]
    docs: np.ndarray  # local doc numbers (uint16)
    bits: np.ndarray  # one packed bitmap row per dense term

    @property
    def size(self) -> int:
        return len(self.ids)

    def frequencies(self, codes: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.terms, codes)
        found = idx < len(self.terms)
        found[found] = self.terms[idx[found]] == codes[found]
        out = np.zeros(len(codes), dtype=np.int64)
        out[found] = self.counts[idx[found]]
        return out

    def holding(self, codes: np.ndarray) -> np.ndarray:
        """Local doc numbers holding every gram in `codes`."""
        mask = np.ones(self.size, dtype=bool)
        idx = np.searchsorted(self.terms, codes)
        for code, t in zip(codes, idx):
            if t >= len(self.terms) or self.terms[t] != code:
                return np.empty(0, dtype=np.int64)
            row = self.dense[t]
            if row >= 0:
                mask &= np.unpackbits(self.bits[row], count=self.size).astype(bool)
            else:
                listed = np.zeros(self.size, dtype=bool)
                listed[self.docs[self.starts[t]:self.starts[t + 1]]] = True
                mask &= listed
        return np.flatnonzero(mask)

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(gram codes, local doc numbers) of every posting, for rewriting the segment."""
        listed = np.flatnonzero(self.dense < 0)
        counts = np.diff(self.starts)[listed]
        codes = [np.repeat(self.terms[listed], counts)]
        docs = [self.docs[self.starts[0]:self.starts[-1]].astype(np.int64)]
        dense_terms = np.flatnonzero(self.dense >= 0)
        if len(dense_terms):
            matrix = np.unpackbits(self.bits, axis=1, count=self.size)
            rows, cols = np.nonzero(matrix)
            codes.append(self.terms[dense_terms][rows])
            docs.append(cols.astype(np.int64))
        return np.concatenate(codes), np.concatenate(docs)


def _build(name: str, ids: list[str], codes: np.ndarray, docs: np.ndarray) -> _Segment:
    """A segment from postings (gram code, local doc number); doc numbers index `ids`."""
    n = len(ids)
    order = np.lexsort((docs, codes))
    codes, docs = codes[order], docs[order]
    terms, first, counts = np.unique(codes, return_index=True, return_counts=True)
    is_dense = counts * 16 > n  # a bitmap of n/8 bytes beats a list of 2 bytes per report
    dense = np.full(len(terms), -1, dtype=np.int32)
    dense[is_dense] = np.arange(int(is_dense.sum()), dtype=np.int32)
    posting_dense = np.repeat(is_dense, counts)
    matrix = np.zeros((int(is_dense.sum()), n), dtype=bool)
    matrix[np.repeat(dense[is_dense], counts[is_dense]), docs[posting_dense]] = True
    listed_counts = np.where(is_dense, 0, counts)
    starts = np.concatenate([[0], np.cumsum(listed_counts)]).astype(np.uint32)
    return _Segment(name, np.array(ids, dtype=str), terms, counts.astype(np.uint32), dense, starts,
                    docs[~posting_dense].astype(np.uint16), np.packbits(matrix, axis=1))


@dataclass
class _Snapshot:
    """One commit: its table of contents, its segments and the ids that are live in it."""

    toc: dict
    segments: list[_Segment]
    deleted: set[str]
    present: set[str]  # in some segment, deleted or not

    @property
    def live(self) -> set[str]:
        return self.present - self.deleted


class GramIndex:
    """Reading and writing the gram index in one folder (the full-text folder)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cache: tuple[tuple[int, int], _Snapshot] | None = None

    # --- table of contents --------------------------------------------------------------

    def _toc_path(self) -> Path:
        return self.path / TOC_FILE

    def _read_toc(self) -> dict:
        try:
            return json.loads(self._toc_path().read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"gen": 0, "segments": [], "deleted": []}

    def _write_toc(self, toc: dict) -> None:
        toc["gen"] = toc.get("gen", 0) + 1
        tmp = self.path / f"{TOC_FILE}.{uuid.uuid4().hex}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(toc, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._toc_path())

    # --- reading ------------------------------------------------------------------------

    def snapshot(self) -> _Snapshot:
        """The last commit, loaded once per commit."""
        for _ in range(3):
            try:
                stat = self._toc_path().stat()
                key = (stat.st_mtime_ns, stat.st_size)
            except FileNotFoundError:
                return _Snapshot(self._read_toc(), [], set(), set())
            if self._cache and self._cache[0] == key:
                return self._cache[1]
            toc = self._read_toc()
            try:
                segments = [self._load(s["name"]) for s in toc["segments"]]
            except FileNotFoundError:
                continue  # an optimize replaced the segments between the two reads
            snap = _Snapshot(toc, segments, set(toc["deleted"]), {str(i) for s in segments for i in s.ids})
            self._cache = (key, snap)
            return snap
        raise RuntimeError(f"the gram index in {self.path} keeps changing under the reader")

    def _load(self, name: str) -> _Segment:
        with np.load(self.path / name, allow_pickle=False) as data:
            return _Segment(name, **{k: data[k] for k in _ARRAYS})

    def report_ids(self) -> set[str]:
        return self.snapshot().live

    def doc_count(self) -> int:
        snap = self.snapshot()
        return len(snap.present) - len(snap.deleted & snap.present)

    def frequencies(self, codes: np.ndarray) -> np.ndarray:
        """Reports holding each gram (deleted reports included: an upper bound is enough)."""
        out = np.zeros(len(codes), dtype=np.int64)
        for segment in self.snapshot().segments:
            out += segment.frequencies(codes)
        return out

    def holding(self, codes: np.ndarray) -> set[str]:
        """Report ids holding every gram in `codes`."""
        snap = self.snapshot()
        found = {str(i) for s in snap.segments for i in s.ids[s.holding(codes)]}
        return found - snap.deleted if snap.deleted else found

    # --- writing (under nianbao's write lock) ------------------------------------------------

    def _save(self, segment: _Segment) -> None:
        tmp = self.path / f"{segment.name}.tmp"
        with open(tmp, "wb") as fh:
            np.savez(fh, **{k: getattr(segment, k) for k in _ARRAYS})
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / segment.name)

    def add(self, docs: Iterable[tuple[str, np.ndarray]]) -> None:
        """Add (report id, gram codes) pairs in one commit; a report already present is kept once."""
        snap = self.snapshot()
        toc = snap.toc
        deleted = set(snap.deleted)
        present = snap.live
        fresh: dict[str, np.ndarray] = {}
        for report_id, codes in docs:
            if report_id in deleted:
                deleted.discard(report_id)  # ids are content hashes: the old postings are this report's
                present.add(report_id)
            if report_id not in present:
                fresh[report_id] = codes
        items = list(fresh.items())
        names = []
        for start in range(0, len(items), SEGMENT_DOCS):
            chunk = items[start:start + SEGMENT_DOCS]
            lengths = [len(codes) for _, codes in chunk]
            segment = _build(f"{SEGMENT_PREFIX}{uuid.uuid4().hex}{SEGMENT_SUFFIX}", [i for i, _ in chunk],
                             np.concatenate([c for _, c in chunk]) if chunk else np.empty(0, np.uint64),
                             np.repeat(np.arange(len(chunk)), lengths))
            self._save(segment)
            names.append({"name": segment.name, "docs": segment.size})
        if names or deleted != set(toc["deleted"]):
            self._write_toc({**toc, "segments": toc["segments"] + names, "deleted": sorted(deleted)})

    def delete(self, report_ids: Iterable[str]) -> None:
        snap = self.snapshot()
        toc = snap.toc
        doomed = set(report_ids) & snap.present
        if doomed - set(toc["deleted"]):
            self._write_toc({**toc, "deleted": sorted(set(toc["deleted"]) | doomed)})

    def optimize(self) -> None:
        """Rewrite the segments without deleted reports, packed into as few segments as fit."""
        snap = self.snapshot()
        toc, segments, deleted = snap.toc, snap.segments, snap.deleted
        groups: list[list[_Segment]] = [[]]
        for segment in segments:
            live = sum(str(i) not in deleted for i in segment.ids)
            if groups[-1] and sum(s.size for s in groups[-1]) + live > SEGMENT_DOCS:
                groups.append([])
            groups[-1].append(segment)
        if len(segments) <= 1 and not deleted:
            return
        names = []
        for group in groups:
            ids: list[str] = []
            codes, numbers = [], []
            for segment in group:
                seg_codes, seg_docs = segment.pairs()
                keep_docs = np.array([str(i) not in deleted for i in segment.ids], dtype=bool)
                renumber = np.cumsum(keep_docs) - 1 + len(ids)
                mask = keep_docs[seg_docs]
                codes.append(seg_codes[mask])
                numbers.append(renumber[seg_docs[mask]])
                ids += [str(i) for i, keep in zip(segment.ids, keep_docs) if keep]
            if not ids:
                continue
            merged = _build(f"{SEGMENT_PREFIX}{uuid.uuid4().hex}{SEGMENT_SUFFIX}", ids,
                            np.concatenate(codes), np.concatenate(numbers))
            self._save(merged)
            names.append({"name": merged.name, "docs": merged.size})
        self._write_toc({**toc, "segments": names, "deleted": []})
        self.clean()

    def clean(self) -> None:
        """Remove segments no commit refers to and what a killed writer left (under the write lock)."""
        live = {s["name"] for s in self._read_toc()["segments"]}
        for path in self.path.glob(f"{SEGMENT_PREFIX}*"):
            if path.name not in live:
                path.unlink(missing_ok=True)
        for path in self.path.glob(f"{TOC_FILE}.*.tmp"):
            path.unlink(missing_ok=True)

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.glob(f"{SEGMENT_PREFIX}*")) + \
            (self._toc_path().stat().st_size if self._toc_path().exists() else 0)
