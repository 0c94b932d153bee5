"""The Streamlit app, page by page, through `streamlit.testing.v1.AppTest` (no browser).

Every page is reached the way a shared link reaches it: the page plus its query parameters.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import CORPUS, SAMPLES
from indexer.normalize import normalize

MAIN = Path(__file__).resolve().parent.parent / "search_app" / "main.py"
LINGWU_GOV = "灵武市人民政府"


@pytest.fixture
def app_index(indexed, monkeypatch) -> Path:
    monkeypatch.setenv("NIANBAO_HOME", str(indexed))
    monkeypatch.delenv("NIANBAO_ALLOW_FOLDERS", raising=False)
    return indexed


@pytest.fixture
def writable_index(indexed, tmp_path, monkeypatch) -> Path:
    """A private copy of the indexed samples, for pages that add reports."""
    target = tmp_path / "index"
    shutil.copytree(indexed, target, ignore=shutil.ignore_patterns("index.lock"))
    monkeypatch.setenv("NIANBAO_HOME", str(target))
    monkeypatch.delenv("NIANBAO_ALLOW_FOLDERS", raising=False)
    return target


@pytest.fixture(scope="session")
def indexed_vectors(indexed, tmp_path_factory) -> Path:
    """The indexed samples with their paragraph vectors (the bundled model loads in seconds)."""
    from indexer.semantic.vectors import update_vectors
    from indexer.store import Store

    target = tmp_path_factory.mktemp("index-vectors")
    shutil.copytree(indexed, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("index.lock"))
    store = Store(target)
    try:
        update_vectors(target, store)
    finally:
        store.close()
    return target


@pytest.fixture
def vectors_index(indexed_vectors, monkeypatch) -> Path:
    monkeypatch.setenv("NIANBAO_HOME", str(indexed_vectors))
    monkeypatch.delenv("NIANBAO_ALLOW_FOLDERS", raising=False)
    return indexed_vectors


def open_page(page: str | None = None, **params: str | list[str]) -> AppTest:
    """Run the app once, then go to `page` with `params` in the URL, like a deep link."""
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    if page is None:
        at.query_params.update(params)
        return at.run()
    at.run()
    at.switch_page(f"views/{page}.py")
    at.query_params.clear()
    at.query_params.update(params)
    return at.run()


def html_text(at: AppTest) -> str:
    return "\n".join(str(h.proto.body) for h in at.get("html"))


def no_failure(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def report_id(indexed: Path, agency: str) -> str:
    from indexer.store import Store

    store = Store(indexed, create=False)
    try:
        return next(r["id"] for r in store.reports() if r["agency"] == agency)
    finally:
        store.close()


# --- 检索 ----------------------------------------------------------------------------------


def test_search_deep_link_groups_and_highlights(app_index):
    at = open_page(q="政府开放日")
    no_failure(at)
    body = html_text(at)
    assert LINGWU_GOV in body
    assert body.count("<mark>政府开放日</mark>") == 2
    assert "出现 <b>2</b> 次" in body
    assert any("1 份报告，共 2 处" in c.value for c in at.caption)
    assert at.text_input[0].value == "政府开放日"


def test_search_writes_query_mode_and_facets_to_url(app_index):
    at = open_page()
    at.text_input[0].input("依申请公开").run()
    assert at.query_params.get("q") == "依申请公开"
    at.radio[0].set_value("keyword").run()
    assert at.query_params.get("mode") == "keyword"
    no_failure(at)
    at.checkbox(key="search_f_section_requests").check().run()
    no_failure(at)
    assert at.query_params.get("section") in ("requests", ["requests"])


def test_a_url_changed_by_back_or_forward_sets_the_page(app_index):
    """Back and Forward change the URL without touching the widgets: the URL wins then."""
    at = open_page(q="依申请公开")
    at.checkbox(key="search_f_year_2018").check().run()
    at.radio[0].set_value("keyword").run()
    assert at.query_params.get("mode") == "keyword" and at.query_params.get("year") == "2018"
    at.query_params.clear()
    at.query_params.update({"q": "政府开放日", "province": "宁夏回族自治区"})  # an earlier search
    at.run()
    no_failure(at)
    assert at.text_input[0].value == "政府开放日" and at.radio[0].value == "exact"
    assert at.checkbox(key="search_f_province_宁夏回族自治区").value
    assert not any(c.value for c in at.checkbox if c.key.startswith("search_f_year_"))
    assert any(c.value.startswith("1 份报告，共 2 处") for c in at.caption)


def test_search_says_when_the_query_overrides_a_facet(app_index):
    at = open_page(q="依申请公开 year:2018", year="2020")
    no_failure(at)
    assert any("年份按「2018」，筛选栏的「2020」未起作用" in i.value for i in at.info)
    assert LINGWU_GOV not in html_text(at)  # its report is of 2020
    at = open_page(q="依申请公开 year:2020", year="2020")
    no_failure(at)
    assert not any("未起作用" in i.value for i in at.info)


def facet_labels(at: AppTest, facet: str) -> list[str]:
    return [c.label for c in at.checkbox if c.key.startswith(f"search_f_{facet}_")]


@pytest.mark.parametrize("mode, query, chosen", [
    ("keyword", "依申请公开 加强", {}),
    ("keyword", "公开", {"section": ["problems"]}),
    ("exact", "依申请公开 -政府开放日", {"section": ["problems"]}),
    ("exact", "政府信息公开 依申请公开", {"year": ["2018"], "section": ["overview", "requests"]}),
])
def test_facet_counts_are_what_choosing_each_value_finds(app_index, mode, query, chosen):
    """Every count beside a facet value is the library's total with that value chosen alone in its
    facet and the other facets as they are: keyword mode counts every matching section, a query of
    several terms counts a section only where it holds whole there, and a NOT is counted per kind."""
    from indexer.query import Engine
    from search_app.state import filters_of

    at = open_page(q=query, **({"mode": mode} if mode != "exact" else {}), **chosen)
    no_failure(at)
    engine = Engine(app_index)
    try:
        shown = 0
        for box in at.checkbox:
            facet, value = box.key.removeprefix("search_f_").split("_", 1)
            count = re.fullmatch(r".*（(\d+)）", box.label)
            assert count, box.label
            found = engine.search(query, filters_of({**chosen, facet: [value]}), mode=mode, limit=1)
            assert int(count.group(1)) == found["total_reports"], (facet, value)
            shown += 1
        assert shown >= 5
    finally:
        engine.close()


def test_search_facets_count_and_narrow(app_index):
    at = open_page(q="依申请公开")
    no_failure(at)
    assert facet_labels(at, "year") == ["2020（1）", "2019（1）", "2018（3）"]
    at.checkbox(key="search_f_year_2020").check().run()
    no_failure(at)
    assert at.query_params.get("year") == "2020"
    assert LINGWU_GOV in html_text(at)
    assert "淮北市商务局" not in html_text(at)
    assert any(c.value.startswith("1 份报告") for c in at.caption)
    # a second year joins the first; the counts, being over the other facets, stay
    at.checkbox(key="search_f_year_2018").check().run()
    no_failure(at)
    assert at.query_params.get("year") == ["2020", "2018"]
    assert any(c.value.startswith("4 份报告") for c in at.caption)
    assert facet_labels(at, "year") == ["2020（1）", "2019（1）", "2018（3）"]
    assert at.checkbox(key="search_f_year_2018").value and not at.checkbox(key="search_f_year_2019").value
    at.button(key="search_clear").click().run()
    assert "year" not in at.query_params and any(c.value.startswith("5 份报告") for c in at.caption)
    assert not any(c.value for c in at.checkbox)


def test_a_new_query_keeps_the_facet_value_not_its_label(app_index):
    """The count in a facet's label changes with the query; the filter must stay the value."""
    at = open_page(q="不予公开")
    at.checkbox(key="search_f_province_宁夏回族自治区").check().run()
    for query in ("政府开放日", "行政复议"):
        at.text_input[0].input(query).run()
        no_failure(at)
        assert at.query_params.get("province") in ("宁夏回族自治区", ["宁夏回族自治区"])
        assert at.checkbox(key="search_f_province_宁夏回族自治区").value
    assert not any("没有找到" in i.value for i in at.info)


def test_search_pagination(writable_index, tmp_path):
    from indexer.indexing import index_paths

    more = tmp_path / "more"
    more.mkdir()
    for n in range(8):
        for key, name in SAMPLES.items():
            (more / f"{n}-{name}").write_text(f"副本{n}\n" + (CORPUS / name).read_text(encoding="utf-8"), encoding="utf-8")
    index_paths([more], writable_index, embed=False)
    at = open_page(q="依申请公开")
    no_failure(at)
    assert any(c.value.startswith("45 份报告") for c in at.caption)
    assert "第 1 / 5 页" in "".join(m.value for m in at.markdown)
    first = html_text(at)
    next(b for b in at.button if b.label == "下一页").click().run()
    no_failure(at)
    assert at.query_params.get("p") == "2"
    assert "第 2 / 5 页" in "".join(m.value for m in at.markdown)
    assert html_text(at) != first
    at = open_page(q="依申请公开", p="5")
    assert "第 5 / 5 页" in "".join(m.value for m in at.markdown)


def test_search_empty_query_shows_help_and_corpus(app_index):
    at = open_page()
    no_failure(at)
    assert any("检索式" in m.value for m in at.markdown)
    assert any(c.value == "索引里有 5 份报告，2018–2020 年。" for c in at.caption)


def test_search_facets_from_url_and_section_filter(app_index):
    at = open_page(q="依申请公开", province="宁夏回族自治区", section=["problems"])
    no_failure(at)
    assert at.checkbox(key="search_f_section_problems").value
    body = html_text(at)
    # Without the section filter: 4 reports, 16 occurrences (the province filter alone drops 淮北).
    assert any(c.value.startswith("1 份报告，共 1 处") for c in at.caption)
    assert LINGWU_GOV in body and "存在的主要问题及改进情况" in body
    for other in ("淮北市商务局", "灵武市商务和经济技术合作局", "沙坡头区机关事务局", "固原市经济技术合作局"):
        assert other not in body


def test_search_query_language_filters(app_index):
    at = open_page(q="(政府开放日 OR 依申请公开) year:2019-2020")
    no_failure(at)
    body = html_text(at)
    assert LINGWU_GOV in body and "固原市经济技术合作局" in body and "淮北市商务局" not in body
    at = open_page(q="依申请公开 -政府开放日")
    no_failure(at)
    assert LINGWU_GOV not in html_text(at) and "淮北市商务局" in html_text(at)


@pytest.mark.parametrize("query, fragment", [
    ("(政府开放日", "括号不成对"),
    ('"政府开放日', "引号不成对"),
    ("year:20x0 公开", "年份「20x0」无法识别"),
    ("section:nonsense 公开", "没有「nonsense」这种章节"),
    ("政府 OR", "OR 两边都需要检索词"),
])
def test_search_malformed_query_shows_plain_message(app_index, query, fragment):
    at = open_page(q=query)
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith("检索式有误：")
    assert fragment in at.error[0].value


def test_search_without_results_says_so(app_index):
    at = open_page(q="这个词不会出现在任何报告里")
    no_failure(at)
    assert any("没有找到" in i.value for i in at.info)


def test_search_semantic_without_vectors_says_so(app_index):
    at = open_page(q="群众参与政府活动", mode="semantic")
    no_failure(at)
    assert any("向量" in i.value for i in at.info)


def test_search_semantic_with_vectors_finds_passages(vectors_index):
    at = open_page(q="网站更新不及时", mode="semantic")
    no_failure(at)
    # Only the passages above the relevance line, and the page says where the line is and what fell below it.
    assert any(re.fullmatch(r"只显示相似度高于 0\.\d{3} 的段落：\d 段；其余 \d+ 段低于此线，未显示 · 用时 \d+ 毫秒", c.value)
               for c in at.caption)
    assert 'class="nb-snippet"' in html_text(at) and re.search(r"· 相似度 0\.\d{3}</span>", html_text(at))
    assert "弱相关" not in html_text(at) and not at.warning
    # Facet values come from the passages shown: not counted, and the page says why.
    years = facet_labels(at, "year")
    assert len(years) > 1 and all(re.fullmatch(r"20\d\d", y) for y in years)
    assert any("不计数" in c.value for c in at.caption)
    at.checkbox(key=f"search_f_year_{years[0]}").check().run()
    at.text_input[0].input("群众参与政府活动").run()  # a new query keeps the value chosen
    no_failure(at)
    assert at.query_params.get("year") == years[0] and at.checkbox(key=f"search_f_year_{years[0]}").value
    at = open_page(q="政府开放日", mode="hybrid")
    no_failure(at)
    shown = html_text(at)
    assert "政府开放日" in shown and re.search(r"· 关键词第 1 名 · 语义第 1 名</span>", shown)
    assert "综合排名分" not in shown


def test_meaning_search_says_when_nothing_is_relevant(vectors_index):
    """Nothing in the samples is about football: a warning, and the closest passages marked weak,
    never 40 passages shown as if they answered; a query every passage is about says it is too general."""
    for mode in ("semantic", "hybrid"):
        at = open_page(q="足球比赛的比分", mode=mode)
        no_failure(at)
        assert at.warning and "没有段落的相似度高于相关线 0.875" in at.warning[0].value
        assert html_text(at).count("弱相关") == 5
    at = open_page(q="公开工作", mode="semantic")  # every passage is a little about it, none stands out
    no_failure(at)
    assert at.warning and "这个检索较笼统" in at.warning[0].value


def test_report_opened_from_a_meaning_search_marks_its_passages(vectors_index):
    """The paragraphs holding the passages the search showed are set apart, under the search's own
    filters: with a year that leaves none of this report's passages, nothing is set apart."""
    from indexer.query import Engine
    from search_app.state import SEMANTIC_LIMIT

    query = "人员不足，公开工作跟不上"
    engine = Engine(vectors_index)
    try:
        passages = engine.search(query, mode="semantic", limit=SEMANTIC_LIMIT)["results"]
    finally:
        engine.close()
    first = passages[0]
    own = [p["text"] for p in passages if p["report_id"] == first["report_id"]]
    at = open_page("report", id=first["report_id"], q=query, mode="semantic")
    no_failure(at)
    page = html_text(at)
    marked = [html.unescape(re.sub("<[^>]+>", "", m)) for m in re.findall(r'<p class="nb-para nb-found">(.*?)</p>', page)]
    assert marked and all(any(normalize(p) in normalize(m) for p in own) for m in marked)
    assert any(normalize(own[0]) in normalize(m) for m in marked)
    assert sum(int(n) for n in re.findall(r"相近段落 (\d+) 段", " ".join(e.label for e in at.expander))) == len(marked)
    other_year = "1999"
    at = open_page("report", id=first["report_id"], q=query, mode="semantic", year=other_year)
    no_failure(at)
    assert 'class="nb-para nb-found"' not in html_text(at) and not any("相近段落" in e.label for e in at.expander)


def test_search_sort_and_export_rows(app_index):
    from search_app import render
    from indexer.query import Engine

    at = open_page(q="依申请公开", sort="count")
    no_failure(at)
    assert at.selectbox[0].value == "count"
    counts = [int(n) for n in re.findall(r"出现 <b>(\d+)</b> 次", html_text(at))]
    assert counts == [6, 5, 3, 3, 2]  # by relevance they come 6, 5, 3, 2, 3
    engine = Engine(app_index)
    try:
        found = engine.search("政府开放日", limit=None)["results"]
    finally:
        engine.close()
    rows = render.result_rows(found, "exact")
    assert rows[0]["机关"] == LINGWU_GOV and rows[0]["出现次数"] == 2
    assert rows[0]["片段"].count("【政府开放日】") == 2
    frame = __import__("pandas").DataFrame(rows)
    assert render.csv_bytes(frame).startswith("\ufeff报告ID".encode())
    assert render.xlsx_bytes(frame)[:2] == b"PK"


def test_exports_say_what_they_answer(app_index):
    """A CSV starts with its provenance rows, then the table; an XLSX has them on a second sheet."""
    import io

    import pandas as pd

    from search_app import render
    from search_app.views.search import export_name, provenance

    about = provenance("不予公开", "exact", "relevance", {"province": ["宁夏回族自治区"], "year": ["2018", "2020"]}, 3)
    assert about["筛选：省份"] == "宁夏回族自治区" and about["筛选：年份"] == "2018、2020" and about["筛选：机关"] == "全部"
    assert about["索引中的报告数"] == "5" and about["软件"].startswith("nianbao ") and about["模式"] == "精确"
    frame = pd.DataFrame([{"报告ID": "abc", "省份": None, "出现次数": 2}])
    text = render.csv_bytes(frame, about).decode("utf-8-sig")
    skip = int(re.search(r"前 (\d+) 行", text.splitlines()[0]).group(1))
    assert pd.read_csv(io.StringIO(text), skiprows=skip).columns.tolist() == ["报告ID", "省份", "出现次数"]
    sheets = pd.read_excel(io.BytesIO(render.xlsx_bytes(frame, "结果", about)), sheet_name=None)
    assert list(sheets) == ["结果", "检索条件"]
    assert dict(zip(sheets["检索条件"]["项目"], sheets["检索条件"]["内容"]))["检索式"] == "不予公开"
    assert re.fullmatch(r"nianbao_检索_不予公开_-行政复议_\d{4}-\d{2}-\d{2}", export_name("不予公开 -行政复议"))
    assert re.fullmatch(r"nianbao_检索_year_2020_\d{4}-\d{2}-\d{2}", export_name('year:2020 "/.."'))


def test_keyword_snippets_mark_whole_words_only():
    """In keyword mode 不 is marked where it is a word, not inside 不断."""
    from search_app.render import snippets_html

    text = "工作不断加强，但公开不到位。"
    start = text.index("不到位")
    snippet = {"section_kind": "problems", "text": text, "match_start": start, "match_end": start + 1}
    (shown,) = snippets_html([snippet], ["公开", "不", "到位"], "keyword")
    assert re.findall(r"<mark>(.*?)</mark>", shown) == ["公开", "不", "到位"]
    (exact,) = snippets_html([snippet], ["不"], "exact")
    assert exact.count("<mark>不</mark>") == 2


def test_highlight_escapes_report_html():
    from search_app import render

    text = '<script>alert("x")</script>政府开放日&'
    out = render.highlight(text, render.term_spans(text, ["政府开放日"]))
    assert "<script>" not in out
    assert "&lt;script&gt;" in out and "<mark>政府开放日</mark>&amp;" in out


def test_term_spans_cross_page_breaks():
    from search_app import render

    text = "加强监\n\n督政务公开工作"
    assert [text[a:b] for a, b in render.term_spans(text, ["监督政务"])] == ["监\n\n督政务"]


# --- 报告 ----------------------------------------------------------------------------------


def test_report_deep_link_marks_search_terms(app_index):
    rid = report_id(app_index, LINGWU_GOV)
    at = open_page("report", id=rid, q="政府开放日")
    no_failure(at)
    assert at.title[0].value.startswith("灵武市2020年")
    hit = [e for e in at.expander if "命中 2 处" in e.label]
    assert len(hit) == 1
    assert html_text(at).count("<mark>政府开放日</mark>") == 2
    assert [b.label for b in at.get("download_button")] == ["下载原始文件"]
    assert " · 2019 版 · " in html_text(at)  # the edition, labelled as everywhere (indexer.core.kinds)
    assert "三、收到和处理政府信息公开申请情况（件）" in html_text(at)  # the statistics, as the template's tables


def test_report_unknown_id_is_a_plain_message(app_index):
    at = open_page("report", id="ffffffffffff")
    assert not at.exception
    assert "没有 ID 为" in at.error[0].value
    assert [link.label for link in at.get("page_link")] == ["查看全部报告的列表"]  # the list it points to exists


def test_report_similar_without_vectors_says_so(app_index):
    rid = report_id(app_index, LINGWU_GOV)
    at = open_page("report", id=rid)
    no_failure(at)
    assert any("向量" in i.value for i in at.info)


# --- 比较 ----------------------------------------------------------------------------------


def test_compare_defaults_to_problem_sections_side_by_side(app_index):
    at = open_page("compare")
    no_failure(at)
    assert at.selectbox[0].value == "problems"
    assert len(at.multiselect[0].value) == 3
    heads = html_text(at)
    assert heads.count('class="nb-column-head"') == 3
    from indexer.store import Store
    from search_app import render

    with Store(app_index, create=False) as store:
        for rid in at.multiselect[0].value:  # each column holds its report's problems section
            problems = [p["text"] for p in store.paragraphs([rid]) if p["section_kind"] == "problems"]
            assert problems and render.esc(problems[0]) in heads


def test_compare_deep_link_from_one_report_is_topped_up(app_index):
    rid = report_id(app_index, LINGWU_GOV)
    at = open_page("compare", ids=rid, kind="problems")
    no_failure(at)
    assert at.multiselect[0].value[0] == rid and len(at.multiselect[0].value) == 3
    assert at.query_params["ids"][0] == rid


def test_compare_other_kind_and_unknown_ids(app_index):
    at = open_page("compare", kind="requests", ids=["nonsense", "ffff"])
    no_failure(at)
    assert at.selectbox[0].value == "requests"
    assert len(at.multiselect[0].value) == 3 and "nonsense" not in at.multiselect[0].value
    at.multiselect[0].set_value(at.multiselect[0].value[:1]).run()
    assert any("至少选择两份" in i.value for i in at.info)


# --- 相似 ----------------------------------------------------------------------------------


def test_similar_without_vectors_offers_them_and_still_shows_copies(app_index):
    rid = report_id(app_index, LINGWU_GOV)
    at = open_page("similar", id=rid)
    no_failure(at)
    assert at.selectbox[0].value == rid
    assert any("相似报告需要段落向量" in i.value for i in at.info)
    from search_app.state import semantic_installed

    if semantic_installed():
        assert [b.label for b in at.button] == ["计算向量"]
    else:
        assert any("缺少语义模块" in c.value for c in at.caption)
    assert any(s.value == "机关之间复制的段落" for s in at.subheader)
    assert at.query_params["id"] == rid


def test_similar_computes_vectors_on_request(writable_index, indexed_vectors):
    from indexer.semantic.vectors import CACHE_FILE, VECTORS_DIR, has_vectors

    # the embedding cache of an index with vectors: the button then computes nothing anew
    (writable_index / VECTORS_DIR).mkdir()
    shutil.copy(indexed_vectors / VECTORS_DIR / CACHE_FILE, writable_index / VECTORS_DIR / CACHE_FILE)
    rid = report_id(writable_index, LINGWU_GOV)
    at = open_page("similar", id=rid)
    assert not has_vectors(writable_index)
    next(b for b in at.button if b.label == "计算向量").click().run()
    no_failure(at)
    assert has_vectors(writable_index)
    assert not [i for i in at.info if "需要段落向量" in i.value]
    assert len([link for link in at.get("page_link") if link.label.startswith("**")]) == 4


def test_unusable_vectors_are_offered_for_recomputing(indexed_vectors, tmp_path, monkeypatch):
    import json

    from indexer.semantic.vectors import CURRENT, VECTORS_DIR

    target = tmp_path / "index"
    shutil.copytree(indexed_vectors, target, ignore=shutil.ignore_patterns("index.lock"))
    monkeypatch.setenv("NIANBAO_HOME", str(target))
    generation = target / VECTORS_DIR / (target / VECTORS_DIR / CURRENT).read_text().strip()
    meta = json.loads((generation / "meta.json").read_text())
    (generation / "meta.json").write_text(json.dumps({**meta, "format": -1}))
    at = open_page("report", id=report_id(target, LINGWU_GOV))
    assert not at.exception and not at.error
    assert any("段落向量无法使用" in w.value for w in at.warning)
    next(b for b in at.button if b.label == "重新计算向量").click().run()
    no_failure(at)
    assert not at.warning
    assert any("的报告对更相似" in link.label for link in at.get("page_link"))


def test_similar_unknown_id_is_a_plain_message(app_index):
    at = open_page("similar", id="ffffffffffff")
    assert not at.exception
    assert "没有 ID 为" in at.error[0].value
    assert at.selectbox[0].value is None


def add_copied_report(index_dir: Path, folder: Path) -> None:
    """灵武市人民政府's report, reissued word for word by another agency: copied passages to find."""
    from indexer.indexing import index_paths

    folder.mkdir()
    text = (CORPUS / SAMPLES["lingwu_gov_2020"]).read_text(encoding="utf-8").replace("灵武市", "青铜峡市")
    (folder / "qingtongxia.txt").write_text(text, encoding="utf-8")
    index_paths([folder], index_dir, embed=False)


def test_similar_asks_before_searching_a_large_index_for_copies(writable_index, tmp_path, monkeypatch):
    """Above QUICK_REPORTS the search for copies takes minutes (20,000 reports: ~3), so the page
    asks first; once asked, it stays asked for the session."""
    from indexer.semantic import copies

    add_copied_report(writable_index, tmp_path / "copied")
    monkeypatch.setattr(copies, "QUICK_REPORTS", 5)
    at = open_page("similar", id=report_id(writable_index, LINGWU_GOV), min="40")
    no_failure(at)
    assert not any(c.value.startswith("找到 ") for c in at.caption)
    assert any("需要几分钟" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "查找复制的段落").click().run()
    no_failure(at)
    assert any(c.value.startswith("找到 ") for c in at.caption)
    at.run()
    assert any(c.value.startswith("找到 ") for c in at.caption)
    assert "查找复制的段落" not in [b.label for b in at.button]


def test_similar_copied_passages_show_both_sides_highlighted(writable_index, tmp_path):
    add_copied_report(writable_index, tmp_path / "copied")
    rid = report_id(writable_index, LINGWU_GOV)
    at = open_page("similar", id=rid, min="40")
    no_failure(at)
    assert at.number_input[0].value == 40
    assert any(c.value.startswith("找到 ") for c in at.caption)
    body = html_text(at)
    assert "青铜峡市人民政府" in body and LINGWU_GOV in body
    heads = [chunk.split("<")[0] for chunk in body.split('class="nb-column-head">')[1:]]
    assert heads[:2] == [f"{LINGWU_GOV} · 2020", "青铜峡市人民政府 · 2020"]
    assert body.count('<span class="nb-common">(二) 改进措施。一是压实工作责任。') == 2
    targets = {link.proto.query_string for link in at.get("page_link") if link.label == "打开报告"}
    assert len(targets) == 2
    at.number_input[0].set_value(2000).run()
    no_failure(at)
    assert at.query_params["min"] == "2000"
    assert any("没有找到至少 2000 字" in i.value for i in at.info)


def test_similar_no_copies_in_the_samples_says_so(app_index):
    at = open_page("similar", id=report_id(app_index, LINGWU_GOV), min="abc")
    no_failure(at)
    assert at.number_input[0].value == 30
    assert any("没有找到至少 30 字" in i.value for i in at.info)


def test_similar_with_vectors_ranks_reports_and_links_them(vectors_index):
    rid = report_id(vectors_index, LINGWU_GOV)
    at = open_page("similar", id=rid)
    no_failure(at)
    assert at.subheader[0].value.startswith("与「") and LINGWU_GOV in at.subheader[0].value
    ranked = [link for link in at.get("page_link") if link.label.startswith("**")]
    assert [link.label[:5] for link in ranked] == ["**1. ", "**2. ", "**3. ", "**4. "]
    assert {link.label[5:].split(" · ")[0] for link in ranked} == {
        "灵武市商务和经济技术合作局", "固原市经济技术合作局", "淮北市商务局", "沙坡头区机关事务局"}
    assert all(f"id={rid}" not in link.proto.query_string for link in ranked)
    body = html_text(at)
    assert "nb-pairs" in body and re.search(r"<b>比 \d+% 的报告对更相似</b>", body)
    compare = [link for link in at.get("page_link") if link.label.startswith("并排比较「")]
    assert compare and f"ids={rid}" in compare[0].proto.query_string


def test_similar_upload_bad_file_is_a_plain_message(vectors_index, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    at = open_page("similar")
    at.radio[0].set_value("upload").run()
    no_failure(at)
    at.file_uploader[0].set_value(("../../坏文件.pdf", b"%PDF-1.4 not really a pdf", "application/pdf")).run()
    assert not at.exception
    assert at.error[0].value.startswith("无法读取「") and "PDF" in at.error[0].value
    assert "Traceback" not in at.error[0].value
    assert not list(tmp_path.iterdir())
    assert not (vectors_index / "uploads").exists()


def test_similar_upload_compares_without_indexing(vectors_index, tmp_path, monkeypatch):
    """The upload is read and parsed in memory (`similar_bytes`): no temporary folder, no file."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def no_folder(*args, **kwargs):
        raise AssertionError("an upload to compare is never written to a temporary folder")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", no_folder)
    text = (CORPUS / SAMPLES["lingwu_gov_2020"]).read_text(encoding="utf-8").replace("灵武市", "青铜峡市")
    at = open_page("similar")
    at.radio[0].set_value("upload").run()
    at.file_uploader[0].set_value(("青铜峡 2020.txt", text.encode("gb18030"), "text/plain")).run()
    no_failure(at)
    ranked = [link.label for link in at.get("page_link") if link.label.startswith("**1. ")]
    assert ranked and LINGWU_GOV in ranked[0]
    assert not list(tmp_path.iterdir()), "nothing of the compared file is written"
    from indexer.store import Store

    store = Store(vectors_index, create=False)
    try:
        assert store.count_reports() == 5
    finally:
        store.close()


def test_report_page_lists_similar_reports(vectors_index):
    at = open_page("report", id=report_id(vectors_index, LINGWU_GOV))
    no_failure(at)
    assert any("的报告对更相似" in link.label for link in at.get("page_link"))


def test_compare_with_vectors_marks_shared_passages(vectors_index):
    at = open_page("compare")
    no_failure(at)
    assert html_text(at).count('class="nb-column-head"') == 3
    assert any("橙色边框" in c.value for c in at.caption)
    # Two problems sections that both speak of too few staff (tests/test_semantic.py pairs them).
    ids = [report_id(vectors_index, LINGWU_GOV), report_id(vectors_index, "灵武市商务和经济技术合作局")]
    at = open_page("compare", ids=ids, kind="problems")
    no_failure(at)
    assert at.multiselect[0].value == ids
    assert 'class="nb-para nb-shared"' in html_text(at) and "相近段落：" in html_text(at)
    assert re.search(r"相近段落：[^<]*· 20\d\d", html_text(at)) and "相似度 0." not in html_text(at)


# --- 统计 ----------------------------------------------------------------------------------


def test_stats_page_tables_charts_and_failed_checks(app_index):
    at = open_page("stats")
    no_failure(at)
    assert any(c.value == "5 份报告，其中 5 份读出了统计表。" for c in at.caption)
    assert len(at.get("vega_lite_chart")) == 3
    table = at.dataframe[0].value
    assert list(table["机关"]) == [LINGWU_GOV, "固原市经济技术合作局"]
    assert table.iloc[0]["一、本年新收政府信息公开申请数量 / 总计"] == 7
    assert "从事政府信息公开工作人员数 = 专职人员数 + 兼职人员数" in html_text(at)
    assert "沙坡头区机关事务局" in [link.label.split(" · ")[0] for link in at.get("page_link")]
    assert [b.label for b in at.get("download_button")] == ["导出 CSV", "导出 XLSX"]


def test_stats_filters_from_url(app_index):
    at = open_page("stats", template=["old", "old"], province="宁夏回族自治区")  # a link may repeat a value
    no_failure(at)
    assert at.multiselect[3].value == ["old"]
    assert any(c.value.startswith("2 份报告") for c in at.caption)
    at.multiselect[3].set_value([]).run()
    assert "template" not in at.query_params


def test_stats_filters_without_reports_say_so(app_index):
    at = open_page("stats", agency="没有这个机关")
    no_failure(at)
    assert any("没有读出统计表" in i.value for i in at.info)


@pytest.fixture(scope="module")
def synthetic_index(tmp_path_factory) -> Path:
    """60 synthetic reports: more than the page draws bar by bar, with hundreds of failed checks
    (the generator substitutes numbers at random)."""
    import sys

    sys.path.insert(0, str(MAIN.parent.parent / "bench"))
    from synth import generate

    from indexer.indexing import index_paths

    corpus = tmp_path_factory.mktemp("synthetic")
    generate(corpus, 60, workers=1)
    index_paths([corpus], corpus.parent / "synthetic-index", embed=False)
    return corpus.parent / "synthetic-index"


def test_stats_page_draws_a_bounded_page_however_many_reports(synthetic_index, monkeypatch):
    """At 20,000 reports the page drew a bar per report and a box per failed check (344,000), and
    took a minute and 6.7 GB: it now aggregates and lists the first rows, the export has them all."""
    monkeypatch.setenv("NIANBAO_HOME", str(synthetic_index))
    monkeypatch.delenv("NIANBAO_ALLOW_FOLDERS", raising=False)
    at = open_page("stats")
    no_failure(at)
    assert any(m.value == "**申请办理结果的构成**（按年份汇总）" for m in at.markdown)
    heading = next(h.value for h in at.subheader if h.value.startswith("未通过的校验"))
    assert int(heading.removeprefix("未通过的校验（").removesuffix("）")) > 100
    assert len(at.get("page_link")) == 100  # one per failed check listed
    assert any(c.value == "这里列出前 100 项；导出的表格和命令行列出全部。" for c in at.caption)


# --- 语料 ----------------------------------------------------------------------------------


def test_corpus_summary(app_index):
    at = open_page("corpus")
    no_failure(at)
    assert at.metric[0].value == "5"
    assert at.metric[3].value == "未计算"
    assert [link.label for link in at.get("page_link")] == ["全部 5 份报告的列表（可筛选、排序）"]


def test_corpus_upload_adds_report_and_skips_bad_files(writable_index):
    at = open_page("corpus")
    text = (CORPUS / SAMPLES["lingwu_gov_2020"]).read_text(encoding="utf-8").replace("灵武市", "青铜峡市")
    at.file_uploader[0].set_value([
        ("../../etc/青铜峡 2020.txt", text.encode("gb18030"), "text/plain"),
        ("broken.pdf", b"%PDF-1.4 not really a pdf", "application/pdf"),
        ("empty.txt", b"   ", "text/plain"),
        ("copy.txt", text.encode("utf-8"), "text/plain"),  # the same text again, another name and encoding
        ("guyuan.txt", (CORPUS / SAMPLES["guyuan_2019"]).read_bytes(), "text/plain"),  # already indexed
    ])
    at.button[0].click().run()
    no_failure(at)
    table = at.dataframe[0].value
    results = dict(zip(table["文件"], table["结果"]))
    # The same text under two names: one is new, the other its duplicate (whichever was read first).
    assert sorted([results.pop("../../etc/青铜峡 2020.txt"), results.pop("copy.txt")]) == ["新增", "重复"]
    assert results == {"broken.pdf": "跳过", "empty.txt": "跳过", "guyuan.txt": "重复"}
    assert set(table[table["文件"] == "empty.txt"]["原因"]) == {"文件是空的"}
    assert [s.value for s in at.success] == ["新增 1，重复 2，跳过 2；索引共 6 份报告。"]  # the line counts the table
    uploads = writable_index / "uploads"
    assert sorted(p.name for p in uploads.rglob("*") if p.is_file()) == ["copy.txt", "guyuan.txt", "青铜峡_2020.txt"]
    assert not (writable_index.parent / "etc").exists()
    assert at.metric[0].value == "6"


def test_corpus_folder_indexing(writable_index, tmp_path, monkeypatch):
    monkeypatch.setenv("NIANBAO_ALLOW_FOLDERS", str(tmp_path))
    folder = tmp_path / "more"
    folder.mkdir()
    guyuan = (CORPUS / SAMPLES["guyuan_2019"]).read_text(encoding="utf-8")
    (folder / "a.txt").write_text(guyuan.replace("2019", "2021"), encoding="utf-8")
    (folder / "b.txt").write_text("", encoding="utf-8")
    (folder / "c.txt").write_text(guyuan, encoding="utf-8")  # a report already in the index
    at = open_page("corpus")
    at.text_input[0].input(str(folder))
    at.button[1].click().run()
    no_failure(at)
    results = dict(zip(at.dataframe[0].value["文件"], at.dataframe[0].value["结果"]))
    assert results == {"a.txt": "新增", "b.txt": "跳过", "c.txt": "重复"}


def test_corpus_folder_missing_and_not_allowed(writable_index, tmp_path, monkeypatch):
    from search_app import render

    monkeypatch.setenv("NIANBAO_ALLOW_FOLDERS", str(tmp_path))
    for missing in (str(tmp_path / "no" / "such"), "~nosuchuser_xyz/年报"):  # expanduser raises for an unknown user
        at = open_page("corpus")
        at.text_input[0].input(missing)
        at.button[1].click().run()
        assert not at.exception
        assert [e.value for e in at.error] == [f"找不到文件夹「{render.md(missing)}」。"]
    monkeypatch.delenv("NIANBAO_ALLOW_FOLDERS")
    at = open_page("corpus")
    assert not at.text_input and not any(h.value == "索引本机文件夹" for h in at.subheader)


def test_safe_upload_name_keeps_uploads_inside():
    from search_app.state import safe_upload_name

    assert safe_upload_name("../../etc/passwd") == "passwd"
    assert safe_upload_name("..\\..\\报告 2020.PDF") == "报告_2020.pdf"
    assert safe_upload_name("....") == "upload"
    assert safe_upload_name("a/<b>;rm -rf.txt") == "b_rm_-rf.txt"
    assert len(safe_upload_name("长" * 500 + ".txt")) <= 100


# --- start ---------------------------------------------------------------------------------


def test_empty_index_gets_the_bundled_corpus(tmp_path, monkeypatch):
    from search_app.state import semantic_installed

    monkeypatch.setenv("NIANBAO_HOME", str(tmp_path / "fresh"))
    at = AppTest.from_file(str(MAIN), default_timeout=300).run()
    no_failure(at)
    at.text_input[0].input("政府开放日").run()
    no_failure(at)
    assert LINGWU_GOV in html_text(at)
    if semantic_installed():
        from indexer.semantic.vectors import has_vectors

        assert has_vectors(tmp_path / "fresh"), "the first start should compute vectors for similar and compare"


def test_app_command_builds_streamlit_call(tmp_path):
    from click.testing import CliRunner

    from indexer import app_launch
    from indexer.cli import cli

    command = app_launch.streamlit_command("127.0.0.1", 8600)
    assert command[1:4] == ["-m", "streamlit", "run"] and Path(command[4]) == MAIN
    options = dict(zip(command[5::2], command[6::2]))
    assert options["--server.address"] == "127.0.0.1" and options["--server.port"] == "8600"
    assert options["--server.headless"] == "true" and options["--browser.gatherUsageStats"] == "false"
    env = app_launch.app_environment(tmp_path)
    assert env["NIANBAO_HOME"] == str(tmp_path.resolve()) and "NIANBAO_ALLOW_FOLDERS" not in env
    assert app_launch.app_environment(tmp_path, allow_folders=tmp_path)["NIANBAO_ALLOW_FOLDERS"] == str(tmp_path.resolve())
    assert app_launch.is_loopback("localhost") and app_launch.is_loopback("::1")
    assert not app_launch.is_loopback("192.168.1.5")
    result = CliRunner().invoke(cli, ["app", "--help"])
    assert result.exit_code == 0 and "--port" in result.output and "--address" in result.output


# --- links a person edited or pasted -----------------------------------------------------------


@pytest.mark.parametrize("number", ["²", "9" * 5000, "-1", "abc"])
def test_odd_page_numbers_and_minimums_in_links(app_index, number):
    """int() refuses ² (a digit to str.isdigit) and numbers of thousands of digits."""
    at = open_page(q="依申请公开", p=number)
    no_failure(at)
    assert any(c.value.startswith("5 份报告") for c in at.caption)
    assert "p" not in at.query_params  # page 1 is shown: the link's page is not kept
    at = open_page("similar", id=report_id(app_index, LINGWU_GOV), min=number)
    no_failure(at)
    assert at.number_input[0].value == (2000 if number.startswith("9") else 30)


def test_a_malformed_year_in_a_link_is_dropped_with_a_warning(app_index):
    at = open_page(q="依申请公开", year="abcd")
    no_failure(at)
    assert any("abcd" in w.value for w in at.warning)
    assert any(c.value.startswith("5 份报告") for c in at.caption)
    at = open_page("compare", year="abcd")
    no_failure(at)
    assert any("abcd" in w.value for w in at.warning) and len(at.multiselect[0].value) == 3


def test_part_of_a_place_name_in_a_link_counts_its_facets(app_index):
    """province=宁夏 filters by part of the name, as the query language does; the facets count the same way."""
    at = open_page(q="依申请公开", province="宁夏")
    no_failure(at)
    assert any(c.value.startswith("4 份报告") for c in at.caption)
    assert at.checkbox(key="search_f_province_宁夏").label == "宁夏（4）"
    assert at.checkbox(key="search_f_province_宁夏").value
    years = facet_labels(at, "year")
    assert sum(int(re.search(r"（(\d+)）", y).group(1)) for y in years) == 4, years


def test_compare_links_with_repeated_short_and_unknown_ids(app_index):
    first, second = report_id(app_index, LINGWU_GOV), report_id(app_index, "灵武市商务和经济技术合作局")
    at = open_page("compare", ids=[first, first])
    no_failure(at)
    assert at.multiselect[0].value[0] == first and len(set(at.multiselect[0].value)) == 3  # not twice, topped up
    at = open_page("compare", ids=[first[:6], second[:6]])
    no_failure(at)
    assert at.multiselect[0].value == [first, second]  # prefixes, as on the report page
    at = open_page("compare", ids=["nonsense", first])
    no_failure(at)
    assert any("nonsense" in w.value for w in at.warning)


@pytest.mark.parametrize("query", ['"政府', "(政府", "政府)", "政府 OR", "OR 政府", "政府 AND", "NOT", "-", "()",
                                   "(" * 60 + "公开" + ")" * 60, '"  "', "year:", "year:20x0 公开", "template:x 公开",
                                   "section:zz 公开", "公" * 1001, "  ", "-year:2018 公开", "政府 OR year:2020"])
def test_query_errors_read_in_chinese(query):
    """The parser's messages are English (the command line's); the search desk speaks Chinese."""
    from indexer.core.querylang import QUERY_FIELDS
    from indexer.query import QueryError, parse_query
    from search_app.render import query_error_label

    with pytest.raises(QueryError) as info:
        parse_query(query)
    label = query_error_label(info.value)
    assert label != str(info.value)
    assert not re.search(r"[A-Za-z]{5,}", re.sub("|".join(QUERY_FIELDS), "", label)), label


def test_snippets_mark_every_occurrence_and_skip_what_is_already_shown():
    """Two occurrences a few characters apart gave two near-identical snippets, each marking one."""
    from search_app.render import snippets_html

    text = "一是积极开展“政府开放日”活动，二是政府开放日常态化。"
    first, second = text.index("政府开放日"), text.rindex("政府开放日")
    snippets = [{"section_kind": "overview", "text": text, "match_start": first, "match_end": first + 5},
                {"section_kind": "overview", "text": text, "match_start": second, "match_end": second + 5},
                {"section_kind": "problems", "text": "另一处：政府开放日", "match_start": 4, "match_end": 9}]
    shown = snippets_html(snippets, ["政府开放日"])
    assert len(shown) == 2 and shown[0].count("<mark>政府开放日</mark>") == 2
    assert "另一处：<mark>政府开放日</mark>" in shown[1]


def test_back_from_a_report_keeps_the_search_filters(app_index):
    """A helper's round trip: 1 report with year 2020, back from it, 5 reports without the year."""
    from urllib.parse import parse_qs

    at = open_page(q="政务公开 申请", mode="keyword", year="2020", sort="count")
    no_failure(at)
    (result,) = [link for link in at.get("page_link") if link.label.startswith("**")]
    params = parse_qs(result.proto.query_string)
    assert params["year"] == ["2020"] and params["sort"] == ["count"] and params["mode"] == ["keyword"]
    at = open_page("report", **{k: v[0] for k, v in params.items()})
    no_failure(at)
    (back,) = [link for link in at.get("page_link") if link.label == "返回检索结果"]
    assert parse_qs(back.proto.query_string) == {"q": ["政务公开 申请"], "mode": ["keyword"], "sort": ["count"],
                                                 "year": ["2020"]}


def test_charts_say_what_they_show(app_index):
    """All-zero applications get a sentence, not an empty plot; the outcome stack follows its legend."""
    at = open_page("stats", year="2018")
    no_failure(at)
    assert any(c.value == "所选报告收到的申请均为 0。" for c in at.caption)
    at = open_page("stats")
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    stacked = next(s for s in specs if s.get("encoding", {}).get("x", {}).get("stack") == "normalize")
    assert stacked["encoding"]["order"]["field"] == "次序"
    at = open_page("corpus")
    titles = [json.loads(c.proto.spec).get("title") for c in at.get("vega_lite_chart")]
    assert titles == ["各年份的报告数", "各省份的报告数"]


def test_findings_page_states_its_minimum_and_formula(app_index):
    at = open_page("findings")
    assert not at.exception
    assert at.title[0].value == "发现"
    captions = " ".join(c.value for c in at.caption)
    assert "只对分母不少于 30 的组排名" in captions
    assert any(e.label == "公式" for e in at.expander)
    ranking = at.dataframe[0].value  # the grid draws a missing cell as the English "None"
    assert not ranking.isna().any().any(), ranking
    assert set(ranking["排名"]) == {"—"}  # the samples are all under the minimum
    assert set(ranking["说明"]) <= {"样本不足，不排名", "分母为 0，无比率"}
    assert "份报告具备所属格式要求的全部部分" in " ".join(m.value for m in at.markdown)


def test_findings_page_names_the_problem_themes(vectors_index):
    """With vectors, the themes of the problems sections: the listed ones under their reader's
    label, every paragraph in one."""
    from indexer.findings.theme_anchors import ANCHORS

    at = open_page("findings")
    no_failure(at)
    caption = next(c.value for c in at.caption if "个来自常见问题清单" in c.value)
    assert "段分入" in caption
    labels = {a.label for a in ANCHORS}
    listed = [e.label for e in at.expander if any(f". {label}（" in e.label for label in labels)]
    assert listed and int(caption.split("；")[1].split(" ")[0]) == len(listed)


def test_keyword_mode_says_when_the_text_holds_the_query_inside_longer_words(app_index):
    """开放 is in 政府开放日 but never a word of its own: keyword mode must not read as 'not there'.
    收费 is a word in some reports and inside longer words in others: the caption gives the exact count."""
    from indexer.query import Engine

    engine = Engine(app_index)
    try:
        counts = {q: (engine.search(q, mode="exact", limit=1)["total_reports"],
                      engine.search(q, mode="keyword", limit=1)["total_reports"]) for q in ("开放", "收费", "申请")}
    finally:
        engine.close()
    assert counts["开放"][0] > 0 == counts["开放"][1] and counts["收费"][0] > counts["收费"][1] > 0
    assert counts["申请"][0] == counts["申请"][1]
    at = open_page(q="开放", mode="keyword")
    no_failure(at)
    assert [i.value for i in at.info] == [f"关键词模式下没有找到完整的词。关键词模式只认完整的词；按原文逐字匹配，有 {counts['开放'][0]} 份报告"
                                          "含有检索词（比如在更长的词里），切换到「精确」模式可以看到全部。"]
    at = open_page(q="收费", mode="keyword")
    no_failure(at)
    assert any(f"按原文逐字匹配，有 {counts['收费'][0]} 份报告含有检索词" in c.value for c in at.caption)
    at = open_page(q="申请", mode="keyword")
    no_failure(at)
    assert not any("按原文逐字匹配" in c.value for c in at.caption)
