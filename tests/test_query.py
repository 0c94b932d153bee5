"""The query layer: a query parsed once and handed to sibling engines; hybrid fused above them.

Over the sample corpus with the stand-in model's vectors (tests/fake_model.py): these tests are
about who parses and who ranks, not about meaning (tests/test_semantic.py has the real model).
"""

from __future__ import annotations

import importlib
import inspect

import pytest

import fake_model
from indexer import query as query_layer
from indexer.core.engine import SearchEngine
from indexer.core.querylang import MODES
from indexer.query import RRF_K, QueryError, SearchFilters, rrf
from indexer.semantic.search import SemanticSearcher

fulltext_search = importlib.import_module("indexer.fulltext.search")  # the package's `search` is a function


@pytest.fixture(scope="module")
def engine(stand_in_engine):
    fake_model.install()  # again: a test between modules may have dropped it
    return stand_in_engine


def test_rrf_rewards_what_both_rankings_place_high():
    fused = rrf([[1, 2, 3], [3, 1]], depth=100)
    assert fused == pytest.approx({1: 1 / (RRF_K + 1) + 1 / (RRF_K + 2), 2: 1 / (RRF_K + 2),
                                   3: 1 / (RRF_K + 3) + 1 / (RRF_K + 1)})
    assert sorted(fused, key=lambda r: -fused[r]) == [1, 3, 2]
    assert rrf([[1, 2, 3]], depth=2) == pytest.approx({1: 1 / (RRF_K + 1), 2: 1 / (RRF_K + 2)})


@pytest.mark.parametrize("mode", MODES)
def test_a_query_is_parsed_once_whatever_the_mode(engine, mode, monkeypatch):
    """The query layer parses; the engines (and hybrid's two rankings) only read the parsed query."""
    calls = []
    parse = query_layer.parse_with
    monkeypatch.setattr(query_layer, "parse_with", lambda q, n: calls.append(q) or parse(q, n))

    def engines_do_not_parse(*args, **kwargs):
        raise AssertionError("an engine parsed the query again")

    monkeypatch.setattr(fulltext_search, "parse_query", engines_do_not_parse)
    found = engine.search("政府信息公开 -政府开放日 year:2018-2020", mode=mode, limit=5)
    assert calls == ["政府信息公开 -政府开放日 year:2018-2020"]
    assert found["mode"] == mode and found["query"] == calls[0] and found["results"]
    assert all(2018 <= r["year"] <= 2020 for r in found["results"])


def test_the_engines_are_siblings_behind_one_interface(engine):
    """Each engine declares its modes and takes (parsed, filters, *, mode, limit, offset, sort);
    between them they answer every mode but hybrid, which the query layer fuses."""
    wanted = inspect.signature(SearchEngine.search).parameters
    for each in (engine.fulltext, engine.semantic):
        assert isinstance(each.modes, tuple)
        got = inspect.signature(type(each).search).parameters
        assert list(got)[:len(wanted)] == list(wanted)
        assert all(got[name].kind == wanted[name].kind for name in wanted)
    assert set(engine.fulltext.modes) | set(engine.semantic.modes) == set(MODES) - {"hybrid"}
    assert isinstance(engine.semantic, SemanticSearcher) and engine.semantic.store is engine.fulltext.store


@pytest.mark.parametrize("mode", ["exact", "keyword", "semantic", "hybrid"])
def test_offset_pages_through_the_same_ranking(engine, mode):
    whole = engine.search("政府信息公开", mode=mode, limit=6)["results"]
    page = engine.search("政府信息公开", mode=mode, limit=3, offset=2)["results"]
    assert len(whole) == 6 if mode in ("semantic", "hybrid") else len(whole) == 5
    assert page == whole[2:5]


def test_hybrid_says_where_each_passage_came_from(engine):
    found = engine.search("依申请公开 工作", mode="hybrid", limit=10)["results"]
    assert found and all({"keyword_rank", "semantic_rank"} <= set(r) for r in found)
    assert any(r["keyword_rank"] for r in found) and any(r["semantic_rank"] for r in found)
    assert all(list(r)[:4] == ["report_id", "source", "agency", "year"] for r in found)
    scores = [r["score"] for r in found]
    assert scores == sorted(scores, reverse=True)


def test_semantic_exclusions_come_from_the_full_text(engine):
    """工作人员 -政府开放日: no passage of the report that mentions 政府开放日 (counted by the full-text engine)."""
    holding = {r["report_id"] for r in engine.search("政府开放日", limit=None)["results"]}
    assert holding
    for mode in ("semantic", "hybrid"):
        found = engine.search("工作人员 -政府开放日", mode=mode, limit=20)["results"]
        assert not {r["report_id"] for r in found} & holding


def test_bad_mode_sort_or_year_is_a_query_error_before_any_engine(engine):
    for bad in ({"mode": "fuzzy"}, {"sort": "size"}):
        with pytest.raises(QueryError, match="unknown"):
            engine.search("公开", **bad)
    with pytest.raises(QueryError, match="year"):
        engine.search("公开", SearchFilters(year="20x0"), mode="semantic")
