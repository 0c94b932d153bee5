"""统计: the indicator tables across reports, charts, failed checks, CSV/XLSX export.

The numbers are the ones extracted and checked at index time (`indexer.stats`), read from the
store; exports go through `indexer.stats.export`, the same writer the command line uses.
The charts put old- and new-template reports on one scale by mapping their application rows
onto common outcome groups (`OUTCOMES`).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from indexer.stats import CHECKS
from indexer.stats.export import write_csv, write_xlsx
from indexer.stats.indicators import INDICATORS
from search_app import render, state

TABLES = {
    "new.requests.": "申请情况（2019 年后模板）",
    "new.art20.": "第二十条主动公开（2019 年后模板）",
    "new.review.|new.litigation.": "行政复议和行政诉讼（2019 年后模板）",
    "old.proactive.|old.response.": "主动公开与回应解读（旧模板）",
    "old.requests.": "依申请公开（旧模板）",
    "old.review.|old.litigation.|old.complaints.": "复议、诉讼、举报投诉（旧模板）",
    "old.fees.|old.org.|old.staff.|old.meetings.": "机构、人员、经费、会议（旧模板）",
    "bytype.": "按信息类型的主动公开表",
}
TEMPLATES = {"new": "2019 年后模板", "old": "旧模板"}
RECEIVED = ("new.requests.new.total", "old.requests.received")

_W = "new.requests.withheld."
_U = "new.requests.unavailable."
_N = "new.requests.not_processed."
OUTCOMES: dict[str, tuple[str, ...]] = {
    "予以公开": ("new.requests.disclosed.total", "old.requests.replied.granted", "old.requests.replied.already_public"),
    "部分公开": ("new.requests.partial.total", "old.requests.replied.partly_granted"),
    "不予公开": tuple(f"{_W}{k}.total" for k in ("state_secret", "other_law", "security_stability", "third_party",
                                               "internal_affairs", "process_info", "enforcement_files", "admin_query"))
    + ("old.requests.replied.refused",),
    "无法提供": tuple(f"{_U}{k}.total" for k in ("not_held", "needs_creation", "unclear"))
    + ("old.requests.replied.not_this_agency", "old.requests.replied.not_exist"),
    "不予处理": tuple(f"{_N}{k}.total" for k in ("petition", "repeat", "publication", "mass_repeat", "confirm")),
    "其他处理": ("new.requests.other.total", "new.requests.other.overdue_correction.total",
                 "new.requests.other.overdue_fee.total", "new.requests.other.misc.total",
                 "old.requests.replied.asked_to_amend", "old.requests.replied.other_channel"),
}


@st.cache_data(show_spinner=False, max_entries=4)
def load(index_path: str, generation: int) -> tuple[list[dict], list[dict]]:
    """Every visible report's indicators (the `to_json` shape plus region) and its failed checks."""
    with state.store() as store:
        reports = store.reports()
        rows = [{"report_id": r["id"], "source": r["source"], "agency": r["agency"], "year": r["year"],
                 "template": r["template"], "region": r["region"],
                 "indicators": [dict(i) for i in store.indicators(r["id"])]} for r in reports]
        failures = [{**dict(f), "cells": json.loads(f["cells"])} for f in store.check_failures()]
    return rows, failures


def generation() -> int:
    with state.store() as store:
        return store.visible_gen()


def filter_widgets(rows: list[dict]) -> dict[str, list[str]]:
    years = sorted({str(r["year"]) for r in rows if r["year"]}, reverse=True)
    provinces = sorted({r["region"]["province"] for r in rows if r["region"]["province"]})
    cities = sorted({r["region"]["city"] for r in rows if r["region"]["city"]})
    templates = sorted({r["template"] for r in rows if r["template"]})
    choices = {"year": years, "province": provinces, "city": cities, "template": templates}
    for name, options in choices.items():
        state.init_widget(f"stats_{name}", [v for v in state.param_list(name) if v in options])
    state.init_widget("stats_agency", state.param("agency"))
    cols = st.columns(5)
    cols[0].multiselect("年份", years, key="stats_year", placeholder="全部")
    cols[1].multiselect("省份", provinces, key="stats_province", placeholder="全部")
    cols[2].multiselect("城市", cities, key="stats_city", placeholder="全部")
    cols[3].multiselect("模板", templates, key="stats_template", placeholder="全部",
                        format_func=lambda t: TEMPLATES.get(t, t))
    cols[4].text_input("机关名称包含", key="stats_agency")
    chosen = {name: list(st.session_state[f"stats_{name}"]) for name in choices}
    chosen["agency"] = [st.session_state["stats_agency"].strip()] if st.session_state["stats_agency"].strip() else []
    state.set_params(chosen)
    return chosen


def accepts(row: dict, chosen: dict[str, list[str]]) -> bool:
    region = row["region"]
    return ((not chosen["year"] or str(row["year"]) in chosen["year"])
            and (not chosen["province"] or region["province"] in chosen["province"])
            and (not chosen["city"] or region["city"] in chosen["city"])
            and (not chosen["template"] or row["template"] in chosen["template"])
            and (not chosen["agency"] or chosen["agency"][0] in (row["agency"] or "")))


def values(row: dict) -> dict[str, float | None]:
    return {i["key"]: i["value"] for i in row["indicators"]}


def requests_chart(rows: list[dict]) -> None:
    data = []
    for row in rows:
        found = values(row)
        received = next((found[k] for k in RECEIVED if found.get(k) is not None), None)
        if received is not None and row["year"]:
            data.append({"年份": str(row["year"]), "地区": row["region"]["city"] or row["region"]["province"] or "不详",
                         "申请数": received, "机关": row["agency"]})
    st.markdown("**每年收到的政府信息公开申请（按地区）**")
    if not data:
        st.caption("所选报告里没有读出申请数。")
        return
    chart = alt.Chart(pd.DataFrame(data)).mark_bar().encode(
        x=alt.X("年份:N", title="年份", axis=alt.Axis(labelAngle=0)), y=alt.Y("sum(申请数):Q", title="申请数（件）"),
        color=alt.Color("地区:N", title="地区"), tooltip=["年份", "地区", "机关", "申请数"])
    st.altair_chart(chart, width="stretch")


def outcomes_chart(rows: list[dict]) -> None:
    data = []
    for row in rows:
        found = values(row)
        for outcome, keys in OUTCOMES.items():
            total = sum(found[k] or 0 for k in keys if k in found)
            if total:
                data.append({"报告": render.report_label(row), "办理结果": outcome, "件数": total})
    st.markdown("**申请办理结果的构成**")
    if not data:
        st.caption("所选报告里没有读出办理结果（或全部为 0）。")
        return
    chart = alt.Chart(pd.DataFrame(data)).mark_bar().encode(
        y=alt.Y("报告:N", title=None, axis=alt.Axis(labelLimit=320)), x=alt.X("sum(件数):Q", stack="normalize", title="占比", axis=alt.Axis(format="%")),
        color=alt.Color("办理结果:N", sort=list(OUTCOMES), title="办理结果"), order=alt.Order("办理结果:N"),
        tooltip=["报告", "办理结果", "件数"])
    st.altair_chart(chart, width="stretch")


def short_check(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def failures_chart(rows: list[dict], failures: list[dict]) -> None:
    st.markdown("**未通过勾稽关系校验的报告**")
    ids = {r["report_id"] for r in rows}
    failing = [f for f in failures if f["report_id"] in ids]
    if not failing:
        st.caption(f"所选 {len(rows)} 份报告全部通过校验。")
        return
    per_check = pd.DataFrame([{"校验": f["check_key"], "报告": f["report_id"]} for f in failing]).drop_duplicates()
    counts = per_check.groupby("校验").size().reset_index(name="报告数")
    counts["说明"] = counts["校验"].map(lambda k: CHECKS.get(k, k))
    counts["校验项"] = counts["说明"].map(short_check)
    chart = alt.Chart(counts).mark_bar(color="#c92a2a").encode(
        y=alt.Y("校验项:N", title=None, sort="-x", axis=alt.Axis(labelLimit=320)), x=alt.X("报告数:Q", title="报告数", axis=alt.Axis(tickMinStep=1)),
        tooltip=["说明", "报告数"])
    st.altair_chart(chart, width="stretch")
    st.caption(f"{len({f['report_id'] for f in failing})} / {len(rows)} 份报告至少有一项未通过。")


def indicator_table(rows: list[dict], failures: list[dict]) -> None:
    present = {i["key"] for r in rows for i in r["indicators"]}
    tables = {prefix: label for prefix, label in TABLES.items()
              if any(k.startswith(p) for p in prefix.split("|") for k in present)}
    if not tables:
        st.info("所选报告里没有读出统计表。")
        return
    prefix = st.selectbox("统计表", list(tables), format_func=tables.get, key="stats_table")
    keys = [k for k in INDICATORS if k in present and any(k.startswith(p) for p in prefix.split("|"))]
    failed = {(f["report_id"], c["key"]) for f in failures for c in f["cells"]}
    names: dict[str, str] = {}
    for key in keys:
        label = INDICATORS[key].label
        names[key] = label if label not in names.values() else f"{label} [{key}]"
    table_rows, marks = [], []
    for row in rows:
        found = values(row)
        if not any(k in found for k in keys):
            continue
        table_rows.append({"机关": row["agency"], "年份": row["year"], **{names[k]: found.get(k) for k in keys}})
        marks.append([(row["report_id"], k) in failed for k in keys])
    frame = pd.DataFrame(table_rows)

    def style(_: pd.DataFrame) -> pd.DataFrame:
        styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
        for i, row_marks in enumerate(marks):
            for key, bad in zip(keys, row_marks):
                if bad:
                    styles.loc[i, names[key]] = "background-color: #ffc9c9"
        return styles

    numbers = list(names.values())
    styled = frame.style.apply(style, axis=None).format(lambda v: "" if pd.isna(v) else f"{v:g}", subset=numbers)
    st.dataframe(styled, hide_index=True, width="stretch")
    st.caption("红底的数字参与了未通过的校验。列名为报表中的行（/ 后为列）。")


def failure_list(rows: list[dict], failures: list[dict]) -> None:
    by_id = {r["report_id"]: r for r in rows}
    failing = [f for f in failures if f["report_id"] in by_id]
    st.subheader(f"未通过的校验（{len(failing)}）")
    if not failing:
        st.caption("没有。")
        return
    for failure in failing:
        report = by_id[failure["report_id"]]
        with st.container(border=True):
            st.page_link("views/report.py", label=render.md(render.report_label(report)), icon=":material/description:",
                         query_params={"id": failure["report_id"]})
            st.html(f'<div class="nb-fail">{render.esc(CHECKS.get(failure["check_key"], failure["check_key"]))}</div>'
                    f'<div>{render.esc(failure["message"])}</div>')


def export(rows: list[dict]) -> None:
    def make(writer: Callable[[list[dict], Path], None], suffix: str) -> Callable[[], bytes]:
        def run() -> bytes:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"stats{suffix}"
                writer(rows, path)
                return path.read_bytes()

        return run

    line = st.container(horizontal=True)
    line.download_button("导出 CSV", data=make(write_csv, ".csv"), file_name="nianbao-统计.csv", mime="text/csv",
                         on_click="ignore", icon=":material/download:", key="stats-csv")
    line.download_button("导出 XLSX", data=make(write_xlsx, ".xlsx"), file_name="nianbao-统计.xlsx",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         on_click="ignore", icon=":material/download:", key="stats-xlsx")


def page() -> None:
    st.title("统计")
    rows, failures = load(str(state.index_dir()), generation())
    if not rows:
        st.info(render.INDEX_HINT)
        return
    chosen = filter_widgets(rows)
    selected = [r for r in rows if accepts(r, chosen)]
    with_stats = [r for r in selected if r["indicators"]]
    st.caption(f"{len(selected)} 份报告，其中 {len(with_stats)} 份读出了统计表。")
    if not with_stats:
        st.info("所选报告里没有读出统计表。换个筛选条件试试。")
        return
    export(with_stats)
    left, right = st.columns(2, gap="large")
    with left:
        requests_chart(with_stats)
    with right:
        failures_chart(with_stats, failures)
    outcomes_chart(with_stats)
    st.subheader("指标表")
    indicator_table(with_stats, failures)
    failure_list(with_stats, failures)


render.guard(page)
