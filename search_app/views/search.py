"""检索: one query box, four modes, facets with counts, results grouped by report, export.

Everything that defines a search (query, mode, sort, facets, page) lives in the URL, so a
search can be shared and reloaded. Facet counts for one facet are taken over the results
that pass every other facet, so a chosen value can still be switched for another.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable

import pandas as pd
import streamlit as st

from indexer.fulltext import SearchFilters, parse_query
from indexer.fulltext.search import MODES, SORTS
from indexer.parse.sections import SECTION_KINDS
from search_app import render, state

PAGE_SIZE = 10
SNIPPETS_SHOWN = 4
MODE_LABELS = {"exact": "精确", "keyword": "关键词", "semantic": "语义", "hybrid": "混合"}
SORT_LABELS = {"relevance": "相关度", "year": "年份（新→旧）", "count": "出现次数"}
FACETS = {"year": "年份", "province": "省份", "city": "城市", "agency": "机关"}
PLACEHOLDER = "例如：政府开放日　或　不予公开 -行政复议 year:2018-2020 section:problems"
HELP = """**检索式**：空格分隔的词须同时出现；`OR` 表示或；`NOT 词` 或 `-词` 表示排除；可用括号和引号；
字段过滤 `year:2020`、`year:2018-2020`、`section:problems`（或中文章节名）、`province:宁夏`、`agency:商务局`。

**模式**：精确——逐字匹配（跨页断开的词也能找到），统计每处出现；关键词——分词后按 BM25 排序；
语义——按意思找相近段落；混合——关键词与语义排名融合。"""


def facet_value(result: dict, facet: str) -> str:
    if facet == "year":
        return str(result["year"]) if result.get("year") else ""
    if facet in ("province", "city"):
        return (result.get("region") or {}).get(facet) or ""
    return result.get(facet) or ""


def facet_counts(results: list[dict], chosen: dict[str, str], sections: list[str]) -> dict[str, Counter]:
    """Counts per facet value, each over the results that pass the other chosen facets."""
    # Which results each chosen facet lets through, by the search's own rule (a place or agency
    # matches by part of its name, a year by range); decided once per result: 20,000 at scale.
    through = {facet: list(map(SearchFilters(**{facet: value}).accepts, results))
               for facet, value in chosen.items() if value}
    if sections:
        wanted = set(sections)
        through["section"] = [bool(wanted.intersection(r["sections"])) for r in results]

    def passing(skip: str | None) -> list[dict]:
        keep = [flags for facet, flags in through.items() if facet != skip]
        return [r for r, *flags in zip(results, *keep) if all(flags)] if keep else results

    counts: dict[str, Counter] = {}
    for facet in FACETS:
        counts[facet] = Counter(facet_value(r, facet) for r in passing(facet))
        counts[facet].pop("", None)
        value = chosen.get(facet)
        if value and value not in counts[facet]:  # part of a name (宁夏) or a range, from a link
            counts[facet][value] = len(passing(None))
    counts["section"] = Counter(k for r in passing("section") for k in r["sections"])
    return counts


def with_region(results: list[dict]) -> list[dict]:
    """Semantic passages carry no region or section list; add them from the store for facets."""
    with state.store() as store:
        reports = {r["id"]: r for r in store.reports({r["report_id"] for r in results})}
    return [{**r, "region": reports.get(r["report_id"], {}).get("region", {}),
             "sections": [r["section_kind"]] if r.get("section_kind") else []} for r in results]


def facet_widgets(counts: dict[str, Counter], counted: bool = True) -> None:
    """The facets; `counted` False for a meaning search, whose values come from the 40 passages
    closest overall: a count among those would not be what choosing the value then shows."""
    st.markdown("**筛选**")
    if not counted:
        st.caption(f"语义和混合检索只取意思最相近的 {state.SEMANTIC_LIMIT} 段，下列选项来自这些段落，不计数。")

    def label_of(value: str, count: int) -> str:
        return "全部" if not value else f"{value}（{count}）" if counted else value

    for facet, label in FACETS.items():
        key = f"search_{facet}"
        current = st.session_state.get(key) or ""
        values = [v for v, _ in counts[facet].most_common()]
        if current and current not in values:
            values.append(current)
        if facet == "year":
            values.sort(reverse=True)
        st.selectbox(label, [""] + values, key=key, format_func=lambda v, c=counts[facet]: label_of(v, c.get(v, 0)))
    current_sections = st.session_state.get("search_sections") or []
    options = [k for k in SECTION_KINDS if counts["section"].get(k) or k in current_sections]
    st.multiselect("章节", options, key="search_sections", placeholder="全部章节",
                   format_func=lambda k: label_of(SECTION_KINDS[k], counts["section"].get(k, 0)))


def report_link(result: dict, query: str, mode: str) -> None:
    label = result.get("title") or render.report_label(result)
    st.page_link("views/report.py", label=f"**{render.md(label)}**", icon=":material/description:",
                 query_params={**state.search_params(), "id": result["report_id"], "q": query, "mode": mode})


def show_fulltext_result(result: dict, query: str, mode: str) -> None:
    with st.container(border=True):
        report_link(result, query, mode)
        kinds = "、".join(render.kind_label(k) for k in result["sections"])
        st.html(f'<div class="nb-meta">{render.esc(render.report_label(result))} · '
                f'{render.esc(render.region_label(result["region"]))} · {render.esc(result["source"])} · '
                f'出现 <b>{result["count"]}</b> 次{" · 章节：" + render.esc(kinds) if kinds else ""}</div>')
        shown = render.snippets_html(result["snippets"], render.highlight_terms(query, mode))
        if shown:
            st.html("".join(shown[:SNIPPETS_SHOWN]))
        if len(shown) > SNIPPETS_SHOWN:
            with st.expander(f"其余 {len(shown) - SNIPPETS_SHOWN} 段"):
                st.html("".join(shown[SNIPPETS_SHOWN:]))


# Semantic scores are cosines (1 = the same meaning); hybrid ones are fused reciprocal ranks.
SCORE_LABELS = {"semantic": "相似度", "hybrid": "综合排名分"}


def show_passages(results: list[dict], query: str, mode: str, terms: list[str]) -> None:
    """Semantic and hybrid answers are passages; grouped by report in rank order."""
    grouped: dict[str, list[dict]] = {}
    for passage in results:
        grouped.setdefault(passage["report_id"], []).append(passage)
    score = SCORE_LABELS[mode]
    for passages in grouped.values():
        first = passages[0]
        with st.container(border=True):
            report_link({**first, "title": None}, query, mode)
            st.html(f'<div class="nb-meta">{render.esc(render.region_label(first.get("region")))} · '
                    f'{render.esc(first["source"])} · 其中 {len(passages)} 段</div>')
            st.html("".join(
                f'<div class="nb-snippet"><span class="nb-kind">{render.esc(render.kind_label(p["section_kind"]))}'
                f' · {score} {p["score"]:.3f}</span>{render.highlight(p["text"], render.term_spans(p["text"], terms))}</div>'
                for p in passages))


def export_frame(query: str, filters: SearchFilters, mode: str, sort: str) -> Callable[[], pd.DataFrame]:
    handle = state.using_engine()

    def make() -> pd.DataFrame:
        with handle as engine:
            if mode in ("exact", "keyword"):
                found = engine.search(query, filters, mode=mode, sort=sort, limit=None)["results"]
            else:
                found = engine.search(query, filters, mode=mode, limit=state.SEMANTIC_LIMIT)["results"]
        return pd.DataFrame(render.result_rows(found, mode))

    return make


def pager(total: int) -> int:
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, st.session_state.get("search_page", 1)), pages)
    st.session_state["search_page"] = page
    if pages > 1:
        left, middle, right = st.columns([1, 2, 1])
        left.button("上一页", disabled=page <= 1, key="search_prev", on_click=_turn, args=(-1,))
        middle.markdown(f"<div style='text-align:center'>第 {page} / {pages} 页</div>", unsafe_allow_html=True)
        right.button("下一页", disabled=page >= pages, key="search_next", on_click=_turn, args=(1,))
    return page


def _turn(step: int) -> None:
    st.session_state["search_page"] = st.session_state.get("search_page", 1) + step


def page() -> None:
    state.init_widget("search_q", state.param("q"))
    state.init_widget("search_mode", state.param("mode", "exact") if state.param("mode") in MODES else "exact")
    state.init_widget("search_sort", state.param("sort", "relevance") if state.param("sort") in SORTS else "relevance")
    for facet in FACETS:
        if f"search_{facet}" not in st.session_state:  # year_param warns: once, on the first draw
            state.init_widget(f"search_{facet}", state.year_param() if facet == "year" else state.param(facet))
    state.init_widget("search_sections", [k for k in state.param_list("section") if k in SECTION_KINDS])
    if "search_page" not in st.session_state:
        st.session_state["search_page"] = state.int_param("p", 1, 1, 100_000)

    st.title("检索")
    query = st.text_input("检索式", key="search_q", placeholder=PLACEHOLDER, label_visibility="collapsed")
    left, right = st.columns([3, 1])
    mode = left.radio("模式", MODES, key="search_mode", horizontal=True, format_func=MODE_LABELS.get)
    sort = right.selectbox("排序", SORTS, key="search_sort", format_func=SORT_LABELS.get,
                           disabled=mode not in ("exact", "keyword"))
    chosen = {f: st.session_state.get(f"search_{f}") or "" for f in FACETS}
    sections = list(st.session_state.get("search_sections") or [])

    signature = (query, mode, sort, tuple(sorted(chosen.items())), tuple(sections))
    if st.session_state.get("search_signature") not in (None, signature):
        st.session_state["search_page"] = 1
    st.session_state["search_signature"] = signature

    if not query.strip():
        state.set_params({})
        st.markdown(HELP)
        with state.store() as store:
            reports = store.reports()
        years = sorted({r["year"] for r in reports if r["year"]})
        span = f"，{years[0]}–{years[-1]} 年" if years else ""
        st.caption(f"索引里有 {len(reports)} 份报告{span}。")
        return
    state.set_params({"q": query, "mode": mode if mode != "exact" else None,
                      "sort": sort if sort != "relevance" else None, **chosen, "section": sections,
                      "p": str(st.session_state["search_page"]) if st.session_state["search_page"] > 1 else None})
    parsed = parse_query(query)
    if mode in ("semantic", "hybrid") and not state.vectors_available("search"):
        st.info("语义和混合检索需要段落向量，这个索引还没有。请在「语料」页计算向量，或改用精确、关键词模式。")
        return

    filters = SearchFilters(year=chosen["year"] or None, sections=sections, province=chosen["province"] or None,
                            city=chosen["city"] or None, agency=chosen["agency"] or None)
    replaced = filters.replaced_by(parsed.filters)
    if replaced:
        st.info("检索式里写的条件优先：" + "；".join(f"{FACETS[name]}按「{written}」，筛选栏的「{given}」未起作用"
                                           for name, (given, written) in replaced.items()) + "。")
    started = time.perf_counter()
    with state.using_engine() as engine:
        if mode in ("exact", "keyword"):
            everything = engine.fulltext.run(query, None, mode=mode, limit=None, snippets=False)["results"]
            counts = facet_counts(everything, chosen, sections)
            offset = (st.session_state["search_page"] - 1) * PAGE_SIZE
            found = engine.search(query, filters, mode=mode, sort=sort, limit=PAGE_SIZE, offset=offset)
            if found["total_reports"] and not found["results"]:  # a page past the end, from a link
                st.session_state["search_page"] = 1
                st.query_params.pop("p", None)
                found = engine.search(query, filters, mode=mode, sort=sort, limit=PAGE_SIZE)
        else:
            everything = engine.search(query, None, mode=mode, limit=state.SEMANTIC_LIMIT)["results"]
            found = engine.search(query, filters, mode=mode, limit=state.SEMANTIC_LIMIT)
    elapsed = time.perf_counter() - started
    if mode not in ("exact", "keyword"):
        everything = with_region(everything)
        counts = facet_counts(everything, chosen, sections)

    facets_col, results_col = st.columns([1, 3], gap="large")
    with facets_col:
        facet_widgets(counts, counted=mode in ("exact", "keyword"))
    with results_col:
        if mode in ("exact", "keyword"):
            total = found["total_reports"]
            if not total:
                st.info("没有找到匹配的报告。可以换个说法、去掉一些词或筛选条件，或试试关键词、语义模式。")
                return
            occurrences = f"，共 {found['total_occurrences']} 处" if found["total_occurrences"] else ""
            st.caption(f"{total} 份报告{occurrences} · 用时 {elapsed * 1000:.0f} 毫秒")
            render.download_buttons(export_frame(query, filters, mode, sort), "nianbao-检索结果", "search-export")
            for result in found["results"]:
                show_fulltext_result(result, query, mode)
            pager(total)
        else:
            results = with_region(found["results"])
            if not results:
                st.info("没有找到相关段落。可以换个说法或去掉筛选条件。")
                return
            st.caption(f"意思最相近的 {len(results)} 段 · 用时 {elapsed * 1000:.0f} 毫秒")
            render.download_buttons(export_frame(query, filters, mode, sort), "nianbao-检索结果", "search-export")
            show_passages(results, query, mode, parsed.positive_terms())


render.guard(page)
