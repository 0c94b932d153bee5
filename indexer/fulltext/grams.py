"""The gram index: which reports hold each character and each character bigram, and where.

Document sets narrow exact search to candidate reports (verification against the text decides).
Whoosh spent about 25 ms per report writing a report's ~3,100 gram postings one Python call at
a time (the largest cost of a build), stored 9 KB per report and intersected long posting lists
slowly; numpy arrays do the same job in well under a millisecond per report and a few KB.

A phrase whose every bigram is in most reports has no selective candidates, and counting it
with `str.count` in every report took ~90 ms at 20,000 reports. So a segment also keeps the
positions of its common bigrams (those in at least POSITION_FRACTION of its reports): `count`
takes the positions of the rarest of a set of the term's bigrams that covers every character
and keeps those where each other bigram of the set follows at its offset, reading no text.
Where one of the term's bigrams is in too few of a segment's reports to have positions kept,
the reports holding it are few and are counted with `str.count`. Positions are stored as
16-bit gaps.

A count goes through every segment: a build commits one per 400 reports (indexing.BATCH_REPORTS),
50 at 20,000 reports. Only decoding and checking positions is done segment by segment, in a
segment's own text, which stays in the CPU's caches; the bigrams to check are chosen once, from
a table of every segment's kept bigrams (`_Kept`), and occurrences are tallied per report for
all segments at once (`GramIndex._tally`). Done in each segment, that was some twenty numpy
calls a segment, a tenth to a fifth of a common phrase's count. Segments of 800 reports make
a common phrase only ~3 % faster now (a rare one 13 %; 2,048: no faster, their arrays fall out
of the caches), and written by a build they cost it 120-240 MB more at its peak
(docs/performance.md).

A segment file holds its arrays each deflated on its own (core.deflate, fast, which still
nearly halves them: ~2.6 MB per 400 reports in all; zlib's level 6 took 10 times the CPU, in
the build's single writing process, for 3 % fewer bytes), the positions in pieces of about
GAP_PIECE gaps. They are inflated on first use, so a first query reads what its terms need:
inflating every array of every segment took 1.5 s of a first query at 20,000 reports.

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
import struct
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple
from functools import cached_property
from itertools import repeat
from pathlib import Path

import numpy as np

from ..core.deflate import deflate, inflate

TOC_FILE = "grams.json"
SEGMENT_PREFIX = "grams-"
SEGMENT_SUFFIX = ".grams"
_NPZ_SUFFIX = ".npz"  # segments written before arrays were compressed one by one
_MAGIC = b"nianbao-grams/2\n"
# A long term's candidates are found from the grams of its first PREFIX_CHARS characters:
# enough to be selective, few enough to keep the query small. Verification does the rest.
PREFIX_CHARS = 32
SEGMENT_DOCS = 2048  # bitmaps stay small (256 bytes) and doc numbers fit in uint16
POSITION_FRACTION = 0.3  # bigrams in fewer reports narrow candidates well enough
_SHIFT = np.uint64(21)
_BIGRAM = 1 << 21  # codes from here on are bigrams
_GAP = 0xFFFF  # a gap this large or larger is stored in full among the exceptions
GAP_PIECE = 1 << 15  # gaps per compressed piece: a bigram's positions are read a piece at a time
# What checking one more bigram of a phrase costs besides decoding its positions, in positions:
# 政府信息公开 is 10 % faster checked as 政府, 信息, 公开 than as 政府, 府信, 息公, 公开 (fewer in all).
_CHECK_COST = 10_000
_ARRAYS = ("ids", "terms", "counts", "dense", "starts", "docs", "bits")
_POSITION_ARRAYS = ("lengths", "pterms", "pstarts", "pieces", "big_at", "big_gap")


def _chars(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _bigrams(chars: np.ndarray) -> np.ndarray:
    """The code of each character bigram, in text order (`chars`: uint64 code points)."""
    return (chars[:-1] << _SHIFT) | chars[1:]


def _distinct(codes: np.ndarray) -> np.ndarray:
    """np.unique(codes) by a sort and a mask: numpy 2.4's hash-based unique took 1.5 ms for a
    report's ~10,000 gram codes here (4 % of a build's CPU), this 0.2 ms."""
    codes = np.sort(codes)
    return codes[_firsts(codes)]


def _firsts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values in a sorted array begins."""
    if not ordered.size:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))


def gram_codes(text: str) -> np.ndarray:
    """Sorted unique codes of every character and every character bigram of `text`."""
    chars = _chars(text).astype(np.uint64)
    if chars.size < 2:
        return _distinct(chars)
    return _distinct(np.concatenate([chars, _bigrams(chars)]))


def term_codes(term: str) -> np.ndarray:
    """The gram codes a report must hold to possibly contain `term`: the bigrams of its first
    PREFIX_CHARS characters (or its one character), unique, sorted."""
    chars = _chars(term[:PREFIX_CHARS]).astype(np.uint64)
    if chars.size < 2:
        return chars
    return _distinct(_bigrams(chars))


def _empty_positions() -> dict[str, np.ndarray]:
    """The position arrays of a segment written before positions were kept: none."""
    return {"lengths": np.zeros(0, np.int64), "pterms": np.zeros(0, np.uint64), "pstarts": np.zeros(1, np.int64),
            "pieces": np.zeros(1, np.int64), "big_at": np.zeros(0, np.int64), "big_gap": np.zeros(0, np.int64)}


class _Arrays:
    """A segment's arrays by name, each decompressed from the file's bytes on first use."""

    def __init__(self, found: dict[str, np.ndarray], packed: bytes = b"",
                 table: dict[str, tuple[str, tuple[int, ...], int, int]] | None = None) -> None:
        self._found = found
        self._packed = packed
        self._table = table or {}  # name → (dtype, shape, offset in packed, compressed size)

    @classmethod
    def read(cls, path: Path) -> "_Arrays":
        """The file's table and bytes; a truncated or foreign file fails here, not at a query."""
        data = path.read_bytes()
        if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 4:
            raise ValueError(f"{path.name} is not a gram segment")
        (size,) = struct.unpack_from("<I", data, len(_MAGIC))
        start = len(_MAGIC) + 4 + size
        table, offset = {}, start
        for name, dtype, shape, length in json.loads(data[len(_MAGIC) + 4:start]):
            table[name] = (dtype, tuple(shape), offset, length)
            offset += length
        if offset != len(data):
            raise ValueError(f"{path.name} is truncated ({len(data)} of {offset} bytes)")
        return cls({}, data, table)

    @staticmethod
    def write(arrays: dict[str, np.ndarray], fh) -> None:
        blobs = {name: deflate(np.ascontiguousarray(a).tobytes()) for name, a in arrays.items()}
        header = json.dumps([[name, a.dtype.str, list(a.shape), len(blobs[name])] for name, a in arrays.items()]).encode()
        fh.write(_MAGIC + struct.pack("<I", len(header)) + header)
        for blob in blobs.values():
            fh.write(blob)

    def __getitem__(self, name: str) -> np.ndarray:
        found = self._found.get(name)
        if found is None:
            dtype, shape, offset, length = self._table[name]
            raw = inflate(memoryview(self._packed)[offset:offset + length])
            found = self._found[name] = np.frombuffer(raw, dtype=dtype).reshape(shape)
            if len(self._found) == len(self._table):
                self._packed = b""  # every array is out: the compressed copy is no longer needed
        return found

    def __contains__(self, name: str) -> bool:
        return name in self._table or name in self._found

    def everything(self) -> dict[str, np.ndarray]:
        return {name: self[name] for name in self._table or self._found}


class _Stored:
    """One of a segment's arrays, read through its `_Arrays` on first use and then kept on the
    segment: a phrase reads some twenty of them in each of a corpus's ~50 segments."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, segment: "_Segment", owner: type) -> np.ndarray:
        found = segment.__dict__[self.name] = segment.arrays[self.name]
        return found


def self_overlapping(term: str) -> bool:
    """Whether two occurrences of `term` can overlap (it begins the way it ends, as 公公 or 1.1)."""
    return any(term[:k] == term[-k:] for k in range(1, len(term)))


def countable(term: str) -> bool:
    """Whether `GramIndex.count` counts `term`: 2 to PREFIX_CHARS characters that cannot overlap
    themselves (counting each start would differ from `str.count` there)."""
    return 2 <= len(term) <= PREFIX_CHARS and not self_overlapping(term)


def count_within(text: str, term: str, spans: list[tuple[int, int]]) -> int:
    """Occurrences of `term` wholly inside `spans` of `text`; str.count is non-overlapping, as
    the whole-text count is."""
    return sum(text.count(term, start, end) for start, end in spans)


class Cells(NamedTuple):
    """A report cut into its sections and, as "other", the text outside them (see `cells`)."""

    starts: list[int]
    ends: list[int]
    kinds: list[str]


def cells(bounds: list[tuple[int, int, str]], length: int) -> Cells:
    """The sections and, as "other", the text outside them: the kind of every position."""
    starts: list[int] = []
    ends: list[int] = []
    kinds: list[str] = []
    position = 0
    for start, end, kind in bounds:
        if start > position:
            starts.append(position)
            ends.append(start)
            kinds.append("other")
        starts.append(start)
        ends.append(end)
        kinds.append(kind)
        position = max(position, end)
    if position < length:
        starts.append(position)
        ends.append(length)
        kinds.append("other")
    return Cells(starts, ends, kinds)


@dataclass
class _Segment:
    name: str
    arrays: _Arrays
    ids = _Stored()  # report id per local doc number
    terms = _Stored()  # sorted gram codes (uint64)
    counts = _Stored()  # reports holding each term
    dense = _Stored()  # row in `bits` per term, or -1 for a listed term
    starts = _Stored()  # listed terms: docs[starts[i]:starts[i + 1]]
    docs = _Stored()  # local doc numbers (uint16)
    bits = _Stored()  # one packed bitmap row per dense term
    # Positions in the segment's text (its reports' texts joined in doc order):
    lengths = _Stored()  # text length per doc
    pterms = _Stored()  # sorted bigram codes whose positions are kept
    pstarts = _Stored()  # their positions: gaps[pstarts[i]:pstarts[i + 1]], each from the one before
    # The gaps (uint16; _GAP marks a gap stored in full at the same place in big_gap) are stored
    # in pieces: piece k, array "gaps{k}", holds those of pterms[pieces[k]:pieces[k + 1]].
    pieces = _Stored()
    big_at = _Stored()  # sorted places in the gaps holding _GAP
    big_gap = _Stored()
    # The docs' `cells` in the segment's text (none in segments from before they were kept):
    cell_at = _Stored()  # where each begins, ascending
    cell_end = _Stored()
    cell_kind = _Stored()  # its kind, as a place in cell_names
    cell_names = _Stored()
    cell_section = _Stored()  # a section, not text between sections (whose kind is "other" too)

    @property
    def size(self) -> int:
        return len(self.ids)

    @cached_property
    def ends(self) -> np.ndarray:
        """Where each doc's text ends in the segment's text."""
        return np.cumsum(self.lengths)

    @cached_property
    def _piece_of(self) -> np.ndarray:
        """The piece of the gaps holding each kept bigram's positions."""
        return np.searchsorted(self.pieces, np.arange(len(self.pterms)), side="right") - 1

    @cached_property
    def _big_from(self) -> np.ndarray:
        """Per kept bigram (and one past the last), its first gap stored in full, a place in big_at."""
        return np.searchsorted(self.big_at, self.pstarts)

    @cached_property
    def text_length(self) -> int:
        """The length of the segment's text (0 where lengths were not kept)."""
        return int(self.ends[-1]) if len(self.ends) else 0

    @cached_property
    def id_list(self) -> list[str]:
        return self.ids.tolist()

    def starts_of(self, term: str, codes: np.ndarray, kept: list[int] | None, plan: "_Plan", view: "TextView",
                  out: np.ndarray, marks: "_Marks") -> np.ndarray | None:
        """Where `term` (bigram `codes`, at `kept` in pterms, None where one has no positions here)
        may start in this segment's text (see term_starts), within the sections `view` asks for;
        or None where its occurrences were counted in texts, into `out`. `plan`: which bigrams to
        check; `marks`: at least as long as the segment's text."""
        if kept is None or (view.within is not None and "cell_section" not in self.arrays):
            slot = np.minimum(np.searchsorted(self.terms, codes), len(self.terms) - 1)
            if not len(self.terms) or (self.terms[slot] != codes).any():  # a bigram in none of these reports
                return np.zeros(0, dtype=np.int64)
            # A bigram in few of these reports, or sections asked of a segment without cells:
            # count in the texts of the reports holding the rarest bigrams.
            rows = view.rows_of(self)
            docs = self.holding(codes[np.argsort(self.counts[slot])[:4]])
            docs = docs[rows[docs] >= 0]
            out[rows[docs]] = view.count([self.id_list[d] for d in docs.tolist()], term)
            return None
        start = self.term_starts(plan, kept, marks)
        if view.within is not None:  # only those wholly inside a section of the kinds asked for
            cell = np.searchsorted(self.cell_at, start, side="right") - 1
            start = start[self.in_sections(list(view.within[0]))[cell] & (start + len(term) <= self.cell_end[cell])]
        return start

    def term_starts(self, plan: "_Plan", kept: list[int], marks: "_Marks") -> np.ndarray:
        """Where the term starts in the segment's text, from the positions of the bigrams `plan`
        checks (bigram k, the one at offset k, is kept at kept[k] in pterms), with `marks` as
        scratch space. An occurrence starts where each bigram k is found at start + k; where the
        plan's bigrams are not side by side, some of these run into the next report (see
        `GramIndex._tally`)."""
        first = plan.chosen[0]
        start = self.positions(kept[first]) - first
        last = self.text_length - plan.length  # the last place a term can start
        if len(start) and (start[0] < 0 or start[-1] > last):
            start = start[np.searchsorted(start, 0):np.searchsorted(start, last, side="right")]
        for k in plan.chosen[1:]:
            if not len(start):
                break
            found = self.positions(kept[k])
            wanted = start + k
            if len(start) * 16 < len(found):  # a few candidates: look each up
                start = start[found.take(np.searchsorted(found, wanted), mode="clip") == wanted]
            else:  # many: mark them, then keep the positions found marked (no binary search)
                start = found[marks.among(found, wanted)] - k
        return start

    def in_sections(self, kinds: list[str]) -> np.ndarray:
        """Per cell: whether it is a section of one of `kinds` (text between sections is not)."""
        return np.isin(self.cell_names, kinds)[self.cell_kind] & self.cell_section

    def kinds(self, starts: np.ndarray, rows: np.ndarray) -> dict[int, list[str]]:
        """row → kinds of the cells where `starts` fall, in text order, for the docs seen at `rows`."""
        # Cells lie in text order, each inside one doc: sorted cell numbers are grouped by doc.
        cell = np.unique(np.searchsorted(self.cell_at, starts, side="right") - 1)
        row = rows[np.searchsorted(self.ends, self.cell_at[cell], side="right")]
        kind = self.cell_kind[cell].astype(np.int64)
        seen = row >= 0
        # Each (row, kind) once, where it first appears.
        _, first = np.unique(row[seen] * 256 + kind[seen], return_index=True)
        first.sort()
        names = self.cell_names.tolist()
        out: dict[int, list[str]] = {}
        for r, k in zip(row[seen][first].tolist(), kind[seen][first].tolist()):
            out.setdefault(r, []).append(names[k])
        return out

    def positions(self, t: int) -> np.ndarray:
        """Positions of the kept bigram pterms[t], ascending."""
        first, last = self.pstarts[t], self.pstarts[t + 1]
        piece = self._piece_of[t]
        base = self.pstarts[self.pieces[piece]]
        gaps = self.arrays[f"gaps{piece}"][first - base:last - base]
        lo, hi = self._big_from[t], self._big_from[t + 1]
        if lo == hi:  # no gap stored in full: the usual case for a common bigram
            return np.cumsum(gaps, dtype=np.int64)
        gaps = gaps.astype(np.int64)
        gaps[self.big_at[lo:hi] - first] = self.big_gap[lo:hi]
        return np.cumsum(gaps)

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


class _Marks:
    """Scratch space to intersect positions in a segment's text: a stamp per position. Each
    intersection marks with a new stamp, so none has to clear what it marked (at 20,000 reports
    a common phrase's time goes mostly to sweeping this array)."""

    def __init__(self, size: int) -> None:
        self.stamps = np.zeros(size, dtype=np.uint8)
        self.stamp = 0

    def among(self, positions: np.ndarray, marked: np.ndarray) -> np.ndarray:
        """Which of `positions` are in `marked`."""
        self.stamp += 1
        if self.stamp > 255:
            self.stamps[:] = 0
            self.stamp = 1
        self.stamps[marked] = self.stamp
        return self.stamps[positions] == self.stamp


class _Plan(NamedTuple):
    """Which of a term's bigrams `count` checks, the same in every segment: a cheapest set that
    covers every character, the rarest first. Bigrams that another two pin down are not needed
    (信息 of 政府信息公开, given 府信 and 息公)."""

    chosen: list[int]  # offsets in the term (bigram k holds characters k and k + 1)
    apart: bool  # two chosen bigrams are not side by side: an occurrence could span two reports
    length: int  # the term's length in characters

    @classmethod
    def of(cls, sizes: list[int], segments: int) -> "_Plan":
        """The plan for a term whose bigrams have `sizes` positions in all, in `segments` segments
        (each check costs _CHECK_COST in each)."""
        cover = _cover([size + _CHECK_COST * segments for size in sizes])
        return cls(sorted(cover, key=sizes.__getitem__), any(b - a > 1 for a, b in zip(cover, cover[1:])), len(sizes) + 1)


def _cover(sizes: list[int]) -> list[int]:
    """The cheapest offsets of a term's bigrams (bigram k holds characters k and k + 1; `sizes`:
    what each costs) that hold every character: the first and the last, and no two side by
    side left out."""
    best = [0] * len(sizes)  # the cheapest cover of characters 0..k + 1 that uses bigram k
    back = [-1] * len(sizes)
    for k, size in enumerate(sizes):
        before = [j for j in (k - 1, k - 2) if j >= 0]
        if before:
            back[k] = min(before, key=best.__getitem__)
            best[k] = size + best[back[k]]
        else:
            best[k] = size
    chosen = [len(sizes) - 1]
    while back[chosen[-1]] >= 0:
        chosen.append(back[chosen[-1]])
    return chosen[::-1]


def _build(name: str, ids: list[str], codes: np.ndarray, docs: np.ndarray, texts: list[str],
           bounds: list[list[tuple[int, int, str]]]) -> _Segment:
    """A segment from postings (gram code, local doc number), the texts and their sections'
    bounds; doc numbers index `ids`."""
    n = len(ids)
    # Postings in (code, doc) order, sorted as one 64-bit key: a code takes at most 42 bits and a
    # doc number 11 (SEGMENT_DOCS). np.lexsort of the two took five times as long.
    bits = np.uint64(max(n - 1, 1).bit_length())  # this segment's doc numbers
    key = np.sort((codes.astype(np.uint64) << bits) | docs.astype(np.uint64))
    codes, docs = key >> bits, (key & np.uint64((1 << int(bits)) - 1)).astype(docs.dtype)
    first = _firsts(codes)  # codes are sorted: np.unique would sort them again (65 ms a batch)
    terms, counts = codes[first], np.diff(np.append(first, len(codes)))
    is_dense = counts * 16 > n  # a bitmap of n/8 bytes beats a list of 2 bytes per report
    dense = np.full(len(terms), -1, dtype=np.int32)
    dense[is_dense] = np.arange(int(is_dense.sum()), dtype=np.int32)
    posting_dense = np.repeat(is_dense, counts)
    matrix = np.zeros((int(is_dense.sum()), n), dtype=bool)
    matrix[np.repeat(dense[is_dense], counts[is_dense]), docs[posting_dense]] = True
    listed_counts = np.where(is_dense, 0, counts)
    starts = np.concatenate([[0], np.cumsum(listed_counts)]).astype(np.uint32)
    arrays = {"ids": np.array(ids, dtype=str), "terms": terms, "counts": counts.astype(np.uint32), "dense": dense,
              "starts": starts, "docs": docs[~posting_dense].astype(np.uint16), "bits": np.packbits(matrix, axis=1)}
    arrays.update(_positions(texts, terms[(counts >= POSITION_FRACTION * n) & (terms >= _BIGRAM)]))
    arrays.update(_cell_arrays(texts, bounds))
    return _Segment(name, _Arrays(arrays))


def _cell_arrays(texts: list[str], bounds: list[list[tuple[int, int, str]]]) -> dict[str, np.ndarray]:
    at: list[int] = []
    end: list[int] = []
    kinds: list[str] = []
    section: list[bool] = []
    offset = 0
    for text, found in zip(texts, bounds):
        starts, ends, names = cells(found, len(text))
        sections = set(found)
        at += [offset + s for s in starts]
        end += [offset + e for e in ends]
        kinds += names
        section += [cell in sections for cell in zip(starts, ends, names)]
        offset += len(text)
    names = sorted(set(kinds))
    code = {name: k for k, name in enumerate(names)}
    return {"cell_at": np.array(at, dtype=np.int64), "cell_end": np.array(end, dtype=np.int64),
            "cell_kind": np.array([code[k] for k in kinds], dtype=np.uint8), "cell_names": np.array(names, dtype=str),
            "cell_section": np.array(section, dtype=bool)}


def _positions(texts: list[str], common: np.ndarray) -> dict[str, np.ndarray]:
    """The position arrays for the `common` bigrams (sorted codes, each in some text)."""
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    chars = _chars("".join(texts)).astype(np.uint64)
    codes = _bigrams(chars)
    ends = np.cumsum(lengths)
    slot = _places(common, codes)
    slot[ends[(ends > 0) & (ends < len(chars))] - 1] = -1  # a bigram across two reports is no bigram
    where = np.flatnonzero(slot >= 0)
    slot = slot[where]
    # A stable sort by bigram keeps each bigram's positions ascending (radix sort on 16 bits).
    where = where[np.argsort(slot.astype(np.uint16) if len(common) <= 0xFFFF else slot, kind="stable")]
    pstarts = np.concatenate([[0], np.cumsum(np.bincount(slot, minlength=len(common)))])
    gaps = np.diff(where, prepend=0)
    firsts = pstarts[:-1]
    gaps[firsts] = where[firsts]
    big_at = np.flatnonzero(gaps >= _GAP)
    # Pieces of about GAP_PIECE gaps, each a run of whole bigrams (a frequent one may fill several).
    pieces = np.unique(np.searchsorted(pstarts, np.arange(0, len(gaps), GAP_PIECE), side="right") - 1)
    pieces = np.append(pieces, len(common))
    big_gap, gaps = gaps[big_at], np.minimum(gaps, _GAP).astype(np.uint16)
    return {"lengths": lengths, "pterms": common, "pstarts": pstarts, "pieces": pieces, "big_at": big_at,
            "big_gap": big_gap, **{f"gaps{k}": gaps[pstarts[a]:pstarts[b]]
                                        for k, (a, b) in enumerate(zip(pieces[:-1].tolist(), pieces[1:].tolist()))}}


def _places(common: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Each code's place in `common` (distinct codes), -1 where it is not there.

    A hash table (pandas' Index, a dependency already): `np.searchsorted` and a check of what it
    found took ~0.3 ms a report, a binary search for every character of a batch's texts.
    pandas is imported here, when a build writes a segment: no search needs it.
    """
    import pandas as pd

    return pd.Index(common).get_indexer(codes)


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

    @cached_property
    def kept(self) -> "_Kept":
        """Every segment's kept bigrams in one table, made once per commit."""
        return _Kept.of(self.segments)


class _Kept(NamedTuple):
    """Every segment's kept bigrams in one table, so that a count finds its term's bigrams in all
    segments at once (looked up segment by segment, that took some ten numpy calls in each)."""

    codes: np.ndarray  # every bigram kept in some segment, sorted
    places: np.ndarray  # [bigram, segment]: its place in that segment's pterms, or -1
    sizes: np.ndarray  # [bigram, segment]: how many positions it has there

    @classmethod
    def of(cls, segments: list[_Segment]) -> "_Kept":
        codes = _distinct(np.concatenate([s.pterms for s in segments])) if segments else np.zeros(0, np.uint64)
        places = np.full((len(codes), len(segments)), -1, dtype=np.int32)
        sizes = np.zeros((len(codes), len(segments)), dtype=np.int32)  # far under 2**31 in any segment
        for k, segment in enumerate(segments):
            rows = np.searchsorted(codes, segment.pterms)
            places[rows, k] = np.arange(len(segment.pterms))
            sizes[rows, k] = np.diff(segment.pstarts)
        return cls(codes, places, sizes)

    def find(self, codes: np.ndarray) -> tuple[list[list[int] | None], np.ndarray, int]:
        """For the bigram `codes` of a term: per segment, their places in its pterms (None where
        one has no positions there); their positions in all those segments; how many those are."""
        rows = np.minimum(np.searchsorted(self.codes, codes), max(len(self.codes) - 1, 0))
        if not len(self.codes) or (self.codes[rows] != codes).any():
            return [None] * self.places.shape[1], np.zeros(len(codes), np.int64), 0
        places = self.places[rows]
        counted = (places >= 0).all(axis=0)
        kept = [p if ok else None for p, ok in zip(places.T.tolist(), counted.tolist())]
        return kept, self.sizes[rows][:, counted].sum(axis=1), int(counted.sum())


class TextView:
    """The reports a search may see (one store generation's visible reports) as `GramIndex.count`
    reads them: each one's row in the count arrays, and its text where a count needs it."""

    def __init__(self, rows: dict[str, int], texts: Callable[[list[str]], list[str]],
                 within: tuple[set[str], Callable[[list[str], list[str]], list[list[tuple[int, int]]]]] | None = None) -> None:
        """`rows`: report id → row, for every report the search may see; `texts`: the normalised
        texts of such ids, in order; `within`: (kinds, spans) to count only occurrences wholly
        inside a section of those kinds, `spans` giving the sections' spans of (ids, texts)."""
        self.rows = rows
        self.texts = texts
        self.within = within
        self._rows: dict[str, np.ndarray] = {}

    def limited(self, kinds: list[str], spans: Callable[[list[str], list[str]], list[list[tuple[int, int]]]]) -> "TextView":
        """The same reports, counting only inside sections of `kinds`."""
        view = TextView(self.rows, self.texts, (set(kinds), spans))
        view._rows = self._rows
        return view

    def rows_of(self, segment: _Segment) -> np.ndarray:
        """The row of each of the segment's docs, -1 for a report the search may not see."""
        found = self._rows.get(segment.name)
        if found is None:
            found = self._rows[segment.name] = np.fromiter(map(self.rows.get, segment.id_list, repeat(-1)),
                                                          np.int64, segment.size)
        return found

    def rows_in(self, segments: list[_Segment]) -> np.ndarray:
        """The row of each doc of `segments`, in order, -1 for a report the search may not see."""
        key = "\0".join(s.name for s in segments)
        found = self._rows.get(key)
        if found is None:
            found = self._rows[key] = np.concatenate([self.rows_of(s) for s in segments] or [np.zeros(0, np.int64)])
        return found

    def count(self, ids: list[str], term: str) -> np.ndarray:
        """Occurrences of `term` in the texts of `ids`, by `str.count` (within the sections asked for)."""
        texts = self.texts(ids)
        if self.within is None:
            return np.fromiter(map(str.count, texts, repeat(term)), np.int64, len(texts))
        spans = self.within[1](ids, texts)
        return np.fromiter(map(count_within, texts, repeat(term), spans), np.int64, len(texts))


class GramIndex:
    """Reading and writing the gram index in one folder (the full-text folder)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cache: tuple[bytes, _Snapshot] | None = None
        # Loaded segments by file name: a segment never changes once written, so after a commit
        # only the new ones are read (a build's every batch reloaded all earlier ones).
        self._segments: dict[str, _Segment] = {}

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
        """The last commit, loaded once per commit. A commit is known by its table of contents'
        bytes: file times come from a clock that ticks every few milliseconds, so two commits
        in one tick can share one, and with it a size (the `delete` after a publish could then
        see the snapshot from before the last `add`)."""
        for _ in range(3):
            try:
                key = self._toc_path().read_bytes()
            except FileNotFoundError:
                return _Snapshot(self._read_toc(), [], set(), set())
            if self._cache and self._cache[0] == key:
                return self._cache[1]
            toc = json.loads(key)
            try:
                segments = [self._segments.get(s["name"]) or self._load(s["name"]) for s in toc["segments"]]
            except FileNotFoundError:
                continue  # an optimize replaced the segments between the two reads
            self._segments = {segment.name: segment for segment in segments}
            snap = _Snapshot(toc, segments, set(toc["deleted"]), {str(i) for s in segments for i in s.ids})
            self._cache = (key, snap)
            return snap
        raise RuntimeError(f"the gram index in {self.path} keeps changing under the reader")

    def _load(self, name: str) -> _Segment:
        if not name.endswith(_NPZ_SUFFIX):
            return _Segment(name, _Arrays.read(self.path / name))
        with np.load(self.path / name, allow_pickle=False) as data:
            arrays = {k: data[k] for k in _ARRAYS}
            if "pterms" in data:  # its gaps in one piece
                arrays.update({k: data[k] for k in _POSITION_ARRAYS if k != "pieces"}, gaps0=data["gaps"],
                              pieces=np.array([0, len(data["pterms"])]))
            else:
                arrays.update(_empty_positions())
            return _Segment(name, _Arrays(arrays))

    def report_ids(self) -> set[str]:
        return self.snapshot().live

    def doc_count(self) -> int:
        snap = self.snapshot()
        return len(snap.present) - len(snap.deleted & snap.present)

    def lengths(self, ids: Iterable[str]) -> dict[str, int] | None:
        """The normalised text length of each of `ids`, or None if one has none here (not in the
        index, or in a segment from before lengths were kept)."""
        found = {}
        for segment in self.snapshot().segments:
            found.update(zip(segment.id_list, segment.lengths.tolist()))
        try:
            return {i: found[i] for i in ids}
        except KeyError:
            return None

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

    def count(self, term: str, view: TextView, starts: dict[str, np.ndarray | None] | None = None) -> np.ndarray:
        """Occurrences of a `countable` term in each report of `view` (by its row), as
        `text.count(term)` gives them. `starts`, where given, receives segment name → where the
        occurrences start in its text, or None where they were counted in texts (for `kinds`)."""
        if not countable(term):
            raise ValueError(f"count needs 2 to {PREFIX_CHARS} characters that cannot overlap: {term!r}")
        codes = _bigrams(_chars(term).astype(np.uint64))
        snap = self.snapshot()
        out = np.zeros(len(view.rows), dtype=np.int64)
        marks = _Marks(max((s.text_length for s in snap.segments), default=0))
        kept, sizes, counted = snap.kept.find(codes)
        plan = _Plan.of(sizes.tolist(), counted)
        found = [segment.starts_of(term, codes, places, plan, view, out, marks)
                 for segment, places in zip(snap.segments, kept)]
        found = self._tally(snap, found, plan, view, out)
        if starts is not None:
            starts.update(zip((s.name for s in snap.segments), found))
        for report_id in snap.deleted:  # none is visible while the index agrees with the store
            if report_id in view.rows:
                out[view.rows[report_id]] = 0
        return out

    @staticmethod
    def _tally(snap: _Snapshot, found: list[np.ndarray | None], plan: _Plan, view: TextView,
               out: np.ndarray) -> list[np.ndarray | None]:
        """Put into `out` the occurrences per report where `found` (per segment: where the term
        starts in its text, None where it was counted in texts) holds them; return `found`
        without the starts whose occurrence would run into the next report. Each segment looks
        its reports' ends up among its starts; the rest is done for all segments at once."""
        counted = [f is not None for f in found]
        if not any(counted):
            return found
        sizes = [s.size for s in snap.segments]
        before = np.cumsum([0] + [0 if f is None else len(f) for f in found[:-1]])  # starts in earlier segments
        ends = [np.zeros(n, np.int64) if f is None else np.searchsorted(f, s.ends)
                for s, f, n in zip(snap.segments, found, sizes)]
        after = np.concatenate(ends) + np.repeat(before, sizes)  # all the starts before each report's end
        if plan.apart:
            # Bigrams checked apart may lie in two reports (bigrams that overlap share a character,
            # so a report): a start less than the term's length - 1 before its report's end is none.
            fits = [np.zeros(n, np.int64) if f is None else np.searchsorted(f, s.ends - (plan.length - 1))
                    for s, f, n in zip(snap.segments, found, sizes)]
            fits = np.maximum(np.concatenate(fits) + np.repeat(before, sizes), np.append(0, after[:-1]))
            if (fits < after).any():
                keep = np.ones(after[-1], dtype=bool)
                for d in np.flatnonzero(fits < after).tolist():
                    keep[fits[d]:after[d]] = False
                after = np.cumsum(keep)[after - 1] * (after > 0)
                found = [None if f is None else f[keep[at:at + len(f)]] for f, at in zip(found, before.tolist())]
        rows = view.rows_in(snap.segments)
        take = np.repeat(counted, sizes) & (rows >= 0)
        out[rows[take]] = np.diff(after, prepend=0)[take]
        return found

    def having(self, kinds: list[str], view: TextView) -> np.ndarray | None:
        """Whether each report of `view` (by row) has a section of one of `kinds`; None if a
        segment keeps no cells."""
        out = np.zeros(len(view.rows), dtype=bool)
        for segment in self.snapshot().segments:
            if "cell_section" not in segment.arrays:
                return None
            at = segment.cell_at[segment.in_sections(kinds)]
            rows = view.rows_of(segment)[np.searchsorted(segment.ends, at, side="right")]
            out[rows[rows >= 0]] = True
        return out

    def kinds(self, starts: list[dict[str, np.ndarray | None]], view: TextView) -> dict[int, list[str]]:
        """row → kinds of the cells (see `cells`) where the occurrences in `starts` (one dict from
        `count` per term) begin, in text order: what a listing shows without reading texts. Only
        for reports of segments that keep their cells and where every term was counted from
        positions; a report holding none of the occurrences is absent."""
        out: dict[int, list[str]] = {}
        for segment in self.snapshot().segments:
            found = [s.get(segment.name) for s in starts]
            if "cell_section" in segment.arrays and found and all(f is not None for f in found):
                out.update(segment.kinds(np.concatenate(found), view.rows_of(segment)))
        return out

    # --- writing (under nianbao's write lock) ------------------------------------------------

    def _save(self, segment: _Segment) -> None:
        tmp = self.path / f"{segment.name}.tmp"
        with open(tmp, "wb") as fh:
            _Arrays.write(segment.arrays.everything(), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / segment.name)

    def add(self, docs: Iterable[tuple[str, np.ndarray, str]],
            bounds: Mapping[str, list[tuple[int, int, str]]] | None = None) -> None:
        """Add (report id, gram codes, normalised text) in one commit, with each report's section
        bounds in its normalised text (none: all "other"); a report already present is kept once."""
        snap = self.snapshot()
        toc = snap.toc
        deleted = set(snap.deleted)
        present = snap.live
        fresh: dict[str, tuple[np.ndarray, str]] = {}
        for report_id, codes, text in docs:
            if report_id in deleted:
                deleted.discard(report_id)  # ids are content hashes: the old postings are this report's
                present.add(report_id)
            if report_id not in present:
                fresh[report_id] = (codes, text)
        names = self._write_segments([(i, codes, text) for i, (codes, text) in fresh.items()], bounds or {})
        if names or deleted != set(toc["deleted"]):
            self._write_toc({**toc, "segments": toc["segments"] + names, "deleted": sorted(deleted)})

    def _write_segments(self, items: list[tuple[str, np.ndarray, str]],
                        bounds: Mapping[str, list[tuple[int, int, str]]]) -> list[dict]:
        """Segments of at most SEGMENT_DOCS reports, saved; their entries for the table of contents."""
        names = []
        for start in range(0, len(items), SEGMENT_DOCS):
            chunk = items[start:start + SEGMENT_DOCS]
            segment = _build(f"{SEGMENT_PREFIX}{uuid.uuid4().hex}{SEGMENT_SUFFIX}", [i for i, _, _ in chunk],
                             np.concatenate([c for _, c, _ in chunk]),
                             np.repeat(np.arange(len(chunk)), [len(c) for _, c, _ in chunk]),
                             [text for _, _, text in chunk], [bounds.get(i, []) for i, _, _ in chunk])
            self._save(segment)
            self._segments[segment.name] = segment
            names.append({"name": segment.name, "docs": segment.size})
        return names

    def delete(self, report_ids: Iterable[str]) -> None:
        snap = self.snapshot()
        toc = snap.toc
        doomed = set(report_ids) & snap.present
        if doomed - set(toc["deleted"]):
            self._write_toc({**toc, "deleted": sorted(set(toc["deleted"]) | doomed)})

    def optimize(self, texts: Mapping[str, str], bounds: Mapping[str, list[tuple[int, int, str]]] | None = None) -> None:
        """Rewrite the segments without deleted reports, packed into as few segments as fit;
        `texts` holds the normalised text of every live report, `bounds` its sections'."""
        snap = self.snapshot()
        if len(snap.segments) <= 1 and not snap.deleted:
            return
        live = [str(i) for s in snap.segments for i in s.ids if str(i) not in snap.deleted]
        names = self._write_segments([(i, gram_codes(texts[i]), texts[i]) for i in live], bounds or {})
        self._write_toc({**snap.toc, "segments": names, "deleted": []})
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
