"""Similar reports: a report's nearest neighbours, with the section pairs that match best.

Why two steps: every report of this genre shares the template's boilerplate, so report
vectors (the mean of their passages) all lie within a few hundredths of each other. They
only shortlist; the ranking is by passage alignment: each passage of one report against its
best match in the other, averaged both ways. A copy with a third of its paragraphs dropped
and others reworded still aligns almost passage for passage with its source.

Scores are stated relative to the corpus: a cosine of 0.92 means nothing to a reader when
every pair of reports of the genre scores 0.9 or more. `ScoreScale` samples the alignment of
report pairs once per vectors generation, and each score (overall and per section pair, which
use the same alignment measure) comes with its percentile: "more similar than 95 % of the
corpus's report pairs".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core.shapes import report_summary
from ..ingest import DEFAULT_MAX_BYTES, read_file_bytes
from ..parse import parse_file_bytes
from ..store import Store
from .passages import iter_passages
from .vectors import (
    CACHE_FILE,
    KINDS,
    VECTORS_DIR,
    EmbeddingCache,
    VectorSet,
    VectorsError,
    embed_documents,
    get_model,
    load_vectors,
    text_key,
)

if TYPE_CHECKING:
    from .model import Embedder

__all__ = ["ScoreScale", "UnknownReportError", "score_scale", "similar", "similar_bytes", "similar_file"]

SHORTLIST = 50
PAIRS_SHOWN = 5
SCALE_PAIRS = 400
"""Report pairs sampled for the scale: the percentile of a score is then known to about ±2.5 points."""


class UnknownReportError(LookupError):
    """No visible report has this id (or id prefix), or it has no vectors."""


@dataclass
class _Profile:
    """What the comparison needs of one report: passage vectors, their section, section vectors."""

    passages: np.ndarray  # float32 (n, d)
    passage_sections: np.ndarray  # section key of each passage
    section_keys: list[int]
    section_kinds: list[str]

    @property
    def mean(self) -> np.ndarray:
        v = self.passages.mean(axis=0)
        return v / max(float(np.linalg.norm(v)), 1e-12)


def _profile_of(vs: VectorSet, report_idx: int) -> _Profile:
    rows = vs.rows_of(vs.report_ids[report_idx])
    mask = vs.sections["report"] == report_idx
    table = vs.sections[mask]
    return _Profile(vs.rows(rows), vs.passages["section"][rows], table["section"].tolist(),
                    [KINDS[k] for k in table["kind"]])


def _alignment(a: np.ndarray, b: np.ndarray) -> float:
    """Mean best-match cosine of a's passages in b and of b's in a, averaged."""
    sims = a @ b.T
    return float(0.5 * (sims.max(axis=1).mean() + sims.max(axis=0).mean()))


TIE = 1e-6
"""Alignment scores closer than this are equal (float32 sums in another order)."""


class ScoreScale:
    """Alignment scores of a sample of the corpus's report pairs, sorted: what a score is compared with."""

    def __init__(self, scores: np.ndarray) -> None:
        self.scores = np.sort(np.asarray(scores, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.scores)

    def percentile(self, score: float) -> float | None:
        """The share (0-100) of sampled report pairs that score below `score`; None without a sample.

        Scores within `TIE` of each other are the same score: the pair itself, scored once for the
        scale and once for the results, differs in the last bits with the order of the sums.
        """
        if not len(self.scores):
            return None
        below = np.searchsorted(self.scores, score - TIE, side="left")
        return round(100.0 * float(below) / len(self.scores), 1)


_SCALES: dict[str, ScoreScale] = {}
_SCALES_LOCK = threading.Lock()


def score_scale(vs: VectorSet, pairs: int = SCALE_PAIRS) -> ScoreScale:
    """The scale of this vectors generation: computed once (a second or two), then kept per process.

    Every pair when the corpus has few reports; otherwise a seeded random sample of distinct pairs,
    so the same index always gives the same percentiles.
    """
    key = f"{vs.path}:{pairs}"
    with _SCALES_LOCK:
        if key in _SCALES:
            return _SCALES[key]
    has = np.flatnonzero(np.linalg.norm(vs.report_vectors, axis=1) > 0)
    if len(has) * (len(has) - 1) // 2 <= pairs:
        chosen = [(int(a), int(b)) for i, a in enumerate(has) for b in has[i + 1:]]
    else:
        rng = np.random.default_rng(20261206)
        found: set[tuple[int, int]] = set()
        while len(found) < pairs:
            a, b = sorted(rng.choice(has, size=2, replace=False).tolist())
            found.add((a, b))
        chosen = sorted(found)
    profiles: dict[int, np.ndarray] = {}

    def passages(idx: int) -> np.ndarray:
        if idx not in profiles:
            profiles[idx] = vs.rows(vs.rows_of(vs.report_ids[idx]))
        return profiles[idx]

    scale = ScoreScale(np.array([_alignment(passages(a), passages(b)) for a, b in chosen]))
    with _SCALES_LOCK:
        _SCALES[key] = scale
    return scale


def _section_pairs(a: _Profile, b: _Profile, scale: ScoreScale) -> list[dict]:
    """For each section of a, its best-aligned section of b, best pairs first.

    The same measure as the report's overall score (passage alignment), so a section pair and
    the overall score read on one scale; each has its `percentile` on the corpus's scale.
    """
    if not len(a.section_keys) or not len(b.section_keys):
        return []
    pairs = []
    for i, key in enumerate(a.section_keys):
        mine = a.passages[a.passage_sections == key]
        if not len(mine):
            continue
        best = max(((_alignment(mine, b.passages[b.passage_sections == other]), j)
                    for j, other in enumerate(b.section_keys) if (b.passage_sections == other).any()), default=None)
        if best is None:
            continue
        score, j = best
        pairs.append({"section_kind": a.section_kinds[i], "other_section_kind": b.section_kinds[j],
                      "score": round(score, 4), "percentile": scale.percentile(score)})
    return sorted(pairs, key=lambda p: -p["score"])[:PAIRS_SHOWN]


def _rank(store: Store, vs: VectorSet, source: _Profile, exclude: set[str], limit: int) -> list[dict]:
    with store.snapshot():
        visible = {r["id"]: r for r in store.reports()}
    has = np.linalg.norm(vs.report_vectors, axis=1) > 0
    candidates = [i for i, rid in enumerate(vs.report_ids) if has[i] and rid in visible and rid not in exclude]
    if not candidates or not len(source.passages):
        return []
    coarse = vs.report_vectors[candidates] @ source.mean
    shortlist = [candidates[i] for i in np.argsort(-coarse)[:max(SHORTLIST, 5 * limit)]]
    scored = []
    for idx in shortlist:
        other = _profile_of(vs, idx)
        scored.append((_alignment(source.passages, other.passages), idx, other))
    scored.sort(key=lambda item: (-item[0], vs.report_ids[item[1]]))
    scale = score_scale(vs)
    out = []
    for score, idx, other in scored[:limit]:
        report = visible[vs.report_ids[idx]]
        out.append({**report_summary(report), "score": round(score, 4), "percentile": scale.percentile(score),
                    "section_pairs": _section_pairs(source, other, scale)})
    return out


def similar(store: Store, report_id: str, limit: int = 10) -> dict:
    """`{report, results: [{report_id, source, agency, year, score, percentile, section_pairs: [...]}], scale_pairs}`
    for an indexed report.

    ``report`` is the report in the `reports --json` shape; ``report_id`` may be a unique prefix.
    ``percentile``: the share of the corpus's sampled report pairs (``scale_pairs`` of them) that
    score lower; None when the corpus has a single report with vectors.
    """
    vs = load_vectors(store.index_dir)
    with store.snapshot():
        full_id = store.resolve_id(report_id)
        report = store.reports([full_id])[0] if full_id else None
    if report is None:
        raise UnknownReportError(f"no report with id '{report_id}' (see `nianbao reports`)")
    idx = vs.report_index().get(full_id)
    if idx is None or not len(vs.rows_of(full_id)):
        raise UnknownReportError(f"report {full_id} has no vectors: run `nianbao index` to compute them")
    return {"report": report, "results": _rank(store, vs, _profile_of(vs, idx), {full_id}, max(1, limit)),
            "scale_pairs": len(score_scale(vs))}


def similar_file(store: Store, path: Path, limit: int = 10, model: str | Embedder | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """:func:`similar_bytes` on a file on disk (`nianbao similar FILE`)."""
    path = Path(path)
    return similar_bytes(store, path.name, read_file_bytes(path, max_bytes), limit, model, max_bytes)


def similar_bytes(store: Store, name: str, data: bytes, limit: int = 10, model: str | Embedder | None = None,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """Like :func:`similar` for a file that need not be indexed, given by its name (for the format)
    and its bytes: read and parsed in memory, embedded, never added nor written anywhere (the desk
    compares an upload so).

    The embedding cache is read (boilerplate costs nothing) but not written. ``report`` has
    ``id`` (the id it has or would get), ``source`` (`name`), ``agency``, ``year`` and ``in_index``.
    """
    vs = load_vectors(store.index_dir)
    parsed = parse_file_bytes(name, data, max_bytes)
    own_id = parsed.report_id
    rows = [{"report_id": own_id, "section_ord": s_ord, "ord": p_ord, "text": p.text, "section_kind": section.kind}
            for s_ord, section in enumerate(parsed.sections)
            for p_ord, p in enumerate(section.paragraphs) if p.kind == "prose"]
    passages = list(iter_passages(rows, headings={(own_id, k): s.heading for k, s in enumerate(parsed.sections)}))
    sections: dict[int, list[int]] = {}
    for i, p in enumerate(passages):
        sections.setdefault(p.section_ord, []).append(i)
    keys = sorted(sections)
    vectors = _embed_read_only(store.index_dir, vs, [p.embed_text for p in passages], model)
    profile = _Profile(vectors, np.array([p.section_ord for p in passages], dtype=np.int64), keys,
                       [parsed.sections[k].kind for k in keys])
    with store.snapshot():
        in_index = store.resolve_id(own_id) == own_id
    meta = parsed.metadata
    report = {"id": own_id, "source": Path(name).name, "agency": meta.agency, "year": meta.year, "in_index": in_index}
    return {"report": report, "results": _rank(store, vs, profile, {own_id}, max(1, limit)),
            "scale_pairs": len(score_scale(vs))}


def _embed_read_only(index_dir: Path, vs: VectorSet, norms: list[str], model: str | Embedder | None) -> np.ndarray:
    """Vectors for texts with the index's own model: from the cache where present, else computed (not stored)."""
    out = np.zeros((len(norms), vs.dim), dtype=np.float32)
    if not norms:
        return out
    keys = [text_key(n) for n in norms]
    cache_path = Path(index_dir) / VECTORS_DIR / CACHE_FILE
    found = {}
    if cache_path.is_file():
        cache = EmbeddingCache(cache_path)
        try:
            found = cache.get(vs.model_id, keys, vs.dim)
        finally:
            cache.close()
    todo = [i for i, k in enumerate(keys) if k not in found]
    if todo:
        embedder = get_model(model if model is not None else vs.model_name)
        if embedder.model_id != vs.model_id:
            raise VectorsError(f"the index's vectors were made with {vs.model_id}, not {embedder.model_id}")
        out[todo] = embed_documents(embedder, [norms[i] for i in todo])
    for i, k in enumerate(keys):
        if k in found:
            out[i] = found[k]
    norms_ = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms_, 1e-12)
