"""Copied passages: text shared verbatim or nearly between reports of different agencies.

Superiors warn agencies against 内容雷同 (copy-paste reports), so a passage that two
agencies share is a story — unless the template itself put it there. Needs no model.

How it works:

1. Every prose paragraph is normalised and cut into *pieces*: sentences (split at 。！？；),
   short ones merged with the next, long ones cut at commas. A piece is the unit of
   evidence; a copied passage is a run of consecutive copied pieces.
2. Each distinct piece (digits masked) gets a MinHash of its character 3-shingles; MinHash LSH finds
   candidate near-duplicates, and each candidate is verified by the exact Jaccard similarity
   of the shingle sets (>= `piece_jaccard`).
3. **Boilerplate rule.** Template text is what more than `boilerplate_agencies(n)` distinct
   agencies share: more than half of the corpus's agencies, at least 2 (a pair of agencies is
   never template, however small the corpus), at most `max_agencies` (a phrase in thousands
   of reports is a formula, not thousands of copies). With the five samples, text shared by
   three or more agencies is template. Agencies, not reports, are counted: one agency reusing
   its own text year after year is not template. The rule is applied twice: a piece whose
   verified near-duplicates reach that many agencies never pairs, nor does any near-duplicate
   of such a piece (`_near_duplicates`); and a passage is dropped
   when at least half of its character 5-grams (digits masked, as years and counts differ)
   occur in the prose of that many agencies — template sentences are worded a little
   differently in each report (统计期限自… / 统计时限为…), so their pieces do not all match.
4. Piece pairs of different agencies are grouped by paragraph pair; consecutive pairs (one
   unmatched sentence may sit between them) join into one passage. Each passage is verified
   with `difflib.SequenceMatcher`: `chars` is the number of characters the two passages have
   in common, `similarity` its ratio; passages below `min_chars` or `min_similarity` are dropped.
"""

from __future__ import annotations

import re
from sys import intern
from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher

from datasketch import MinHash, MinHashLSH

from ..core.shapes import report_summary
from ..normalize import normalize
from ..store import Store

SHINGLE = 3
NUM_PERM = 64
MIN_PIECE = 12     # a shorter sentence is merged with the next one
MAX_PIECE = 100    # a longer sentence is cut at commas
TINY_PIECE = 8     # a piece shorter than this is no evidence of copying
TEMPLATE_GRAM = 5  # shingle size of the passage-level boilerplate test
TEMPLATE_COVER = 0.5
QUICK_REPORTS = 2000
"""Up to this many reports `copies` answers in seconds (21 s at 2,000, 151 s at 20,000 on 2 cores):
the app runs it unasked only up to here."""

_SENTENCE = re.compile(r"[^。！？；!?;]*[。！？；!?;]*")
_CLAUSE = re.compile(r"[^，,、：:]*[，,、：:]*")
_DIGIT = re.compile(r"\d")


@dataclass
class _Piece:
    para: int      # index into the paragraph list
    pos: int       # position among its paragraph's pieces
    text: str


def _cut(text: str, pattern: re.Pattern[str]) -> list[str]:
    return [m for m in pattern.findall(text) if m]


def _pieces(text: str) -> list[str]:
    """Sentences of a normalised paragraph, merged up to MIN_PIECE and cut down to MAX_PIECE."""
    sentences: list[str] = []
    for sentence in _cut(text, _SENTENCE):
        if len(sentence) <= MAX_PIECE:
            sentences.append(sentence)
            continue
        chunk = ""
        for clause in _cut(sentence, _CLAUSE):
            chunk += clause
            if len(chunk) >= MAX_PIECE // 2:
                sentences.append(chunk)
                chunk = ""
        if chunk:
            sentences.append(chunk)
    merged: list[str] = []
    carry = ""
    for sentence in sentences:
        carry += sentence
        if len(carry) >= MIN_PIECE:
            merged.append(carry)
            carry = ""
    if carry:
        if merged:
            merged[-1] += carry
        else:
            merged.append(carry)
    return merged


def _masked(text: str) -> str:
    """Digits masked: the same sentence with another year or count is the same text."""
    return _DIGIT.sub("0", text)


def _shingles(text: str, size: int = SHINGLE) -> set[str]:
    text = _masked(text)
    if len(text) <= size:
        return {text}
    return {intern(text[i:i + size]) for i in range(len(text) - size + 1)}


def boilerplate_agencies(n_agencies: int, max_share: float = 0.5, max_agencies: int = 50) -> float:
    """A piece found in more agencies than this is the template's own text."""
    return max(2.0, min(n_agencies * max_share, float(max_agencies)))


def _agency_key(report: dict) -> str:
    """Reports of one agency share a key; a report whose agency is unknown is its own agency."""
    agency = normalize(report["agency"] or "").strip()
    return f"agency:{agency}" if agency else f"report:{report['id']}"


def _near_duplicates(texts: list[str], agencies: list[set[str]], piece_jaccard: float,
                     limit: float) -> list[list[int] | None]:
    """For each distinct digit-masked piece text, the indexes of its verified near-duplicates (itself
    included); None for template text: a text whose near-duplicates reach more than `limit`
    agencies, and those near-duplicates.

    Texts are queried most widespread first, and one marked template is not queried itself. A
    template sentence holding each agency's name forms a cluster of thousands of texts, every
    one a candidate of every other: querying and verifying them all took 6 minutes at 2,000
    reports, and grows with the square of the corpus.
    """
    shingles = [_shingles(t) for t in texts]
    hashes = MinHash.bulk([[s.encode("utf-8") for s in sh] for sh in shingles], num_perm=NUM_PERM)
    lsh = MinHashLSH(threshold=piece_jaccard, num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for i, h in enumerate(hashes):
            session.insert(i, h)
    neighbours: list[list[int] | None] = [[] for _ in texts]
    for i in sorted(range(len(texts)), key=lambda i: -len(agencies[i])):
        if neighbours[i] is None:
            continue
        near, reached = [i], set(agencies[i])
        for j in lsh.query(hashes[i]):
            common = len(shingles[i] & shingles[j])
            if j != i and common / (len(shingles[i]) + len(shingles[j]) - common) >= piece_jaccard:
                near.append(j)
                reached |= agencies[j]
        if len(reached) > limit:
            for j in near:
                neighbours[j] = None
        else:
            neighbours[i] = near
    return neighbours


def _chains(pairs: set[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Consecutive piece pairs joined into runs; one unmatched piece may sit between two links."""
    chains: list[list[tuple[int, int]]] = []
    used: set[tuple[int, int]] = set()
    for start in sorted(pairs):
        if start in used:
            continue
        chain = [start]
        used.add(start)
        while True:
            i, j = chain[-1]
            step = next(((i + di, j + dj) for di in (1, 2) for dj in (1, 2)
                         if (i + di, j + dj) in pairs and (i + di, j + dj) not in used), None)
            if step is None:
                break
            chain.append(step)
            used.add(step)
        chains.append(chain)
    return chains


def _location(report: dict, row) -> dict:
    return {**report_summary(report), "section_kind": row["section_kind"], "paragraph_text": row["text"]}


def _template_share(passages: list[str], rows: list, agency_of: dict[str, str], limit: float) -> list[float]:
    """For each passage, the share of its 5-grams found in the prose of more than `limit` agencies."""
    grams = [_shingles(t, TEMPLATE_GRAM) for t in passages]
    wanted = set().union(*grams) if grams else set()
    seen: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        text = _masked(normalize(row["text"]))
        agency = agency_of[row["report_id"]]
        for i in range(len(text) - TEMPLATE_GRAM + 1):
            gram = text[i:i + TEMPLATE_GRAM]
            if gram in wanted:
                seen[gram].add(agency)
    return [sum(len(seen[g]) > limit for g in gs) / len(gs) for gs in grams]


def copies(store: Store, min_chars: int = 30, *, min_similarity: float = 0.7, piece_jaccard: float = 0.5,
           max_share: float = 0.5, max_agencies: int = 50) -> dict:
    """Passages shared verbatim or nearly between reports of different agencies, template text excluded.

    Returns `{min_chars, results: [{text, chars, similarity, a: {...}, b: {...}}]}`, longest first;
    `text` is the passage as it stands in report `a` (normalised), `chars` the characters the two
    passages have in common.
    """
    with store.snapshot():
        reports = {r["id"]: r for r in store.reports()}
        rows = store.paragraphs()
    agency_of = {rid: _agency_key(r) for rid, r in reports.items()}
    limit = boilerplate_agencies(len(set(agency_of.values())), max_share, max_agencies)

    para_pieces: list[list[str]] = []
    pieces: list[_Piece] = []
    for p, row in enumerate(rows):
        texts = _pieces(normalize(row["text"]))
        para_pieces.append(texts)
        pieces += [_Piece(p, k, t) for k, t in enumerate(texts) if len(t) >= TINY_PIECE]
    piece_agency = [agency_of[rows[piece.para]["report_id"]] for piece in pieces]

    by_text: dict[str, list[int]] = defaultdict(list)  # digit-masked text -> its pieces
    for n, piece in enumerate(pieces):
        by_text[_masked(piece.text)].append(n)
    distinct = list(by_text)
    agencies = [{piece_agency[n] for n in by_text[text]} for text in distinct]
    neighbours = _near_duplicates(distinct, agencies, piece_jaccard, limit) if distinct else []

    # paragraph pair -> matched piece positions
    matched: dict[tuple[int, int], set[tuple[int, int]]] = defaultdict(set)
    for u, near in enumerate(neighbours):
        if near is None:  # template text
            continue
        occurrences = [n for v in near for n in by_text[distinct[v]]]
        for m in by_text[distinct[u]]:
            for n in occurrences:
                if piece_agency[m] == piece_agency[n]:
                    continue
                a, b = sorted((pieces[m], pieces[n]), key=lambda x: (x.para, x.pos))
                matched[(a.para, b.para)].add((a.pos, b.pos))

    candidates = []
    for (pa, pb), pairs in matched.items():
        for chain in _chains(pairs):
            text_a = "".join(para_pieces[pa][chain[0][0]:chain[-1][0] + 1])
            text_b = "".join(para_pieces[pb][chain[0][1]:chain[-1][1] + 1])
            matcher = SequenceMatcher(None, text_a, text_b, autojunk=False)
            chars = sum(block.size for block in matcher.get_matching_blocks())
            similarity = matcher.ratio()
            if chars >= min_chars and similarity >= min_similarity:
                candidates.append((pa, pb, text_a, chars, similarity))

    shares = _template_share([c[2] for c in candidates], rows, agency_of, limit)
    results = []
    for (pa, pb, text, chars, similarity), share in zip(candidates, shares):
        if share >= TEMPLATE_COVER:
            continue
        ra, rb = rows[pa], rows[pb]
        results.append({"text": text, "chars": chars, "similarity": round(similarity, 3),
                        "a": _location(reports[ra["report_id"]], ra), "b": _location(reports[rb["report_id"]], rb)})
    results.sort(key=lambda r: (-r["chars"], -r["similarity"], r["a"]["report_id"], r["b"]["report_id"], r["text"]))
    return {"min_chars": min_chars, "results": results}
