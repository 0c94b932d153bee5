"""Copied passages: a passage planted in two agencies' reports is found, template text and an
agency's own reuse are not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from indexer.normalize import normalize
from indexer.semantic.copies import boilerplate_agencies, copies
from indexer.store import Store
from tests.conftest import CORPUS, SAMPLES
from tests.test_cli import run

PLANTED = "我局在黄河沿岸设立十二块户外公示屏，逐月张贴采购合同、招商协议全文和客商投诉处理结果，供过往群众拍照查验。"
TEMPLATE = "本机关坚持把年度报告初稿交由法律顾问逐字审读，确认数据口径一致后再报送上级政务公开办公室备案。"
TEMPLATE_IN = ["lingwu_commerce_2018", "guyuan_2019", "huaibei_2018", "lingwu_gov_2020", "shapotou_2018"]


def _plant(text: str, heading: str, paragraph: str) -> str:
    """The paragraph inserted as its own paragraph right after the line holding `heading`."""
    at = text.index(heading)
    at = text.index("\n", at) + 1
    return text[:at] + "\n" + paragraph + "\n\n" + text[at:]


@pytest.fixture(scope="module")
def planted_index(tmp_path_factory) -> Path:
    """Samples + two copies under other agencies' names + the same agency a year later, with
    PLANTED in 固原 and 灵武市人民政府 and TEMPLATE in all five samples."""
    from indexer.indexing import index_paths

    root = tmp_path_factory.mktemp("copies")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    texts = {key: (corpus / name).read_text(encoding="utf-8") for key, name in SAMPLES.items()}
    texts["guyuan_2019"] = _plant(texts["guyuan_2019"], "五、存在的主要问题及改进情况", PLANTED)
    texts["lingwu_gov_2020"] = _plant(texts["lingwu_gov_2020"], "五、存在的主要问题及改进情况", PLANTED)
    for key in TEMPLATE_IN:
        texts[key] = _plant(texts[key], "\n一、", TEMPLATE)
    for key, name in SAMPLES.items():
        (corpus / name).write_text(texts[key], encoding="utf-8")
    (corpus / "copy_yongning.txt").write_text(
        texts["lingwu_commerce_2018"].replace("灵武市商务和经济技术合作局", "永宁县商务和经济技术合作局"), encoding="utf-8")
    (corpus / "copy_haiyuan.txt").write_text(
        texts["shapotou_2018"].replace("沙坡头区机关事务局", "海原县机关事务管理局"), encoding="utf-8")
    (corpus / "shapotou_2019.txt").write_text(
        texts["shapotou_2018"].replace("2018", "2019"), encoding="utf-8")
    index_dir = root / "index"
    summary = index_paths([corpus], index_dir, embed=False)
    assert summary.counts()["added"] == 8
    return index_dir


@pytest.fixture(scope="module")
def found(planted_index) -> dict:
    store = Store(planted_index, create=False)
    try:
        return copies(store)
    finally:
        store.close()


def _planted_results(result: dict) -> list[dict]:
    return [r for r in result["results"] if normalize(PLANTED)[:40] in r["text"]]


def test_planted_passage_found_with_both_locations(found):
    hits = _planted_results(found)
    assert len(hits) == 1
    hit = hits[0]
    assert {hit["a"]["agency"], hit["b"]["agency"]} == {"固原市经济技术合作局", "灵武市人民政府"}
    assert {hit["a"]["source"], hit["b"]["source"]} == {SAMPLES["guyuan_2019"], SAMPLES["lingwu_gov_2020"]}
    for side in (hit["a"], hit["b"]):
        assert side["section_kind"] == "problems"
        assert normalize(PLANTED) in normalize(side["paragraph_text"])
    assert hit["chars"] == len(normalize(PLANTED)) and hit["similarity"] == 1.0


def test_copied_report_found(found):
    pairs = {frozenset((r["a"]["agency"], r["b"]["agency"])) for r in found["results"]}
    assert frozenset(("永宁县商务和经济技术合作局", "灵武市商务和经济技术合作局")) in pairs
    assert frozenset(("海原县机关事务管理局", "沙坡头区机关事务局")) in pairs


def test_template_text_in_most_reports_ignored(found):
    assert boilerplate_agencies(7) == 3.5  # seven agencies: text in four or more is template
    assert not [r for r in found["results"] if normalize(TEMPLATE)[10:40] in r["text"]]


def test_same_agency_never_flagged(found):
    assert found["results"]
    for r in found["results"]:
        assert r["a"]["agency"] != r["b"]["agency"]
        assert r["a"]["report_id"] != r["b"]["report_id"]


def test_json_shape(found):
    assert set(found) == {"min_chars", "results"} and found["min_chars"] == 30
    side_keys = {"report_id", "source", "agency", "year", "section_kind", "paragraph_text"}
    for r in found["results"]:
        assert set(r) == {"text", "chars", "similarity", "a", "b"}
        assert set(r["a"]) == side_keys and set(r["b"]) == side_keys
        assert isinstance(r["chars"], int) and r["chars"] >= 30 and 0.7 <= r["similarity"] <= 1.0
    assert [r["chars"] for r in found["results"]] == sorted((r["chars"] for r in found["results"]), reverse=True)


def test_cli_min_chars(capsys, planted_index):
    length = len(normalize(PLANTED))
    code, out, _ = run(capsys, "--index-dir", str(planted_index), "copies", "--min-chars", str(length), "--json")
    result = json.loads(out)
    assert code == 0 and result["min_chars"] == length
    assert all(r["chars"] >= length for r in result["results"]) and _planted_results(result)
    _, out, _ = run(capsys, "--index-dir", str(planted_index), "copies", "--min-chars", str(length + 1), "--json")
    result = json.loads(out)
    assert all(r["chars"] > length for r in result["results"]) and not _planted_results(result)
    code, out, _ = run(capsys, "--index-dir", str(planted_index), "copies")
    assert code == 0 and "灵武市人民政府" in out and out.rstrip().endswith("copied passages of at least 30 characters")


def test_cli_errors(capsys, tmp_path):
    code, _, err = run(capsys, "--index-dir", str(tmp_path / "none"), "copies")
    assert code == 1 and err.startswith("nianbao: no index") and len(err.splitlines()) == 1
    code, _, err = run(capsys, "--index-dir", str(tmp_path), "copies", "--min-chars", "0")
    assert code == 2 and len(err.splitlines()) == 1


def test_samples_alone_share_only_template(indexed):
    """The five samples, all different agencies, copy nothing from each other beyond template text."""
    store = Store(indexed, create=False)
    try:
        assert copies(store)["results"] == []
    finally:
        store.close()


def test_a_template_sentence_naming_each_agency_is_template_found_in_a_few_queries(monkeypatch):
    """At scale a template sentence holding each agency's name forms a cluster of thousands of
    near-duplicate texts; querying each one made `copies` quadratic (6 minutes at 2,000 reports)."""
    from datasketch import MinHashLSH

    from indexer.semantic.copies import _near_duplicates

    names = [f"{a}{b}县{c}局" for a in "甲乙丙丁戊" for b in "子丑寅卯辰" for c in "金木水"]  # 75 agencies
    template = [f"{name}高度重视政府信息公开工作，主要负责同志亲自部署推进各项任务落实。" for name in names]
    fringe = "某某县某某局高度重视政府信息公开工作，主要负责同志亲自部署推进。"  # near the template, one agency
    pair = ["本机关在门户网站开设了专门的栏目集中发布重大建设项目批准和实施信息。",
            "本机关在门户网站开设了专门的栏目集中发布重大建设项目批准及实施的信息。"]
    texts = template + [fringe] + pair
    agencies = [{f"agency:{name}"} for name in names] + [{"agency:某"}, {"agency:x"}, {"agency:y"}]
    queries = []
    original = MinHashLSH.query
    monkeypatch.setattr(MinHashLSH, "query", lambda self, h: queries.append(1) or original(self, h))
    found = _near_duplicates(texts, agencies, 0.5, limit=10)
    assert found[:len(names) + 1] == [None] * (len(names) + 1)
    assert sorted(found[-2]) == sorted(found[-1]) == [len(texts) - 2, len(texts) - 1]
    assert len(queries) < 10
