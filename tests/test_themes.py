"""Problem themes: the hand-labelled set is real text, and the purity of the anchored themes
(and of clustering alone) on it with the real model is pinned (bench/themes.py prints the
same numbers)."""

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
from indexer.findings.theme_anchors import ANCHORS, OTHER_LABEL
from indexer.findings.themes import anchored, cluster, distinctive_words, key_word_hits, purity_coverage
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


def test_anchors_are_written_from_the_genre_not_copied_from_the_labelled_items():
    texts = [normalize(i["text"]) for i in _items()]
    sentences = [normalize(s) for a in ANCHORS for s in a.sentences]
    assert not [s for s in sentences if any(s[:-1] in text or text in s for text in texts)]
    assert {a.key for a in ANCHORS} == {i["theme"] for i in _items()}  # every hand theme has anchors


def test_key_words_come_first_and_what_matches_nothing_is_kept():
    """Without usable vectors (all rows equal) the key words decide; a paragraph holding none and
    near no anchor is in a theme of its own kind, never dropped."""
    texts = ["信息公开工作人员均为兼职，流动性大", "政策解读形式单一", "栏目信息更新不及时",
             "本年度未发生行政复议", "全年累计召开会议三次", "本单位位于城区东部"]
    assert key_word_hits(texts[:3]).sum(axis=1).tolist() == [1, 1, 1]
    matrix = np.ones((len(texts), 4), dtype=np.float32) / 2
    labels, keys = anchored(matrix, texts, np.eye(len(ANCHORS), 4, dtype=np.float32))
    assert [keys[t] for t in labels[:3]] == ["staff", "interpretation", "timeliness"]
    assert [keys[t] for t in labels[3:]] == [OTHER_LABEL] * 3  # three are too few to cluster


def test_themes_on_the_labelled_set_with_the_real_model():
    sys.path.insert(0, str(ROOT / "bench"))
    from themes import by_batch, embed, load

    from indexer.findings.themes import anchor_vectors
    from indexer.semantic.vectors import embed_documents, get_model

    items = load()
    try:
        matrix = embed(items)
        anchors = anchor_vectors(lambda texts: embed_documents(get_model(None), texts))
    except Exception as exc:  # the model is not cached on this machine
        pytest.skip(f"embedding model unavailable: {exc}")
    texts = [i["text"] for i in items]
    labels, keys = anchored(matrix, texts, anchors)
    assert np.array_equal(labels, anchored(matrix, texts, anchors)[0])  # deterministic
    result = by_batch(items, labels)
    # Measured (bench/themes.py, docs/performance.md): purity 0.817 on all 191 items, 0.881 on
    # batch 1, 0.797 on batch 2 (both used to write and tune the anchors), 0.778 on batch 3
    # (18 items labelled before the anchors were written: one item moves it by 0.056). Below
    # the 0.8 on the held-out batch. Coverage 1.0: every item is in a theme.
    assert result["all"][0] >= 0.80 and result["batch 1"][0] >= 0.86 and result["batch 2"][0] >= 0.77
    assert result["batch 3"][0] >= 0.72
    assert all(coverage == 1.0 for _, coverage in result.values())
    old = cluster(matrix, texts)
    assert np.array_equal(old, cluster(matrix, texts))
    assert len(set(old.tolist()) - {-1}) == 14  # k = √191
    # Clustering alone, the method before: 0.649 / 0.734 / 0.625 / 0.667.
    before = by_batch(items, old)
    assert before["all"][0] >= 0.62 and before["batch 1"][0] >= 0.70 and before["batch 2"][0] >= 0.59


def test_themes_cli_json_shape_over_an_index(tmp_path):
    """The corpus's problems passages, embedded by the stand-in model: the shape and the
    bookkeeping (every passage in one theme or counted unassigned; examples name their report)."""
    from indexer.indexing import index_paths

    index_paths([CORPUS], tmp_path, embed=True, model=fake_model.install())
    result = CliRunner().invoke(cli, ["--index-dir", str(tmp_path), "themes", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["section"] == "problems" and found["paragraphs"] > 0
    assert found["unassigned"] == 0 and sum(t["size"] for t in found["themes"]) == found["paragraphs"]
    assert [t["id"] for t in found["themes"]] == list(range(len(found["themes"])))
    assert all(t["key"] != OTHER_LABEL for t in found["themes"][:-1])  # 其他, if any, comes last
    for theme in found["themes"]:
        assert {"id", "label", "words", "size", "reports", "by_year", "by_province", "examples"} <= set(theme)
        assert sum(theme["by_year"].values()) == theme["size"]
        assert all(e["report_id"] in theme["reports"] for e in theme["examples"])
    from indexer.semantic import vectors

    model = vectors._MODELS.pop(fake_model.FAKE_MODEL)  # the anchors' vectors are cached now
    try:
        again = CliRunner().invoke(cli, ["--index-dir", str(tmp_path), "themes", "--json"])
    finally:
        vectors._MODELS[fake_model.FAKE_MODEL] = model
    assert again.output == result.output  # deterministic, and no model loaded the second time
