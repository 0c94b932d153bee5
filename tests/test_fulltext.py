"""Exact search obeys the matching contract on the samples; filters, sections and bad queries."""

import json
import sys
from dataclasses import replace

import pytest

from indexer.core.filters import SearchFilters
from indexer.query import QueryError, parse_query
from indexer.fulltext.search import Searcher
from indexer.normalize import normalize
from tests.conftest import CORPUS

TERMS = [
    "政府开放日", "依申请公开", "不予公开", "府信息公", "政府信息公开", "信息公开指南", "行政复议", "行政诉讼",
    "监督政务公开工作", "灵武防疫", "机关事务局", "政府信息公开", "活动24次", "活动 24 次", "2018 年", "统 计 指 标",
    "政", "公", "局", "24", "(一)", "（一）", "【2020】", "政务新媒体", "政务微博", "政策解读", "回应关切",
    "存在的主要问题", "下一步", "保密审查", "人大代表建议", "政协提案", "微信公众号", "政府门户网站",
    "规范性文件", "本机关不掌握相关政府信息", "http://www", "sptqjgswj@163.com", "0955-8806093",
    "灵武市", "淮北市商务局", "不存在的词语组合", "政府开放日活动", "机关事\n\n务局", "政府\n\n信息公开",
    "个别单位政务公开岗位人员调整频繁", "信息公开数量偏少", "公开", "年", "。",
]


def _truth(term: str) -> dict[str, int]:
    """Ground truth straight from the files: normalised substring counts."""
    from indexer.indexing import report_id_for

    out = {}
    needle = normalize(term)
    for path in CORPUS.glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        norm = normalize(text)
        if norm.count(needle):
            out[report_id_for(text)] = norm.count(needle)
    return out


@pytest.fixture(scope="module")
def searcher(indexed):
    s = Searcher(indexed)
    yield s
    s.close()


@pytest.mark.parametrize("term", TERMS)
def test_every_term_obeys_the_contract(searcher, term):
    query = '"' + term.replace('"', "") + '"'
    result = searcher.run(query, limit=None)
    got = {r["report_id"]: r["count"] for r in result["results"]}
    assert got == _truth(term)
    assert result["total_occurrences"] == sum(got.values())
    assert result["total_reports"] == len(got)


@pytest.mark.parametrize("query", TERMS[:30] + ["政府开放日 section:problems", "公开 OR 行政复议 -灵武防疫",
                                   "公开 section:overview", "公公", "2018 年 section:requests"])
def test_listings_agree_with_full_results(searcher, query):
    """Without snippets the sections holding a match are found per section; they must be the
    sections of the located occurrences, and the counts the same."""
    listing = searcher.run(query, limit=None, snippets=False)["results"]
    full = searcher.run(query, limit=None)["results"]
    assert [(r["report_id"], r["count"], r["sections"]) for r in listing] == \
           [(r["report_id"], r["count"], r["sections"]) for r in full]
    assert all(r["count"] == len(r["snippets"]) for r in full)


def test_listings_take_sections_from_positions_without_reading_texts(indexed, monkeypatch):
    """A fresh searcher lists a query the gram index counts from positions without reading a
    text, and lists it as it does from the texts (the path for older segments and other terms)."""
    from indexer.fulltext.grams import GramIndex

    queries = ["政府信息公开", "依申请公开 OR 行政复议", "政府信息 -量子计算", "信息公开 年度报告"]
    fresh = Searcher(indexed, remember=0)
    read: list[str] = []
    texts_of = fresh.texts_of
    monkeypatch.setattr(fresh, "texts_of", lambda ids: read.extend(ids) or texts_of(ids))
    try:
        listings = [fresh.run(q, limit=None, snippets=False)["results"] for q in queries]
        assert read == [] and all(listings)
        monkeypatch.setattr(GramIndex, "kinds", lambda self, starts, view: {})
        assert [fresh.run(q, limit=None, snippets=False)["results"] for q in queries] == listings
        assert read
    finally:
        fresh.close()


@pytest.mark.parametrize("section", ["problems", "overview", "requests", "other"])
def test_section_limits_from_cells_agree_with_the_texts(indexed, monkeypatch, section):
    """Section-limited queries counted from the gram index's cells answer as when every
    report's sections and text are read (segments from before cells were kept)."""
    from indexer.fulltext.grams import _Arrays

    queries = [f"{term} section:{section}" for term in TERMS[:25]] + [f"-政府 section:{section}", f"公开 OR 依法 section:{section}"]
    fresh = Searcher(indexed, remember=0)
    try:
        from_cells = [fresh.run(q, limit=None, snippets=False) for q in queries]
        assert sum(r["total_reports"] for r in from_cells) > (0 if section == "other" else 10)
        monkeypatch.setattr(_Arrays, "__contains__", lambda self, name: False)  # no cells kept
        assert [fresh.run(q, limit=None, snippets=False) for q in queries] == from_cells
    finally:
        fresh.close()


def test_page_broken_phrases_are_found_and_shown_in_original(searcher):
    result = searcher.run("监督政务公开工作")
    assert result["total_occurrences"] >= 1
    snippet = result["results"][0]["snippets"][0]
    assert snippet["text"][snippet["match_start"]:snippet["match_end"]] == "监督政务公开工作"


def test_snippets_mark_every_occurrence(searcher):
    result = searcher.run("政府开放日")
    (report,) = result["results"]
    assert report["agency"] == "灵武市人民政府" and report["count"] == 2
    assert len(report["snippets"]) == 2
    for s in report["snippets"]:
        assert s["text"][s["match_start"]:s["match_end"]] == "政府开放日"


def test_boolean_queries(searcher):
    both = {r["report_id"] for r in searcher.run("政府开放日 依申请公开", limit=None)["results"]}
    either = {r["report_id"] for r in searcher.run("政府开放日 OR 机关事务局", limit=None)["results"]}
    without = {r["report_id"] for r in searcher.run("依申请公开 -政府开放日", limit=None)["results"]}
    neg = {r["report_id"] for r in searcher.run("NOT 政府开放日", limit=None)["results"]}
    assert both == set(_truth("政府开放日"))
    assert either == set(_truth("政府开放日")) | set(_truth("机关事务局"))
    assert without == set(_truth("依申请公开")) - set(_truth("政府开放日"))
    assert len(neg) == 4
    grouped = {r["report_id"] for r in searcher.run("(政府开放日 OR 机关事务局) 行政复议", limit=None)["results"]}
    assert grouped == (set(_truth("政府开放日")) | set(_truth("机关事务局"))) & set(_truth("行政复议"))


@pytest.mark.parametrize("query", ["政府开放日\u200e", "\u202b政府开放日", "政府开\u00ad放日"])
def test_invisible_marks_pasted_with_a_phrase_are_dropped(searcher, query):
    """Bidirectional marks and soft hyphens come along with text copied from web pages."""
    result = searcher.run(query, limit=None)
    assert {r["report_id"]: r["count"] for r in result["results"]} == _truth("政府开放日") != {}


@pytest.mark.parametrize("query", ["积极开展“政府开放日”活动", "“政府开放日”活动", "“政府开放日”"])
def test_chinese_quotes_inside_a_pasted_phrase_are_text(searcher, query):
    """A sentence pasted with its quotation marks is one phrase; whole-term quotes still quote."""
    result = searcher.run(query, limit=None)
    expected = _truth(query.strip("“”") if query.startswith("“") and query.endswith("”") else query)
    assert expected and {r["report_id"]: r["count"] for r in result["results"]} == expected
    assert result["total_occurrences"] == sum(expected.values())


def test_filters_and_field_filters_agree(searcher):
    by_flag = searcher.run("政务公开", SearchFilters(year="2018"), limit=None)
    by_field = searcher.run("政务公开 year:2018", limit=None)
    assert {r["report_id"] for r in by_flag["results"]} == {r["report_id"] for r in by_field["results"]}
    assert {r["year"] for r in by_flag["results"]} == {2018}
    assert len(by_flag["results"]) == 3
    ranged = searcher.run("政务公开 year:2019-2020", limit=None)
    assert {r["year"] for r in ranged["results"]} == {2019, 2020}
    assert searcher.run("政务公开 year:2020-2019", limit=None) == {**ranged, "query": "政务公开 year:2020-2019"}
    anhui = searcher.run("政务公开", SearchFilters(province="安徽"), limit=None)
    assert [r["agency"] for r in anhui["results"]] == ["淮北市商务局"]
    assert searcher.run("政务公开 agency:沙坡头", limit=None)["results"][0]["agency"] == "沙坡头区机关事务局"


def test_section_limit_counts_only_inside_that_kind(searcher):
    everywhere = searcher.run("政务公开", limit=None)
    problems = searcher.run("政务公开 section:problems", limit=None)
    corpus = searcher.corpus()
    want = {}
    for report_id, norm in zip(corpus.ids, searcher.texts_of(corpus.ids)):
        count = sum(norm[a:b].count("政务公开") for a, b, kind in corpus.bounds.get(report_id, []) if kind == "problems")
        if count:
            want[report_id] = count
    assert len(want) >= 2  # the oracle itself finds something to compare
    assert {r["report_id"]: r["count"] for r in problems["results"]} == want
    assert problems["total_occurrences"] < everywhere["total_occurrences"]
    assert all(set(r["sections"]) == {"problems"} for r in problems["results"])
    assert "8e0de0146e65bdb3" not in {r["report_id"] for r in problems["results"]}  # 淮北 has no problems section
    chinese_label = searcher.run("政务公开 section:存在的主要问题及改进情况", limit=None)
    assert chinese_label["total_occurrences"] == problems["total_occurrences"]


def test_sorting(searcher):
    by_count = searcher.run("公开", sort="count", limit=None)["results"]
    assert [r["count"] for r in by_count] == sorted((r["count"] for r in by_count), reverse=True)
    by_year = searcher.run("公开", sort="year", limit=None)["results"]
    assert [r["year"] for r in by_year] == sorted((r["year"] for r in by_year), reverse=True)
    assert len(searcher.run("公开", limit=2)["results"]) == 2


@pytest.mark.parametrize("query, negated", [
    ("依申请公开 -政府开放日", ["政府开放日"]),
    ("依申请公开 NOT (政府开放日 OR 机关事务局)", ["政府开放日", "机关事务局"]),
    ("公开 -依申请公开 section:problems", []),  # inside the problems sections only (checked below)
])
def test_keyword_mode_excludes_what_the_query_negates(searcher, query, negated):
    """Words only rank: NOT and -term exclude in keyword mode as in exact mode."""
    keyword = searcher.run(query, mode="keyword", limit=None)["results"]
    truth = [set(_truth(term)) for term in negated]
    assert keyword and not any(r["report_id"] in found for r in keyword for found in truth)
    if "section:" in query:  # 依申请公开 in a problems section excludes a report; elsewhere it does not
        holding = {r["report_id"] for r in searcher.run("依申请公开 section:problems", limit=None)["results"]}
        assert holding and not holding & {r["report_id"] for r in keyword}


@pytest.mark.parametrize("query", ["year:2020", "-政府开放日 year:2018", "-政府开放日"])
def test_keyword_mode_without_words_lists_what_exact_mode_lists(searcher, query):
    keyword = searcher.run(query, mode="keyword", limit=None)
    exact = searcher.run(query, limit=None)
    assert exact["results"] and keyword["results"] == exact["results"] and keyword["mode"] == "keyword"


def test_keyword_mode_ranks_by_words(searcher):
    result = searcher.run("政府开放日", mode="keyword", limit=3)
    assert result["results"][0]["agency"] == "灵武市人民政府"
    several = searcher.run("依申请公开 加强", mode="keyword", limit=None)["results"]
    scores = [r["score"] for r in several]
    assert len(several) == 4 and scores == sorted(scores, reverse=True) and len(set(scores)) == 4
    assert [r["agency"] for r in several] == ["灵武市人民政府", "沙坡头区机关事务局", "灵武市商务和经济技术合作局", "淮北市商务局"]


def _sections_words(searcher, ids: list[str]) -> dict[str, list[tuple[str, str, dict[str, int]]]]:
    """Each report's sections as (kind, normalised text, its jieba words counted)."""
    from collections import Counter

    from indexer.fulltext.analysis import words

    with searcher.store.snapshot():
        bounds = searcher.store.section_bounds(ids)
        texts = dict(searcher.norm_texts(ids))
    return {i: [(kind, texts[i][a:b], Counter(words(texts[i][a:b]))) for a, b, kind in bounds.get(i, [])] for i in ids}


def _holds(node, present) -> bool:
    from indexer.core.querylang import And, Not, Term

    if isinstance(node, Term):
        return present(node.text)
    if isinstance(node, Not):
        return not _holds(node.item, present)
    parts = [_holds(item, present) for item in node.items]
    return all(parts) if isinstance(node, And) else any(parts)


@pytest.mark.parametrize("query", ["依申请公开 加强", "公开不到位", "政府开放日 OR 保密审查", "加强 -政府开放日",
                                   "政府信息 (依申请公开 OR 行政复议)", "信息公开 年度报告 section:problems", "人手不够"])
def test_keyword_mode_matches_terms_made_of_whole_words(searcher, query):
    """Keyword mode, checked against the words of every section: a term is in a section when all
    its words are (公开不到位: 公开, 不, 到位); the query's AND/OR hold over a report's sections, NOT
    excludes as exact mode does; a report's sections are the kinds within which the query holds;
    its count is the words of the terms each section holds, as whole words."""
    from indexer.fulltext.analysis import words

    parsed = parse_query(query)
    kinds = parsed.filters.get("section", [])
    found = {r["report_id"]: r for r in searcher.run(query, mode="keyword", limit=None)["results"]}
    ids = [r["id"] for r in searcher.store.reports()]
    sections = _sections_words(searcher, ids)
    term_words = {t: set(words(t)) for t in parsed.positive_terms()}

    def whole(term: str, counted) -> bool:
        return bool(term_words.get(term)) and term_words[term] <= set(counted)

    expected = {}
    for report_id in ids:
        allowed = [s for s in sections[report_id] if not kinds or s[0] in kinds]

        def present(term, allowed=allowed):  # a negated term is decided in exact mode's way
            return any(whole(term, counted) for _, _, counted in allowed) if term in term_words else \
                any(term in text for _, text, _ in allowed)

        if not _holds(parsed.tree, present):
            continue
        count = sum(counted[w] for _, _, counted in allowed
                    for w in {w for t in term_words if whole(t, counted) for w in term_words[t]})
        within = [k for k in dict.fromkeys(s[0] for s in allowed)
                  if _holds(parsed.tree, lambda t, k=k: any(
                      (whole(t, counted) if t in term_words else t in text) for kind, text, counted in allowed if kind == k))]
        expected[report_id] = (count, sorted(within))
    assert {i: (r["count"], sorted(r["sections"])) for i, r in found.items()} == expected
    if query == "人手不够":  # 人手 and 不够 are never in one section of the samples
        assert not found


@pytest.mark.parametrize("query, message", [
    ('"政府开放日', "unbalanced quote"),
    ("(政府开放日", "unbalanced parentheses"),
    ("政府开放日)", "unbalanced parentheses"),
    ("OR", "needs a term"),
    ("政府 OR", "needs a term"),
    ("NOT", "needs a term"),
    ("-", "needs a term"),
    ("", "empty query"),
    ("   ", "empty query"),
    ("政" * 10000, "too long"),
    ("year:20x", "not a year"),
    ("section:nonsense", "unknown section kind"),
    ("()", "empty parentheses"),
])
def test_malformed_queries_get_one_line(query, message):
    with pytest.raises(QueryError) as err:
        parse_query(query)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_json_shape(searcher):
    result = json.loads(json.dumps(searcher.run("不予公开")))
    assert set(result) >= {"query", "total_reports", "total_occurrences", "results"}
    first = result["results"][0]
    assert set(first) >= {"report_id", "source", "agency", "year", "region", "count", "score", "snippets"}
    assert set(first["snippets"][0]) == {"section_kind", "text", "match_start", "match_end", "page"}


def test_a_match_across_a_section_boundary_belongs_to_the_section_it_starts_in(tmp_path):
    from indexer.fulltext.grams import GramIndex, TextView, cells, gram_codes
    from indexer.fulltext.search import _kinds_inside, _kinds_starting

    bounds = [(2, 5, "overview"), (5, 10, "problems")]
    norm = "题目开放日政府开放日"  # 日政府 starts in overview (4) and ends in problems
    found = cells(bounds, len(norm))
    grams = GramIndex(tmp_path)  # the same kinds from the positions kept in the gram index
    grams.add([("a", gram_codes(norm), norm), ("b", gram_codes("开放日"), "开放日")], {"a": bounds})
    view = TextView({"b": 0, "a": 1}, lambda ids: [])

    def from_positions(terms: list[str]) -> dict[int, list[str]]:
        starts = [{} for _ in terms]
        for term, found_at in zip(terms, starts):
            grams.count(term, view, found_at)
        return grams.kinds(starts, view)

    for terms, kinds in [(["日政府"], ["overview"]), (["题目"], ["other"]),
                         (["题目", "开放日"], ["other", "overview", "problems"])]:
        assert _kinds_starting(norm, terms, found) == kinds
        assert from_positions(terms)[1] == kinds
    assert from_positions(["开放日"]) == {0: ["other"], 1: ["overview", "problems"]}
    assert _kinds_inside(norm, ["日政府"], bounds, ["problems"]) == []
    assert _kinds_inside(norm, ["开放日"], bounds, ["problems"]) == ["problems"]


def test_remembered_queries_answer_like_fresh_ones(indexed, searcher):
    """The app asks for each query twice (facets, then a page); remembered matches must not change answers."""
    fresh = Searcher(indexed, remember=0)
    try:
        for query, filters in [("政务公开", None), ("政务公开", SearchFilters(year="2018")), ("政务公开", None),
                               ("政务公开 section:problems", None), ("政府开放日 OR 机关事务局", None)]:
            for limit, snippets in [(None, False), (3, True)]:
                assert searcher.run(query, filters, limit=limit, snippets=snippets) == \
                       fresh.run(query, filters, limit=limit, snippets=snippets)
        searcher.forget()
        assert searcher.run("政务公开", limit=3) == fresh.run("政务公开", limit=3)
    finally:
        fresh.close()


def test_overlapping_section_bounds_cannot_stall_the_section_search():
    from indexer.fulltext.grams import cells
    from indexer.fulltext.search import _kinds_starting

    found = cells([(0, 10, "overview"), (5, 8, "problems")], 12)  # bounds a parser should never give
    assert _kinds_starting("一二三四五六七八九十开放", ["十"], found) == ["problems"]


def test_keyword_mode_finds_words_whatever_their_case(tmp_path):
    """jieba words are lower-cased, so a text's capitals are matched through a lowered copy."""
    from indexer.indexing import index_paths

    source = tmp_path / "corpus"
    source.mkdir()
    sample = next(iter(sorted(CORPUS.glob("*.txt")))).read_text(encoding="utf-8")
    (source / "app.txt").write_text(sample + "\n本机关开通政务APP，APP下载量逐年增加，app 使用便捷。\n", encoding="utf-8")
    index_paths([source], tmp_path / "index", embed=False)
    s = Searcher(tmp_path / "index")
    try:
        for query in ("APP", "app", "App"):
            result = s.run(query, mode="keyword")
            assert result["total_reports"] == 1
            assert result["results"][0]["count"] == 3
            assert [snippet["text"][snippet["match_start"]:snippet["match_end"]]
                    for snippet in result["results"][0]["snippets"]] == ["APP", "APP", "app"]
    finally:
        s.close()


def test_keyword_mode_lists_every_report_a_filter_finds(searcher):
    """Every matching section counts, whatever the corpus's size: a report that a filter finds is
    in the unfiltered answer (its best 500 sections once cut away a rare agency's reports)."""
    everything = {r["report_id"] for r in searcher.run("公开", mode="keyword", limit=None)["results"]}
    for report in searcher.store.reports():
        found = searcher.run("公开", SearchFilters(agency=report["agency"]), mode="keyword")["results"]
        assert [r["report_id"] for r in found] == [report["id"]] and report["id"] in everything
    year = searcher.run("公开", SearchFilters(year="2020"), mode="keyword")["results"]
    assert [r["agency"] for r in year] == ["灵武市人民政府"]


def test_keyword_filters_see_reports_added_after_the_first_filtered_query(tmp_path):
    """Which report owns each Whoosh document is kept per segment across commits."""
    from indexer.indexing import index_paths

    samples = sorted(CORPUS.glob("*.txt"))
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, chosen in ((first, samples[:3]), (second, samples[3:])):
        folder.mkdir()
        for path in chosen:
            (folder / path.name).write_bytes(path.read_bytes())
    index_paths([first], tmp_path / "index", embed=False)
    s = Searcher(tmp_path / "index", remember=0)
    try:
        assert s.run("公开", SearchFilters(year="2020"), mode="keyword")["results"] == []
        index_paths([second], tmp_path / "index", embed=False)
        found = s.run("公开", SearchFilters(year="2020"), mode="keyword")["results"]
        assert [r["agency"] for r in found] == ["灵武市人民政府"]
        assert s.run("公开", SearchFilters(year="2018"), mode="keyword")["total_reports"] == 3
    finally:
        s.close()


@pytest.mark.parametrize("query", ["公开不到位", "加强", "不予公开 政府开放日"])
def test_keyword_mode_counts_and_marks_whole_words_only(searcher, query):
    """Keyword mode counts and marks the query's jieba words where the text's own jieba words equal
    them: 不 alone, not the 不 of 不断 (a substring count gave "127 处" for a three-word query)."""
    from indexer.fulltext.analysis import words

    wanted = {w for t in parse_query(query).positive_terms() for w in words(t)}
    found = searcher.run(query, mode="keyword", limit=None)
    assert found["results"]
    sections = _sections_words(searcher, [r["report_id"] for r in found["results"]])
    substrings = 0
    for result in found["results"]:
        holding = [(text, counted) for _, text, counted in sections[result["report_id"]]
                   if any(set(words(t)) <= set(counted) for t in parse_query(query).positive_terms())]
        substrings += sum(text.count(w) for text, _ in holding for w in wanted)
        assert result["count"] == len(result["snippets"]), result["report_id"]
        assert {s["text"][s["match_start"]:s["match_end"]] for s in result["snippets"]} <= wanted
    listed = searcher.run(query, mode="keyword", limit=None, snippets=False)["results"]
    assert [(r["report_id"], r["count"], r["sections"]) for r in listed] == \
        [(r["report_id"], r["count"], r["sections"]) for r in found["results"]]
    if query != "不予公开 政府开放日":  # 不 and 强 sit inside other words: a substring count is larger
        assert substrings > found["total_occurrences"]


def test_filters_take_several_values_any_of_which_matches(searcher):
    one = {y: searcher.run("依申请公开", SearchFilters(year=y), limit=None)["total_reports"] for y in ("2018", "2020")}
    both = searcher.run("依申请公开", SearchFilters(year=["2018", "2020"]), limit=None)["total_reports"]
    assert both == one["2018"] + one["2020"] and one["2018"] and one["2020"]
    places = searcher.run("依申请公开", SearchFilters(province=["宁夏", "安徽"]), limit=None)["total_reports"]
    assert places == searcher.run("依申请公开", limit=None)["total_reports"]
    assert SearchFilters(year=["2018", "2019-2020"]).years() == [(2018, 2018), (2019, 2020)]
    with pytest.raises(QueryError):
        SearchFilters(year=["2018", "20x0"]).years()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """120 synthetic reports (bench/synth.py): ~1,000 sections, more than keyword mode once ranked."""
    sys.path.insert(0, str(CORPUS.parent / "bench"))
    from synth import generate

    from indexer.indexing import index_paths

    root = tmp_path_factory.mktemp("synthetic")
    generate(root / "files", 120, seed=7, workers=1)
    index_paths([root / "files"], root / "index", embed=False)
    s = Searcher(root / "index")
    yield s
    s.close()


@pytest.mark.parametrize("mode", ["exact", "keyword"])
@pytest.mark.parametrize("query", ["公开", "依申请公开 加强", "政府开放日 OR 保密审查", "政府信息 -政府开放日", "加强 培训"])
def test_facet_counts_equal_what_each_value_finds(synthetic, mode, query):
    """What a facet counts for a value is what the search finds with that value chosen: every
    report matching the query (keyword mode too, not its best 500 sections), and for sections the
    kinds within which the query holds (a report holding one ANDed term in each of two kinds is in
    neither; with a NOT, each kind is searched)."""
    from collections import Counter

    from indexer.core.kinds import SECTION_KINDS

    listed = synthetic.run(query, mode=mode, limit=None, snippets=False)["results"]
    assert listed
    for field in ("year", "province", "city"):
        counted = Counter(str(r["year"]) if field == "year" else r["region"][field] for r in listed)
        for value, n in counted.items():
            if value and value != "None":
                found = synthetic.run(query, SearchFilters(**{field: value}), mode=mode, limit=0, snippets=False)
                assert found["total_reports"] == n, (field, value)
    for filters in (SearchFilters(), SearchFilters(year="2020")):
        sections = synthetic.section_counts(query, filters, mode=mode)
        truth = {k: synthetic.run(query, replace(filters, sections=[k]), mode=mode, limit=0, snippets=False)["total_reports"]
                 for k in SECTION_KINDS}
        assert sections == {k: n for k, n in truth.items() if n}, filters
        if not parse_query(query).negated_terms():
            within = [r for r in synthetic.run(query, filters, mode=mode, limit=None, snippets=False)["results"]]
            assert Counter(k for r in within for k in r["sections"]) == Counter(sections)


def test_words_are_jiebas_words_of_the_whole_text():
    """`words` segments a text run by run and remembers each run's words: the same words, in
    the same order, as jieba gives the whole text (real reports, a text with Latin words and
    spaces, one with a hyphenated run jieba-next cuts in two)."""
    from pathlib import Path

    from indexer.fulltext.analysis import _indexed_form, tokenizer, words

    data = Path(__file__).parent / "data"
    texts = [normalize(p.read_text(encoding="utf-8")) for p in sorted(data.glob("realworld*/*.txt"))]
    texts += ["Open Data 平台 open-data 2019-2020年 COVID-19 疫情防控，政府信息公开 Web 网站 _x_ %",
              "一、总体情况\t二、主动公开政府信息情况  3.5% A&B c#d"]
    assert len(texts) > 60
    for text in texts + texts:  # the second time from the remembered runs
        expected = [w for w in map(_indexed_form, tokenizer().lcut(text, HMM=True)) if w]
        assert words(text) == expected
