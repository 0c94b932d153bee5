"""检索: one query box, four modes, facets with counts, results grouped by report, export.

Everything that defines a search (query, mode, sort, facets, page) lives in the URL, and each
new search is a new browser history entry: Back and Forward restore it. A facet is a list of
checkboxes, one per value: the value is the checkbox's key and the count only its label, so a
count that changes with the query never becomes a filter value. A value's count is taken over
the results that pass every other facet, so a chosen value can be joined by another.
"""

from __future__ import annotations

import bisect
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate

import pandas as pd
import streamlit as st

from indexer.core.filters import is_unknown
from indexer.core.kinds import SECTION_KINDS
from indexer.query import MODES, SORTS, SearchFilters, parse_query
from search_app import coverage, render, state, watching

PAGE_SIZE = 10
SNIPPETS_SHOWN = 4
FACET_SHOWN = 6  # values shown under a facet; the rest behind 更多
FACET_LISTED = 60  # values listed at most behind 更多
MODE_LABELS = {"exact": "精确", "keyword": "关键词", "semantic": "语义", "hybrid": "混合"}
SORT_LABELS = {"relevance": "相关度", "year": "年份（新→旧）", "count": "出现次数"}
FACETS = {"year": "年份", "province": "省份", "city": "城市", "agency": "机关", "section": "章节"}
UNKNOWN = "未识别"
PLACEHOLDER = "例如：政府开放日　或　不予公开 -行政复议 year:2018-2020 section:problems"
HELP = ("**检索式**：空格分隔的词须同时出现；`OR` 表示或；`NOT 词` 或 `-词` 表示排除；可用括号和引号；"
        "字段过滤 `year:2020`、`year:2018-2020`、`section:problems`（或中文章节名）、`province:宁夏`、`agency:商务局`。\n\n"
        "**模式**：精确——逐字匹配（跨页断开的词也能找到），统计每处出现；"
        "关键词——分词后按词频和词的稀有程度排序，只数完整的词；语义——按意思找相近段落；混合——关键词与语义排名融合。")


# --- facets ------------------------------------------------------------------------------


def facet_values(result: dict, facet: str) -> list[str]:
    """A result's values for a facet: several sections, at most one of the others (none: unknown)."""
    if facet == "section":
        return list(result["sections"])
    if facet == "year":
        value = str(result["year"]) if result.get("year") else ""
    elif facet in ("province", "city"):
        value = (result.get("region") or {}).get(facet) or ""
    else:
        value = result.get(facet) or ""
    return [value] if value else []


@dataclass
class Facet:
    """One facet over a search's results: reports per value, reports whose value is unknown
    (未识别), and how many different values there are."""

    counts: Counter
    unknown: int = 0
    distinct: int = 0


def facet_counts(results: list[dict], chosen: dict[str, list[str]], within: list[dict] | None = None,
                 sections: dict[str, int] | None = None) -> dict[str, Facet]:
    """Each facet, counted over the results that pass the other facets' chosen values.

    `results`: the query's results without any filter. `within`: its results under the chosen
    sections, searched as such (terms must hold within those sections: a report holding one
    ANDed term in each of two chosen kinds is found, yet holds within neither), over which the
    other facets count; default `results` filtered by their `sections`. `sections`: the section
    facet's counts when the library computed them (a query that negates a term), else each
    result's kinds within which the query holds are counted."""
    # Which results each facet's chosen values let through, by the search's own rule (a place or
    # agency matches by part of its name, a year by range); decided once per result.
    def through(found: list[dict], by_section: bool) -> dict[str, list[bool]]:
        flags = {facet: list(map(state.filters_of({facet: values}).accepts, found))
                 for facet, values in chosen.items() if values and facet != "section"}
        if chosen.get("section") and by_section:
            wanted = set(chosen["section"])
            flags["section"] = [bool(wanted.intersection(r["sections"])) for r in found]
        return flags

    everywhere = through(results, by_section=within is None)
    inside = None if within is None else through(within, by_section=False)

    def passing(skip: str) -> list[dict]:
        found, flags = (results, everywhere) if skip == "section" or within is None else (within, inside)
        keep = [f for facet, f in flags.items() if facet != skip]
        return [r for r, *f in zip(found, *keep) if all(f)] if keep else found

    facets: dict[str, Facet] = {}
    for facet in FACETS:
        among = passing(facet)
        exact = Counter(v for r in among for v in facet_values(r, facet))
        # Unknown by the filters' own rule: a ministry has no province, and that is not unknown.
        unknown = 0 if facet == "section" else sum(1 for r in among if "region" in r and is_unknown(r, facet))
        picked = [v for v in chosen.get(facet, []) if v != UNKNOWN]  # 未识别 is counted apart, as `unknown`
        if facet == "section":
            counts = Counter(sections) if sections is not None else exact
            for value in picked:  # a chosen kind within which the query holds nowhere stays, to be undone
                counts[value] = counts.get(value, 0)
        elif facet == "year":
            counts = exact
            for value in picked:
                if value not in exact:  # a range, from a link
                    counts[value] = sum(map(state.filters_of({facet: [value]}).accepts, among))
        else:
            counts = by_part(exact, picked)
        facets[facet] = Facet(counts, unknown, len(exact))
    return facets


def by_part(exact: Counter, chosen: list[str]) -> Counter:
    """What choosing each value finds: a place or agency filter matches by part of a name, so
    政府信息公开 also finds 某某政府信息公开办公室. Counted for the values a facet can show."""
    names = list(exact)
    joined = "\n".join(name.replace("\n", " ") for name in names)  # one C-level find per name holding a value
    starts = list(accumulate((len(name) + 1 for name in names), initial=0))
    counts = Counter()
    for value in dict.fromkeys([v for v, _ in exact.most_common(FACET_SHOWN + FACET_LISTED)] + chosen):
        found, position = 0, joined.find(value)
        while position >= 0:
            name = bisect.bisect_right(starts, position) - 1
            found += exact[names[name]]
            position = joined.find(value, starts[name + 1])
        counts[value] = found
    return counts


def with_region(results: list[dict]) -> list[dict]:
    """Semantic passages carry no region or section list; add them from the store for facets."""
    with state.store() as store:
        reports = {r["id"]: r for r in store.reports({r["report_id"] for r in results})}
    return [{**r, "region": reports.get(r["report_id"], {}).get("region", {}),
             "sections": [r["section_kind"]] if r.get("section_kind") else []} for r in results]


def value_label(facet: str, value: str) -> str:
    return SECTION_KINDS.get(value, value) if facet == "section" else value


def ordered(facet: str, counts: Counter) -> list[str]:
    if facet == "year":
        return sorted(counts, reverse=True)
    if facet == "section":
        return [k for k in SECTION_KINDS if k in counts]
    return sorted(counts, key=lambda v: (-counts[v], v))


def _toggle(facet: str, value: str, key: str) -> None:
    chosen = st.session_state["search_facets"]
    values = [v for v in chosen.get(facet, []) if v != value]
    chosen[facet] = values + [value] if st.session_state[key] else values
    st.session_state["search_page"] = 1


def _clear() -> None:
    st.session_state["search_facets"] = {facet: [] for facet in FACETS}
    st.session_state["search_page"] = 1


def facet_box(facet: str, value: str, label: str, chosen: list[str]) -> None:
    key = f"search_f_{facet}_{value}"
    st.session_state[key] = value in chosen  # the value is the state; the label (with its count) only shows it
    st.checkbox(label, key=key, on_change=_toggle, args=(facet, value, key))


def facet_widgets(facets: dict[str, Facet], chosen: dict[str, list[str]], counted: bool = True) -> None:
    """The facets; `counted` False for a meaning search, whose values come from the 40 passages
    closest overall: a count among those would not be what choosing the value then shows."""
    st.markdown("**筛选**")
    if any(chosen.values()):
        st.button("清除全部筛选", key="search_clear", on_click=_clear)
    if not counted:
        st.caption(f"语义和混合检索最多显示 {state.SEMANTIC_LIMIT} 段，下列选项来自这些段落，不计数。")
    for facet, title in FACETS.items():
        found, picked = facets[facet], chosen.get(facet, [])
        values = ordered(facet, found.counts)
        if not values and not found.unknown:
            continue
        st.html(f'<div class="nb-facet">{render.esc(title)}</div>')
        if facet in ("year", "section"):  # a few, in their own order
            shown, rest = values, []
        else:  # the chosen first, then by count
            first = [v for v in values if v in picked] + [v for v in values if v not in picked]
            cut = max(FACET_SHOWN, len(picked))
            shown, rest = first[:cut], first[cut:]

        def label(value: str) -> str:
            name = value_label(facet, value)
            return f"{name}（{found.counts[value]}）" if counted else name

        for value in shown:
            facet_box(facet, value, label(value), picked)
        if rest:
            with st.expander(f"更多（{len(rest)}）"):
                for value in rest[:FACET_LISTED]:
                    facet_box(facet, value, label(value), picked)
        hidden = found.distinct - len(shown) - len(rest[:FACET_LISTED])
        if hidden > 0:
            st.caption(f"另有 {hidden} 项未列出，可在检索式里写明。")
        if found.unknown and counted:  # reports whose value nobody could read: shown, counted, choosable
            facet_box(facet, UNKNOWN, f"{UNKNOWN}（{found.unknown}）", picked)
        elif found.unknown or UNKNOWN in picked:
            st.caption(f"另有{title}{UNKNOWN}的段落")


def excluded_note(excluded: dict[str, int]) -> str:
    """How many matching reports a filter left out only because their field is unknown."""
    parts = [f"{FACETS.get(field, field)}{UNKNOWN}的 {n} 份" for field, n in excluded.items() if n]
    return f"另有{'、'.join(parts)}报告也含检索词，因无法判断是否符合筛选条件而未列出（可勾选「{UNKNOWN}」查看）。" if parts else ""


def exact_note(in_text: int) -> str:
    """What `Engine.inside_words` found, in words: keyword mode counts whole words only."""
    if not in_text:
        return ""
    return (f"关键词模式只认完整的词；按原文逐字匹配，有 {in_text} 份报告含有检索词"
            f"（比如在更长的词里），切换到「{MODE_LABELS['exact']}」模式可以看到全部。")


# --- results -----------------------------------------------------------------------------


def report_link(result: dict, query: str, mode: str) -> None:
    label = result.get("title") or render.report_label(result)
    st.page_link("views/report.py", label=f"**{render.md(label)}**",
                 query_params={**state.search_params(), "id": result["report_id"], "q": query, "mode": mode})


def show_fulltext_result(result: dict, query: str, mode: str) -> None:
    with st.container(border=True):
        report_link(result, query, mode)
        kinds = "、".join(render.kind_label(k) for k in result["sections"])
        st.html(f'<div class="nb-meta">{render.esc(render.report_label(result))} · '
                f'{render.esc(render.region_label(result["region"]))} · {render.esc(result["source"])} · '
                f'出现 <b>{result["count"]}</b> 次{" · 章节：" + render.esc(kinds) if kinds else ""}</div>')
        shown = render.snippets_html(result["snippets"], render.highlight_terms(query, mode), mode)
        if shown:
            st.html("".join(shown[:SNIPPETS_SHOWN]))
        if len(shown) > SNIPPETS_SHOWN:
            with st.expander(f"其余 {len(shown) - SNIPPETS_SHOWN} 段"):
                st.html("".join(shown[SNIPPETS_SHOWN:]))


def show_passages(results: list[dict], query: str, mode: str, terms: list[str]) -> None:
    """Semantic and hybrid answers are passages; grouped by report in rank order."""
    grouped: dict[str, list[dict]] = {}
    for passage in results:
        grouped.setdefault(passage["report_id"], []).append(passage)
    for passages in grouped.values():
        first = passages[0]
        with st.container(border=True):
            report_link({**first, "title": None}, query, mode)
            st.html(f'<div class="nb-meta">{render.esc(render.region_label(first.get("region")))} · '
                    f'{render.esc(first["source"])} · 其中 {len(passages)} 段</div>')
            st.html("".join(
                f'<div class="nb-snippet"><span class="nb-kind">{render.esc(render.kind_label(p["section_kind"]))}'
                f' · {passage_score(p, mode)}</span>{render.highlight(p["text"], render.term_spans(p["text"], terms))}</div>'
                for p in passages))


def passage_score(passage: dict, mode: str) -> str:
    """Hybrid: where each ranking put the passage (the fused number means nothing to a reader);
    semantic: its similarity, read against the relevance line the caption states."""
    weak = "" if passage.get("relevant", True) else " · 弱相关"
    if mode != "hybrid":
        return f"相似度 {passage['score']:.3f}{weak}"
    ranks = [f"{name}第 {passage[key]} 名" if passage.get(key) else f"{name}{missing}"
             for name, key, missing in (("关键词", "keyword_rank", "未命中"), ("语义", "semantic_rank", "未达相关线"))]
    return " · ".join(ranks) + weak


def relevance_caption(relevance: dict, shown: int, mode: str) -> str:
    """What the passages shown are: those above the relevance line, how many that is, how many
    fell below it."""
    line, passed, searched = relevance["line"], relevance.get("passed"), relevance["searched"]
    if mode == "hybrid":
        return (f"关键词命中的段落，与语义相似度高于 {line:.3f} 的段落"
                f"（{passed if passed is not None else '至少 ' + str(shown)} 段）合并排序，显示 {shown} 段")
    if passed is None:
        return f"只显示相似度高于 {line:.3f} 的段落：显示最接近的 {shown} 段，高于此线的可能还有更多"
    more = f"，共 {passed} 段高于此线，显示最接近的 {shown} 段" if passed > shown else f"：{shown} 段"
    return f"只显示相似度高于 {line:.3f} 的段落{more}；其余 {searched - passed} 段低于此线，未显示"


def relevance_help(relevance: dict) -> str:
    """How the line was drawn, in words."""
    typical = (f"本次检索时本索引九成段落都能达到的相似度 {relevance['typical']:.3f} 再高 {relevance['margin']:.3f}"
               "（各报告共有的套话都在此线之下）")
    if relevance.get("floor") is None:
        return f"相关线：{typical}。这个模型没有测过无关检索能达到的分数，只按这一条判断。"
    return (f"相关线取两者中较高的：{relevance['floor']:.3f}——足球比分、股市、地铁新线路等 24 个年报从不涉及的检索，"
            f"在 35 份真实年报上都达不到的相似度；以及{typical}。")


def weak_note(relevance: dict, shown: int, mode: str) -> str:
    """Why nothing passed: nothing is about the query, or everything is (too general a query)."""
    nothing = "关键词没有命中，语义上也" if mode == "hybrid" else ""
    floor, best = relevance.get("floor"), relevance.get("best")
    if floor is not None and best is not None and best >= floor:
        return (f"{nothing}没有段落明显突出：这个检索较笼统，本索引九成段落的相似度都达到 {relevance['typical']:.3f}，"
                f"没有段落高于相关线 {relevance['line']:.3f}。下面是意思最接近的 {shown} 段；把检索写得具体些会更准。")
    return (f"{nothing}没有段落的相似度高于相关线 {relevance['line']:.3f}：索引里可能没有谈这件事的段落。"
            f"下面是意思最接近的 {shown} 段，仅供参考，很可能并不相关。")


# --- export ------------------------------------------------------------------------------


def provenance(query: str, mode: str, sort: str, chosen: dict[str, list[str]], total: int,
               relevance: dict | None = None) -> dict[str, str]:
    """What an exported table answers, so a file found later still says where it came from."""
    with state.store() as store:
        reports = store.count_reports()
    about = {"检索式": query, "模式": MODE_LABELS[mode]}
    if mode in ("exact", "keyword"):
        about["排序"] = SORT_LABELS[sort]
    if relevance:
        about["相关线"] = f"相似度 {relevance['line']:.3f}" + ("（无段落高于此线，导出的是最接近的段落）" if relevance["weak"] else "")
    for facet, title in FACETS.items():
        about[f"筛选：{title}"] = "、".join(value_label(facet, v) for v in chosen.get(facet, [])) or "全部"
    about.update({"结果数": str(total), "索引中的报告数": str(reports),
                  "导出时间": datetime.now().astimezone().isoformat(timespec="seconds"),
                  "软件": f"nianbao {render.app_version()}"})
    return about


def export_frame(query: str, filters: SearchFilters, mode: str, sort: str) -> Callable[[], pd.DataFrame]:
    handle = state.using_engine()

    def make() -> pd.DataFrame:
        with handle as engine:
            if mode in ("exact", "keyword"):
                found = engine.search(query, filters, mode=mode, sort=sort, limit=None)["results"]
            else:
                found = with_region(engine.search(query, filters, mode=mode, limit=state.SEMANTIC_LIMIT)["results"])
        return pd.DataFrame(render.result_rows(found, mode))

    return make


def export_name(query: str) -> str:
    """`nianbao_检索_不予公开_2026-12-06`: what is inside, and when, in the file's name."""
    return f"nianbao_检索_{render.file_part(query)}_{datetime.now():%Y-%m-%d}"


# --- the URL ---------------------------------------------------------------------------


def load_from_url() -> None:
    """Set the widgets from the URL: a shared link, or Back and Forward to an earlier search."""
    ss = st.session_state
    ss["search_q"] = state.param("q")
    ss["search_mode"] = state.param("mode") if state.param("mode") in MODES else "exact"
    ss["search_sort"] = state.param("sort") if state.param("sort") in SORTS else "relevance"
    ss["search_facets"] = {facet: state.year_params() if facet == "year" else state.param_list(facet)
                           for facet in FACETS}
    ss["search_facets"]["section"] = [k for k in ss["search_facets"]["section"] if k in SECTION_KINDS]
    ss["search_page"] = state.int_param("p", 1, 1, 100_000)
    ss.pop("search_signature", None)


def url_now() -> dict[str, list[str]]:
    return {name: state.param_list(name) for name in state.SEARCH_PARAMS if state.param_list(name)}


def write_url(query: str, mode: str, sort: str, chosen: dict[str, list[str]], page: int) -> None:
    """The URL for this search; a changed one is a new history entry (Streamlit pushes it)."""
    params = {"q": [query] if query else [], "mode": [mode] if mode != "exact" else [],
              "sort": [sort] if sort != "relevance" else [], **{f: list(chosen.get(f, [])) for f in FACETS},
              "p": [str(page)] if page > 1 else []}
    params = {k: v for k, v in params.items() if v}
    st.session_state["search_url"] = params
    state.set_params(params)


# --- the page --------------------------------------------------------------------------


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


def replaced_note(replaced: dict[str, tuple[object, str]]) -> str:
    def shown(value: object) -> str:
        return "、".join(value) if isinstance(value, list) else str(value)

    return "检索式里写的条件优先：" + "；".join(f"{FACETS[name]}按「{written}」，筛选栏的「{shown(given)}」未起作用"
                                        for name, (given, written) in replaced.items()) + "。"


def page() -> None:
    # Streamlit forgets a page's widgets while another page is shown: back from a report, the URL
    # is the search again.
    if st.session_state.get("search_url") != url_now() or "search_q" not in st.session_state:
        load_from_url()

    st.title("检索")
    query = st.text_input("检索式", key="search_q", placeholder=PLACEHOLDER, label_visibility="collapsed")
    left, right = st.columns([3, 1])
    mode = left.radio("模式", MODES, key="search_mode", horizontal=True, format_func=MODE_LABELS.get)
    sort = right.selectbox("排序", SORTS, key="search_sort", format_func=SORT_LABELS.get, filter_mode=None,
                           disabled=mode not in ("exact", "keyword"))
    chosen = {f: list(v) for f, v in st.session_state["search_facets"].items()}

    signature = (query, mode, sort, tuple((f, tuple(v)) for f, v in chosen.items()))
    if st.session_state.get("search_signature") not in (None, signature):
        st.session_state["search_page"] = 1
    st.session_state["search_signature"] = signature
    write_url(query, mode, sort, chosen, st.session_state["search_page"])

    if not query.strip():
        st.markdown(HELP)
        with state.store() as store:
            reports = store.reports()
        years = sorted({r["year"] for r in reports if r["year"]})
        span = f"，{years[0]}–{years[-1]} 年" if years else ""
        st.caption(f"索引里有 {len(reports)} 份报告{span}。")
        return
    parsed = parse_query(query)
    if mode in ("semantic", "hybrid") and not state.vectors_available("search"):
        st.info("语义和混合检索需要段落向量，这个索引还没有。请在「语料」页计算向量，或改用精确、关键词模式。")
        return

    filters = state.filters_of(chosen)
    replaced = filters.replaced_by(parsed.filters)
    if replaced:
        st.info(replaced_note(replaced))
    started = time.perf_counter()
    # The query parsed once above goes to every search below (facets, the page, the exact count).
    with state.using_engine() as engine:
        within = section_counts = None
        whole_words = ""
        if mode in ("exact", "keyword"):
            everything = engine.fulltext.run(parsed, None, mode=mode, limit=None, snippets=False)["results"]
            if chosen.get("section"):  # the other facets count what the search under those sections finds
                within = engine.fulltext.run(parsed, state.filters_of({"section": chosen["section"]}), mode=mode,
                                             limit=None, snippets=False)["results"]
            if parsed.negated_terms():
                metadata = {facet: values for facet, values in chosen.items() if facet != "section"}
                section_counts = engine.fulltext.section_counts(parsed, state.filters_of(metadata), mode=mode)
            offset = (st.session_state["search_page"] - 1) * PAGE_SIZE
            found = engine.search(parsed, filters, mode=mode, sort=sort, limit=PAGE_SIZE, offset=offset)
            if found["total_reports"] and not found["results"]:  # a page past the end, from a link
                st.session_state["search_page"] = 1
                write_url(query, mode, sort, chosen, 1)
                found = engine.search(parsed, filters, mode=mode, sort=sort, limit=PAGE_SIZE)
            if mode == "keyword":
                whole_words = exact_note(engine.inside_words(parsed, filters, found["total_reports"]))
        else:
            everything = engine.search(parsed, None, mode=mode, limit=state.SEMANTIC_LIMIT)["results"]
            found = engine.search(parsed, filters, mode=mode, limit=state.SEMANTIC_LIMIT)
    elapsed = time.perf_counter() - started
    if mode not in ("exact", "keyword"):
        everything = with_region(everything)
    facets = facet_counts(everything, chosen, within, section_counts)

    facets_col, results_col = st.columns([1, 3], gap="large")
    with facets_col:
        facet_widgets(facets, chosen, counted=mode in ("exact", "keyword"))
    with results_col:
        if mode in ("exact", "keyword"):
            total = found["total_reports"]
            if not total:
                st.info("关键词模式下没有找到完整的词。" + whole_words if whole_words else "没有找到匹配的报告。可以换个说法、去掉一些词或筛选条件，或试试关键词、语义模式。")
                return
            occurrences = f"，共 {found['total_occurrences']} 处" if found["total_occurrences"] else ""
            st.caption(f"{total} 份报告{occurrences} · 用时 {elapsed * 1000:.0f} 毫秒")
            if whole_words:
                st.caption(whole_words)
            left_out = excluded_note(found.get("excluded_unknown") or {})
            if left_out:
                st.caption(left_out)
            render.download_buttons(export_frame(query, filters, mode, sort), export_name(query), "search-export",
                                    lambda: provenance(query, mode, sort, chosen, total))
            if mode == "exact":
                watching.save_search_button(query, filters)
            for result in found["results"]:
                show_fulltext_result(result, query, mode)
            pager(total)
        else:
            coverage.note("语义检索", key="search_vectors_rest")
            results = with_region(found["results"])
            if not results:
                st.info("没有找到相关段落。可以换个说法或去掉筛选条件。")
                return
            relevance = found["relevance"]
            if relevance["weak"]:
                st.warning(weak_note(relevance, len(results), mode))
            else:
                st.caption(f"{relevance_caption(relevance, len(results), mode)} · 用时 {elapsed * 1000:.0f} 毫秒",
                           help=relevance_help(relevance))
            render.download_buttons(export_frame(query, filters, mode, sort), export_name(query), "search-export",
                                    lambda: provenance(query, mode, sort, chosen, len(results), relevance))
            show_passages(results, query, mode, parsed.positive_terms())


render.guard(page)
