"""Compare one section kind across reports: each report's section, and for each of its
paragraphs the closest paragraphs of the other reports' same section.

Why: journalists compare how agencies describe their problems (存在的主要问题及改进情况);
a paragraph with a near counterpart elsewhere is a shared complaint, or copied text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.kinds import SECTION_KINDS
from ..core.shapes import report_summary
from ..store import Store
from .vectors import VectorSet, load_vectors

__all__ = ["COUNTERPART_THRESHOLD", "MAX_COUNTERPARTS", "compare"]

COUNTERPART_THRESHOLD = 0.95
"""Cosine from which a paragraph counts as a counterpart. With the heading embedded in front
(passages.py) every pair of paragraphs from two problems sections scores 0.90 or more: on the
samples the best counterpart of each problems paragraph ranges 0.90-0.96 (24 directed pairs),
so 0.92 marked nearly all of them. 0.95 keeps the top third: the same problem in other words
(人员不足 ↔ 岗位人员调整频繁: 0.955; 确定专门工作人员 ↔ 明确…具体工作人员: 0.961) and drops
pairs that share only the genre (年度概述 ↔ 改进措施: 0.93-0.94). tests/test_compare_threshold.py
checks the cut on real paragraphs: paraphrases of real problems score 0.962-0.985 with their
originals, unrelated paragraphs of the same section 0.903-0.932 with their best match; a cut
of 0.92 or of 0.97 fails it."""
MAX_COUNTERPARTS = 3
_BLOCK_ROWS = 256  # paragraphs per matrix product: 80 MB of scores at 20,000 reports


def _paragraph_vectors(vs: VectorSet, report_id: str, section_ords: set[int]) -> dict[tuple[int, int], np.ndarray]:
    """(section ord, paragraph ord) → mean of its passages' vectors, renormalised."""
    rows = vs.rows_of(report_id)
    rows = rows[np.isin(vs.passages["section"][rows], list(section_ords))]
    groups: dict[tuple[int, int], list[int]] = {}
    for row in rows.tolist():
        groups.setdefault((int(vs.passages["section"][row]), int(vs.passages["para"][row])), []).append(row)
    out = {}
    for key, members in groups.items():
        v = vs.rows(np.array(members)).mean(axis=0)
        out[key] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out


def compare(store: Store, ids: Sequence[str] | None, kind: str) -> dict:
    """`{section_kind, reports: [{report_id, source, agency, year, text, paragraphs: [{text, counterparts}]}]}`.

    ``ids`` None or empty: every report having a section of ``kind``. A report without one is
    absent. Counterparts: per other report its closest paragraph, kept above
    :data:`COUNTERPART_THRESHOLD`, best :data:`MAX_COUNTERPARTS` first.
    """
    if kind not in SECTION_KINDS:
        raise ValueError(f"unknown section kind '{kind}' (one of: {', '.join(SECTION_KINDS)})")
    vs = load_vectors(store.index_dir)
    entries = []
    with store.snapshot():
        if ids:
            wanted = list(dict.fromkeys(store.resolve_id(i) or i for i in ids))
        else:
            wanted = store.report_ids_with_section(kind)
        reports = {r["id"]: r for r in store.reports(wanted)}
        for report_id in wanted:
            report = reports.get(report_id)
            sections = [s for s in store.sections(report_id) if s["kind"] == kind] if report else []
            if not sections:
                continue
            text = store.texts([report_id])[report_id][0]
            ords = {s["ord"] for s in sections}
            paragraphs = [p for p in store.report_paragraphs(report_id) if p["section_ord"] in ords]
            entries.append((report, "\n".join(text[s["start"]:s["end"]].strip() for s in sections), paragraphs,
                            _paragraph_vectors(vs, report_id, ords)))

    counterparts = _counterparts(entries)
    out = []
    for e, (report, text, paragraphs, _) in enumerate(entries):
        items = [{"text": p["text"], "counterparts": counterparts.get((e, p["section_ord"], p["ord"]), [])}
                 for p in paragraphs]
        out.append({**report_summary(report), "text": text, "paragraphs": items})
    return {"section_kind": kind, "reports": out}


def _counterparts(entries: list) -> dict[tuple[int, int, int], list[dict]]:
    """(entry, section ord, paragraph ord) → its best paragraph in each other report, best first.

    Matrix products of a block of paragraphs against every compared paragraph, then the best
    per other report by ``maximum.reduceat`` over their contiguous columns: all of a corpus's
    problem sections compare in seconds, not in a loop over report pairs. Blocks, not one
    report's few rows at a time: each product reads the whole matrix, and 4-row products spent
    their time reading it (8.5 of 11.5 s at 3,000 reports, growing with the square).
    """
    keys = [(e, k) for e, entry in enumerate(entries) for k in entry[3]]
    if not keys:
        return {}
    matrix = np.array([entries[e][3][k] for e, k in keys], dtype=np.float32)
    owners = np.array([e for e, _ in keys])
    starts = np.concatenate([[0], np.flatnonzero(np.diff(owners)) + 1])
    ends = np.append(starts[1:], len(keys))
    group = np.repeat(np.arange(len(starts)), ends - starts)  # column of each paragraph's report in `best`
    texts = [{(q["section_ord"], q["ord"]): q["text"] for q in entry[2]} for entry in entries]
    wanted = min(MAX_COUNTERPARTS, len(starts))
    out: dict[tuple[int, int, int], list[dict]] = {}
    for lo in range(0, len(keys), _BLOCK_ROWS):
        hi = min(lo + _BLOCK_ROWS, len(keys))
        sims = matrix[lo:hi] @ matrix.T
        best = np.maximum.reduceat(sims, starts, axis=1)
        best[np.arange(hi - lo), group[lo:hi]] = -np.inf  # not its own report
        tops = np.argpartition(-best, wanted - 1, axis=1)[:, :wanted]
        for i in range(hi - lo):
            top = tops[i][np.argsort(-best[i, tops[i]], kind="stable")]
            found = []
            for j in top[best[i, top] >= COUNTERPART_THRESHOLD]:
                other, other_key = keys[starts[j] + int(np.argmax(sims[i, starts[j]:ends[j]]))]
                found.append({"report_id": entries[other][0]["id"], "text": texts[other][other_key],
                              "score": round(float(best[i, j]), 4)})
            e, key = keys[lo + i]
            out[(e, *key)] = found
    return out
