"""机关: one agency across the years — timeline, repeated text, the diff of two years, indicator
series and the numbers that do not carry over; and the reports that repeat their previous year
most, for a province (`nianbao repeats`).

Arrives with `?agency=<agency key or name>`; the library (`indexer.agencies`, `indexer.history`)
does the work, this page only draws it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import altair as alt
import pandas as pd
import streamlit as st

from indexer.agencies import Agency, AgencyError, agencies, find_agency
from indexer.core.filters import SearchFilters
from indexer.history import diff, history, repeats
from indexer.store import Store
from search_app import render, state

STATUS_LABELS = {"ok": "一致", "mismatch": "可能不一致", "missing": "缺数据，无法核对"}
DEFAULT_SERIES = ("new.requests.new.total", "old.requests.received", "new.requests.carried_over.total")
CSS = """<style>
.nb-diff { margin: 0 0 0.35rem 0; line-height: 1.7; font-size: 0.92rem; padding: 0.1rem 0.5rem; }
.nb-diff.nb-added { background: #ebfbee; border-left: 3px solid #2f9e44; }
.nb-diff.nb-removed { background: #fff5f5; border-left: 3px solid #e03131; text-decoration: line-through; color: #862e2e; }
.nb-diff.nb-numbers { background: #fff9db; border-left: 3px solid #f08c00; }
.nb-diff.nb-same { color: #495057; }
.nb-diff.nb-template { color: #adb5bd; }
</style>"""


@st.cache_resource(show_spinner=False, max_entries=2)
def load_agencies(index_path: str, generation: int, aliases: tuple) -> dict[str, Agency]:
    """Every agency, once per published generation and set of aliases."""
    with state.store() as store:
        return agencies(store)


def _agencies() -> dict[str, Agency]:
    with state.store() as store:
        stamp = (store.visible_gen(), tuple(sorted(store.agency_aliases().items())))
    return load_agencies(str(state.index_dir()), *stamp)


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def choose(found: dict[str, Agency]) -> str | None:
    """The agency picker (type to search), started from the URL's agency (a key or a name)."""
    wanted = state.param("agency")
    if wanted and wanted not in found:
        try:
            with state.store() as store:
                wanted = find_agency(store, wanted).key
        except AgencyError as exc:
            st.warning(f"找不到链接里的机关：{render.md(exc)}")
            wanted = ""
    state.init_widget("agency_pick", wanted or None)
    order = sorted(found, key=lambda k: (-len(found[k].reports), found[k].name, k))
    labels = {k: f"{found[k].name}（{len(found[k].reports)} 份 · "
                 f"{'、'.join(map(str, found[k].years())) or '年份不详'}）· {k}" for k in order}
    key = st.selectbox("选择机关（可输入名称搜索）", order, key="agency_pick",
                       format_func=labels.get, placeholder="输入机关名称……")
    state.set_params({"agency": key})
    return key


def timeline(found: dict) -> None:
    rows = []
    for y in found["years"]:
        counts = {s: sum(c["status"] == s for c in y["cross_year_checks"]) for s in STATUS_LABELS}
        rows.append({"年份": y["year"], "报告": f"report?id={y['report_id']}", "标题": y["title"] or "",
                     "与上一份重复": _rate(y["repeat_rate"]), "上一份": str(y["previous_year"] or "—"),
                     "跨年核对": "；".join(f"{n} 项{STATUS_LABELS[s]}" for s, n in counts.items() if n) or "—"})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={"报告": st.column_config.LinkColumn("报告", display_text="打开"),
                                "年份": st.column_config.NumberColumn(format="%d")})
    rates = pd.DataFrame([{"年份": str(y["year"]), "重复率": y["repeat_rate"]} for y in found["years"]
                          if y["repeat_rate"] is not None])
    if not rates.empty:
        st.markdown("**与上一年报告重复的叙述文字比例**（多数机关共用的模板句不计）")
        y = alt.Y("重复率:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]))
        bars = alt.Chart(rates).encode(x=alt.X("年份:N"), y=y, tooltip=["年份", alt.Tooltip("重复率:Q", format=".0%")])
        labels = bars.mark_text(dy=-8).encode(text=alt.Text("重复率:Q", format=".0%"))
        rule = alt.Chart(pd.DataFrame({"重复率": [0.5]})).mark_rule(color="#e03131", strokeDash=[4, 4]).encode(y=y)
        st.altair_chart(bars.mark_bar() + labels + rule, width="stretch")


def checks(found: dict) -> None:
    st.subheader("跨年核对")
    shown = 0
    for y in found["years"]:
        for c in y["cross_year_checks"]:
            if c["status"] == "mismatch":
                shown += 1
                st.warning(f"{y['year']} 年 · {render.md(c['label'])}：{render.md(c['message'])}")
    missing = sum(c["status"] == "missing" for y in found["years"] for c in y["cross_year_checks"])
    ok = sum(c["status"] == "ok" for y in found["years"] for c in y["cross_year_checks"])
    if not shown:
        st.success("没有发现跨年不一致的数字。" if ok else "没有可以跨年核对的数字。")
    st.caption(f"{ok} 项一致；{missing} 项因缺少上一年报告或单元格而无法核对（不算不一致）。")


def _passage_html(p: dict) -> str:
    if p["op"] == "same" and "old_text" in p:
        return (f'<div class="nb-diff nb-numbers">{render.esc(p["old_text"])}<br>→ {render.esc(p["text"])}</div>')
    css = {"added": "nb-added", "removed": "nb-removed"}.get(p["op"], "nb-same")
    if p["template"]:
        css += " nb-template"
    return f'<div class="nb-diff {css}">{"+ " if p["op"] == "added" else ""}{render.esc(p["text"])}</div>'


def year_diff(found: dict) -> None:
    st.subheader("两年对比")
    years = found["years"]
    if len(years) < 2:
        st.info("只有一份有年份的报告，无从比较。")
        return
    labels = {y["report_id"]: f"{y['year']} · {y['title'] or y['report_id']}" for y in years}
    ids = list(labels)
    left, right = st.columns(2)
    old = left.selectbox("较早", ids, index=len(ids) - 2, format_func=labels.get, key="agency_old")
    new = right.selectbox("较晚", ids, index=len(ids) - 1, format_func=labels.get, key="agency_new")
    with Store(state.index_dir(), create=False) as store:
        result = diff(store, old, new)
    st.markdown(f"较晚的报告有 **{_rate(result['repeat_rate'])}** 的叙述文字（模板句除外）见于较早的报告。"
                "绿色为新增，红色为删去，黄色为只改了数字的句子，灰色为多数机关共用的模板句。")
    unchanged = st.toggle("也显示未改动的句子", key="agency_unchanged")
    for section in result["sections"]:
        title = (f"{render.kind_label(section['kind'])} · 相同 {section['same_chars']} 字 · "
                 f"新增 {section['added_chars']} 字 · 删去 {section['removed_chars']} 字")
        with st.expander(title, expanded=bool(section["added_chars"] or section["removed_chars"])):
            parts = [_passage_html(p) for p in section["passages"]
                     if unchanged or p["op"] != "same" or "old_text" in p]
            st.html(CSS + "".join(parts) if parts else "<div class='nb-diff nb-same'>（全部未改动）</div>")


def series(found: dict) -> None:
    st.subheader("指标走势")
    available = found["series"]
    if not available:
        st.info("这个机关的报告里没有读出统计表。")
        return
    default = [k for k in DEFAULT_SERIES if k in available][:2] or list(available)[:1]
    keys = st.multiselect("指标", list(available), default=default, key="agency_series",
                          format_func=lambda k: f"{available[k]['label']}（{available[k]['unit'] or ''}）")
    rows = [{"年份": year, "指标": available[k]["label"], "数值": value}
            for k in keys for year, value in available[k]["values"].items() if value is not None]
    if rows:
        chart = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
            x="年份:N", y="数值:Q", color=alt.Color("指标:N", legend=alt.Legend(orient="bottom", labelLimit=400)),
            tooltip=["年份", "指标", "数值"])
        st.altair_chart(chart, width="stretch")


@st.cache_resource(show_spinner=False, max_entries=8)
def load_repeats(index_path: str, generation: int, aliases: tuple, min_rate: float, province: str | None,
                 year: str | None) -> list[dict]:
    """`nianbao repeats` for these filters, once per generation and set of aliases."""
    with Store(Path(index_path), create=False) as store:
        return repeats(store, min_rate, SearchFilters(province=province, year=year))["results"]


def ranking(found: dict[str, Agency]) -> None:
    """The reports that repeat their previous year most, for a province and years."""
    reports = [r for a in found.values() for r in a.reports]
    provinces = sorted({r["region"]["province"] for r in reports if r["region"]["province"]})
    years = sorted({r["year"] for r in reports if r["year"]}, reverse=True)
    cols = st.columns(3)
    province = cols[0].selectbox("省份", [None, *provinces], format_func=lambda p: p or "全部", key="repeats_province")
    year = cols[1].selectbox("年份", [None, *years], format_func=lambda y: str(y or "全部"), key="repeats_year")
    min_rate = cols[2].slider("重复率至少", 0.0, 1.0, 0.5, 0.05, key="repeats_min", format="%.2f")
    if not st.button("列出", key="repeats_go", icon=":material/format_list_numbered:") and "repeats_shown" not in st.session_state:
        st.caption("首次计算要读一遍所有报告的正文（两万份报告约一两分钟），之后很快。")
        return
    st.session_state["repeats_shown"] = True
    with st.spinner("正在比对各机关相邻年份的报告……"):
        with Store(state.index_dir(), create=False) as store:
            stamp = (store.visible_gen(), tuple(sorted(store.agency_aliases().items())))
        results = load_repeats(str(state.index_dir()), *stamp, min_rate, province, str(year) if year else None)
    st.caption(f"{len(results)} 份报告与本机关上一份报告的叙述文字重复至少 {min_rate:.0%}（多数机关共用的模板句不计）。")
    if results:
        st.dataframe(pd.DataFrame([{
            "重复率": f"{r['repeat_rate']:.0%}", "机关": r["agency"], "年份": r["year"], "上一份": r["previous_year"],
            "历年": f"agency?agency={quote(r['agency_key'])}", "报告": f"report?id={r['report_id']}"} for r in results]),
            hide_index=True, width="stretch",
            column_config={"历年": st.column_config.LinkColumn("历年", display_text="查看"),
                           "报告": st.column_config.LinkColumn("报告", display_text="打开"),
                           "年份": st.column_config.NumberColumn(format="%d"),
                           "上一份": st.column_config.NumberColumn(format="%d")})


def page() -> None:
    st.title("机关")
    found = _agencies()
    if not found:
        st.info(render.INDEX_HINT)
        return
    st.caption(f"{len(found)} 个机关。同一机关历年名称的常见写法已合并；改名或合并的机关可在命令行里"
               "设为别名，连成同一机关（见命令说明）。")
    if st.toggle("重复率排行：列出与上一年报告重复最多的报告", key="agency_ranking"):
        ranking(found)
        return
    key = choose(found)
    if key is None:
        return
    # Not state.store()'s snapshot: the first history of a generation saves the template
    # sentences it computed over the whole corpus, which a read snapshot cannot.
    with st.spinner("正在比对历年报告……"), Store(state.index_dir(), create=False) as store:
        result = history(store, key)
    agency = result["agency"]
    st.markdown(f"### {render.md(agency['name'])}")
    st.caption(f"{render.region_label(agency['region'])} · 机关键 {agency['key']}"
               + (f" · 已合并：{'、'.join(agency['aliases'])}" if agency["aliases"] else ""))
    if result["undated_reports"]:
        st.caption(f"另有 {len(result['undated_reports'])} 份报告年份不详，未列入时间线。")
    timeline(result)
    checks(result)
    year_diff(result)
    series(result)


render.guard(page)
