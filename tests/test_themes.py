"""Problem themes: the hand-labelled set is real text, and the clustering's purity on it with
the real model is pinned (bench/themes.py prints the same numbers)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from click.testing import CliRunner

import fake_model
from conftest import CORPUS
from indexer.cli import cli
from indexer.findings.themes import cluster, distinctive_words, purity_coverage
from indexer.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "data" / "themes" / "labelled.jsonl"


def _items() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]


def _pages() -> dict[str, str]:
    """The kept copy of each web page's problems section, by its address."""
    pages = {}
    for path in (LABELLED.parent / "pages").glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        pages[re.search(r"^source: (\S+)", text, re.M).group(1)] = normalize(text)
    return pages


def test_labelled_items_are_verbatim_from_their_reports():
    items = _items()
    assert len(items) >= 150 and {i["batch"] for i in items} == {1, 2, 3}
    local = [i for i in items if not i["source"].startswith("http")]
    assert len(local) == 30
    for item in local:
        assert normalize(item["text"]) in normalize((ROOT / item["source"]).read_text(encoding="utf-8")), item["text"]
    web = [i for i in items if i not in local]
    assert all(i["source"].startswith(("http://", "https://")) for i in web)
    pages = _pages()
    checked = [i for i in web if i["source"] in pages]
    assert all(i["source"] in pages for i in web if i["batch"] >= 2) and len(checked) >= 100
    for item in checked:
        assert normalize(item["text"]) in pages[item["source"]], item["text"]
    assert len({normalize(i["text"]) for i in items}) == len(items)  # no item twice


def test_purity_and_coverage_measure_what_they_say():
    assert purity_coverage(["a", "a", "b", "b"], [0, 0, 1, -1]) == (1.0, 0.75)
    assert purity_coverage(["a", "b", "a", "b"], [0, 0, 0, 0]) == (0.5, 1.0)


def test_distinctive_words_come_from_their_theme():
    words = distinctive_words([["政策解读方式较为单一", "丰富政策解读方式，图解图表"],
                               ["人员兼职经办，流动性大", "岗位人员调整频繁，人员不足"]])
    assert "政策解读" in words[0] and "人员" in words[1]


def test_clustering_on_the_labelled_set_with_the_real_model():
    sys.path.insert(0, str(ROOT / "bench"))
    from themes import by_batch, embed, load

    items = load()
    try:
        matrix = embed(items)
    except Exception as exc:  # the model is not cached on this machine
        pytest.skip(f"embedding model unavailable: {exc}")
    texts = [i["text"] for i in items]
    labels = cluster(matrix, texts)
    assert np.array_equal(labels, cluster(matrix, texts))  # deterministic
    assert len(set(labels.tolist()) - {-1}) == 13  # k = √173
    result = by_batch(items, labels)
    # Measured (bench/themes.py): purity 0.659 on all 173 items, 0.734 on batch 1, 0.562 on the
    # held-out batch 2, coverage 1.0; k-means on the same rows 0.572 / 0.642 / 0.531. Short of
    # the 0.8 the issue targets (docs/performance.md); this pins it against regressions.
    assert result["all"][0] >= 0.63 and result["batch 1"][0] >= 0.70 and result["batch 2"][0] >= 0.53
    assert all(coverage == 1.0 for _, coverage in result.values())


def test_themes_cli_json_shape_over_an_index(tmp_path):
    """The corpus's problems passages, embedded by the stand-in model: the shape and the
    bookkeeping (every passage in one theme or counted unassigned; examples name their report)."""
    from indexer.indexing import index_paths

    index_paths([CORPUS], tmp_path, embed=True, model=fake_model.install())
    result = CliRunner().invoke(cli, ["--index-dir", str(tmp_path), "themes", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["section"] == "problems" and found["paragraphs"] > 0
    assert sum(t["size"] for t in found["themes"]) + found["unassigned"] == found["paragraphs"]
    for theme in found["themes"]:
        assert {"id", "label", "words", "size", "reports", "by_year", "by_province", "examples"} <= set(theme)
        assert sum(theme["by_year"].values()) == theme["size"]
        assert all(e["report_id"] in theme["reports"] for e in theme["examples"])
    again = CliRunner().invoke(cli, ["--index-dir", str(tmp_path), "themes", "--json"])
    assert again.output == result.output  # deterministic
