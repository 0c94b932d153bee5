"""Problem themes: the hand-labelled set is real text, and the clustering's purity on it with
the real model is pinned (bench/themes.py prints the same numbers)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.findings.themes import cluster, distinctive_words, purity_coverage
from indexer.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "data" / "themes" / "labelled.jsonl"


def _items() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_labelled_items_are_verbatim_from_their_reports():
    items = _items()
    assert len(items) >= 30
    for item in items:
        assert normalize(item["text"]) in normalize((ROOT / item["source"]).read_text(encoding="utf-8")), item["text"]


def test_purity_and_coverage_measure_what_they_say():
    assert purity_coverage(["a", "a", "b", "b"], [0, 0, 1, -1]) == (1.0, 0.75)
    assert purity_coverage(["a", "b", "a", "b"], [0, 0, 0, 0]) == (0.5, 1.0)


def test_distinctive_words_come_from_their_theme():
    words = distinctive_words([["政策解读方式较为单一", "丰富政策解读方式，图解图表"],
                               ["人员兼职经办，流动性大", "岗位人员调整频繁，人员不足"]])
    assert "政策解读" in words[0] and "人员" in words[1]


def test_clustering_on_the_labelled_set_with_the_real_model():
    sys.path.insert(0, str(ROOT / "bench"))
    from themes import embed, load

    try:
        matrix = embed(load())
    except Exception as exc:  # the model is not cached on this machine
        pytest.skip(f"embedding model unavailable: {exc}")
    labels = cluster(matrix)
    assert np.array_equal(labels, cluster(matrix))  # deterministic
    purity, coverage = purity_coverage([i["theme"] for i in load()], labels.tolist())
    # Measured 0.400 purity, 1.0 coverage on 30 items (4 clusters for 9 hand themes): far from
    # the 0.8 the issue targets; this pins it against regressions.
    assert purity >= 0.4 and coverage == 1.0
