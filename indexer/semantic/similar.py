"""Similar reports: a report's nearest neighbours, with the section pairs that match best.

Why two steps: every report of this genre shares the template's boilerplate, so report
vectors (the mean of their passages) all lie within a few hundredths of each other. They
only shortlist; the ranking is by passage alignment: each passage of one report against its
best match in the other, averaged both ways. A copy with a third of its paragraphs dropped
and others reworded still aligns almost passage for passage with its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..ingest import read_report_file
from ..parse import parse_report
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
    section_vector,
    text_key,
)

if TYPE_CHECKING:
    from .model import Embedder

__all__ = ["UnknownReportError", "similar", "similar_file"]

SHORTLIST = 50
PAIRS_SHOWN = 5


class UnknownReportError(LookupError):
    """No visible report has this id (or id prefix), or it has no vectors."""


@dataclass
class _Profile:
    """What the comparison needs of one report: passage vectors, their section, section vectors."""

    passages: np.ndarray  # float32 (n, d)
    section_keys: list[int]
    section_kinds: list[str]
    section_vectors: np.ndarray  # float32 (s, d)

    @property
    def mean(self) -> np.ndarray:
        v = self.passages.mean(axis=0)
        return v / max(float(np.linalg.norm(v)), 1e-12)


def _profile_of(vs: VectorSet, report_idx: int) -> _Profile:
    rows = vs.rows_of(vs.report_ids[report_idx])
    mask = vs.sections["report"] == report_idx
    table = vs.sections[mask]
    return _Profile(vs.rows(rows), table["section"].tolist(), [KINDS[k] for k in table["kind"]],
                    vs.section_vectors[mask])


def _alignment(a: np.ndarray, b: np.ndarray) -> float:
    """Mean best-match cosine of a's passages in b and of b's in a, averaged."""
    sims = a @ b.T
    return float(0.5 * (sims.max(axis=1).mean() + sims.max(axis=0).mean()))


def _section_pairs(a: _Profile, b: _Profile) -> list[dict]:
    """For each section of a, its best-matching section of b; best pairs first."""
    if not len(a.section_vectors) or not len(b.section_vectors):
        return []
    sims = a.section_vectors @ b.section_vectors.T
    best = sims.argmax(axis=1)
    pairs = [{"section_kind": a.section_kinds[i], "other_section_kind": b.section_kinds[j],
              "score": round(float(sims[i, j]), 4)} for i, j in enumerate(best.tolist())]
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
    out = []
    for score, idx, other in scored[:limit]:
        report = visible[vs.report_ids[idx]]
        out.append({"report_id": report["id"], "source": report["source"], "agency": report["agency"],
                    "year": report["year"], "score": round(score, 4), "section_pairs": _section_pairs(source, other)})
    return out


def similar(store: Store, report_id: str, limit: int = 10) -> dict:
    """`{report, results: [{report_id, source, agency, year, score, section_pairs: [...]}]}` for an indexed report.

    ``report`` is the report in the `reports --json` shape; ``report_id`` may be a unique prefix.
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
    return {"report": report, "results": _rank(store, vs, _profile_of(vs, idx), {full_id}, max(1, limit))}


def similar_file(store: Store, path: Path, limit: int = 10, model: str | Embedder | None = None) -> dict:
    """Like :func:`similar` for a file that need not be indexed; it is read, parsed and embedded, never added.

    The embedding cache is read (boilerplate costs nothing) but not written. ``report`` has
    ``id`` (the id it would get), ``source``, ``agency``, ``year`` and ``in_index``.
    """
    from ..indexing import report_id_for
    from ..store import section_norm_bounds

    vs = load_vectors(store.index_dir)
    path = Path(path)
    _, text = read_report_file(path)
    parsed = parse_report(text)
    norm_text, _ = section_norm_bounds(text, parsed.sections)
    own_id = report_id_for(norm_text)
    rows = [{"report_id": own_id, "section_ord": s_ord, "ord": p_ord, "text": p.text, "section_kind": section.kind}
            for s_ord, section in enumerate(parsed.sections)
            for p_ord, p in enumerate(section.paragraphs) if p.kind == "prose"]
    passages = list(iter_passages(rows, headings={(own_id, k): s.heading for k, s in enumerate(parsed.sections)}))
    sections: dict[int, list[int]] = {}
    for i, p in enumerate(passages):
        sections.setdefault(p.section_ord, []).append(i)
    keys = sorted(sections)
    vectors = _embed_read_only(store.index_dir, vs, [p.embed_text for p in passages], model)
    section_vectors = np.array([section_vector(vectors[sections[k]].mean(axis=0), vs.centres) for k in keys],
                               dtype=np.float32).reshape(-1, vs.dim)
    profile = _Profile(vectors, keys, [parsed.sections[k].kind for k in keys], section_vectors)
    with store.snapshot():
        in_index = store.resolve_id(own_id) == own_id
    meta = parsed.metadata
    report = {"id": own_id, "source": path.name, "agency": meta.agency, "year": meta.year, "in_index": in_index}
    return {"report": report, "results": _rank(store, vs, profile, {own_id}, max(1, limit))}


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
