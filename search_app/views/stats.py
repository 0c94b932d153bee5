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
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from indexer.agencies import agency_key
from indexer.core.kinds import template_label
from indexer.findings.stored import completeness_rows, export_context, stats_rows
from indexer.stats import CHECKS
from indexer.stats.export import write_csv, write_xlsx
from indexer.stats.indicators import INDICATORS, OLD_SECTIONS
from search_app.completeness import completeness_summary
from search_app import exports, render, state

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
RECEIVED = ("new.requests.new.total", "old.requests.received")
# What one page draws at most: a browser can take 20,000 reports' numbers, not 20,000 bars or rows.
REGIONS_DRAWN = 12  # the rest are 其他地区
REPORTS_DRAWN = 40  # more reports: outcomes per year instead of per report
ROWS_DRAWN = 200  # indicator table rows; the export has every report
FAILURES_DRAWN = 100  # `nianbao check` lists them all

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


@dataclass(frozen=True)
class Statistics:
    """Every visible report's indicators and failed checks, as the page draws them (shared: read only)."""

    reports: list[dict]  # store.reports(): by year, then agency
    values: pd.DataFrame  # report id × indicator key (canonical order); NaN where absent or not read
    present: pd.DataFrame  # the same shape: whether the report has the indicator, read or not
    failures: pd.DataFrame  # report_id, check_key, message; the cells are read for the rows shown


@st.cache_resource(show_spinner=False, max_entries=2)
def load(index_path: str, generation: int) -> Statistics:
    """One read of the store per generation. Kept as it is (cache_resource): cache_data pickled
    a copy on every rerun, and the former list of dicts took 6.7 GB and a minute at 20,000 reports."""
    with state.store() as store:
        reports = store.reports()
        triples = list(store.indicator_values())
        failures = pd.DataFrame(store.failed_checks(), columns=["report_id", "check_key", "message"])
    ids = [r["id"] for r in reports]
    owners, keys, found = zip(*triples) if triples else ((), (), ())
    rows = pd.Index(ids).get_indexer(owners)
    columns, met = pd.factorize(pd.Series(keys, dtype=object))
    values = np.full((len(ids), len(met)), np.nan)
    values[rows, columns] = np.array(found, dtype=np.float64)  # None (not read) becomes NaN
    present = np.zeros(values.shape, dtype=bool)
    present[rows, columns] = True
    order = {key: k for k, key in enumerate(INDICATORS)}
    picked = sorted(range(len(met)), key=lambda c: (order.get(met[c], len(order)), c))  # canonical, then as met
    keys = [met[c] for c in picked]
    return Statistics(reports, pd.DataFrame(values[:, picked], index=ids, columns=keys),
                      pd.DataFrame(present[:, picked], index=ids, columns=keys), failures)


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
                        format_func=template_label)
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


def _columns(frame: pd.DataFrame, keys: tuple[str, ...] | list[str]) -> list[str]:
    return [k for k in keys if k in frame.columns]


def requests_chart(reports: list[dict], stats: Statistics) -> None:
    st.markdown("**每年收到的政府信息公开申请（按地区）**")
    keys = _columns(stats.values, RECEIVED)
    ids = [r["id"] for r in reports]
    received = stats.values.loc[ids, keys].bfill(axis=1).iloc[:, 0] if keys else pd.Series(np.nan, index=ids)
    data = pd.DataFrame({"年份": [str(r["year"]) if r["year"] else None for r in reports],
                         "地区": [r["region"]["city"] or r["region"]["province"] or "不详" for r in reports],
                         "申请数": received.to_numpy(), "报告数": 1}).dropna()
    if data.empty:
        st.caption("所选报告里没有读出申请数。")
        return
    if not data["申请数"].any():
        st.caption("所选报告收到的申请均为 0。")
        return
    top = data.groupby("地区")["申请数"].sum().nlargest(REGIONS_DRAWN).index
    data["地区"] = data["地区"].where(data["地区"].isin(top), "其他地区")
    data = data.groupby(["年份", "地区"], as_index=False)[["申请数", "报告数"]].sum()
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X("年份:N", title="年份", axis=alt.Axis(labelAngle=0)), y=alt.Y("sum(申请数):Q", title="申请数（件）"),
        color=alt.Color("地区:N", title="地区"), tooltip=["年份", "地区", "申请数", "报告数"])
    st.altair_chart(chart, width="stretch")


def outcomes_chart(reports: list[dict], stats: Statistics) -> None:
    per_report = len(reports) <= REPORTS_DRAWN
    st.markdown("**申请办理结果的构成**" + ("" if per_report else "（按年份汇总）"))
    sub = stats.values.loc[[r["id"] for r in reports]]
    totals = pd.DataFrame({outcome: sub[_columns(sub, keys)].sum(axis=1) for outcome, keys in OUTCOMES.items()})
    totals["报告"] = [render.report_label(r) if per_report else str(r["year"] or "年份不详") for r in reports]
    data = totals.groupby("报告", as_index=False).sum().melt(id_vars="报告", var_name="办理结果", value_name="件数")
    data = data[data["件数"] > 0].assign(次序=lambda d: d["办理结果"].map({k: i for i, k in enumerate(OUTCOMES)}))
    if data.empty:
        st.caption("所选报告里没有读出办理结果（或全部为 0）。")
        return
    chart = alt.Chart(data).mark_bar().encode(
        y=alt.Y("报告:N", title=None, axis=alt.Axis(labelLimit=320)), x=alt.X("sum(件数):Q", stack="normalize", title="占比", axis=alt.Axis(format="%")),
        color=alt.Color("办理结果:N", sort=list(OUTCOMES), title="办理结果"), order=alt.Order("次序:Q"),
        tooltip=["报告", "办理结果", "件数"])
    st.altair_chart(chart, width="stretch")


def short_check(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def failures_chart(reports: list[dict], failing: pd.DataFrame) -> None:
    st.markdown("**未通过勾稽关系校验的报告**")
    if failing.empty:
        st.caption(f"所选 {len(reports)} 份报告全部通过校验。")
        return
    counts = failing.drop_duplicates(["check_key", "report_id"]).groupby("check_key").size().reset_index(name="报告数")
    counts["说明"] = counts["check_key"].map(lambda k: CHECKS.get(k, k))
    counts["校验项"] = counts["说明"].map(short_check)
    chart = alt.Chart(counts).mark_bar(color="#c92a2a").encode(
        y=alt.Y("校验项:N", title=None, sort="-x", axis=alt.Axis(labelLimit=320)), x=alt.X("报告数:Q", title="报告数", axis=alt.Axis(tickMinStep=1)),
        tooltip=["说明", "报告数"])
    st.altair_chart(chart, width="stretch")
    st.caption(f"{failing['report_id'].nunique()} / {len(reports)} 份报告至少有一项未通过。")


def _failed_cells(report_ids: list[str]) -> set[tuple[str, str]]:
    """(report id, indicator key) of every cell in a failed check of these reports."""
    with state.store() as store:
        return {(report_id, cell["key"]) for report_id in report_ids
                for failure in store.check_failures(report_id) for cell in json.loads(failure["cells"])}


def indicator_table(reports: list[dict], stats: Statistics, failing: pd.DataFrame) -> None:
    ids = [r["id"] for r in reports]
    present = stats.present.loc[ids]
    held = [k for k in present.columns if present[k].any()]
    tables = {prefix: label for prefix, label in TABLES.items()
              if any(k.startswith(p) for p in prefix.split("|") for k in held)}
    if not tables:
        st.info("所选报告里没有读出统计表。")
        return
    prefix = st.selectbox("统计表", list(tables), format_func=tables.get, key="stats_table")
    keys = [k for k in INDICATORS if k in held and any(k.startswith(p) for p in prefix.split("|"))]
    holding = [r for r, has in zip(reports, present[keys].any(axis=1)) if has]
    failing_ids = set(failing["report_id"])
    by_agency = st.toggle("按机关分组：同一机关的各年相邻（机关名称的常见写法视为同一机关）", key="stats_by_agency")
    if by_agency:  # an agency's years together, oldest first; agencies whose name is unknown last
        holding.sort(key=lambda r: (agency_key(r) is None, agency_key(r) or "", r["year"] or 0))
    else:
        holding.sort(key=lambda r: r["id"] not in failing_ids)  # failed reports first (stable: by year, agency)
    shown = holding[:ROWS_DRAWN]
    shown_ids = [r["id"] for r in shown]
    failed = _failed_cells(sorted(set(shown_ids) & failing_ids))
    failed_keys = {key for _, key in failed}
    keys.sort(key=lambda k: k not in failed_keys)  # red cells in the first columns, never off screen
    names = column_labels(keys)
    frame = stats.values.loc[shown_ids, keys].rename(columns=names).reset_index(drop=True)
    frame.insert(0, "年份", [str(r["year"]) if r["year"] else "未识别" for r in shown])
    frame.insert(0, "机关", [r["agency"] or "未识别" for r in shown])
    marks = np.array([[(report_id, k) in failed for k in keys] for report_id in shown_ids], dtype=bool)
    numbers = list(names.values())

    def style(_: pd.DataFrame) -> pd.DataFrame:
        styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
        styles[numbers] = np.where(marks.reshape(len(shown), len(keys)), "background-color: #ffc9c9", "")
        return styles

    styled = frame.style.apply(style, axis=None).format(lambda v: "" if pd.isna(v) else f"{v:g}", subset=numbers)
    st.dataframe(styled, hide_index=True, width="stretch")
    more = f"这里列出前 {len(shown)} 份（共 {len(holding)} 份），导出的表格包含全部。" if len(holding) > len(shown) else ""
    first = "未通过校验的报告排在最前，红底的数字参与了未通过的校验，它们所在的列排在最前。" if failed else ""
    grouped = "同一机关的各年相邻；历年变化和跨年核对见「机关」页。" if by_agency else first
    st.caption(more + grouped + "列名为报表中的行（/ 后为列）。")


def column_labels(keys: list[str]) -> dict[str, str]:
    """Each indicator's printed label; a label two rows share (（二）被依法纠错数 under 行政复议 and
    行政诉讼) gets its table section in front, never the internal key."""
    labels = {key: INDICATORS[key].label if key in INDICATORS else key for key in keys}
    counts = pd.Series(list(labels.values())).value_counts()
    out = {}
    for key, label in labels.items():
        if counts[label] > 1:
            section = OLD_SECTIONS.get(key.split(".")[1], ("",))[0] if key.startswith("old.") else ""
            label = f"{section} / {label}" if section else f"{label}（{list(labels).index(key) + 1}）"
        out[key] = label
    return out


def failure_list(reports: list[dict], failing: pd.DataFrame) -> None:
    by_id = {r["id"]: r for r in reports}
    st.subheader(f"未通过的校验（{len(failing)}）")
    if failing.empty:
        st.caption("没有。")
        return
    for report_id, check_key, message in failing.head(FAILURES_DRAWN).itertuples(index=False):
        with st.container(border=True):
            st.page_link("views/report.py", label=render.md(render.report_label(by_id[report_id])),
                         icon=":material/description:", query_params={"id": report_id})
            st.html(f'<div class="nb-fail">{render.esc(CHECKS.get(check_key, check_key))}</div>'
                    f'<div>{render.esc(message)}</div>')
    if len(failing) > FAILURES_DRAWN:
        st.caption(f"这里列出前 {FAILURES_DRAWN} 项；导出的表格和命令行列出全部。")


def conditions(chosen: dict[str, list[str]]) -> str:
    """The page's filters in words, for the export's 筛选条件 and its file name."""
    names = {"year": "年份", "province": "省份", "city": "城市", "template": "模板", "agency": "机关包含"}
    shown = {"template": template_label}
    return "；".join(f"{names[k]} " + "、".join(shown.get(k, str)(v) for v in values)
                    for k, values in chosen.items() if values)


def export(reports: list[dict], chosen: dict[str, list[str]]) -> None:
    ids = {r["id"] for r in reports}
    described = conditions(chosen)

    def make(writer: Callable[..., None], suffix: str) -> Callable[[], bytes]:
        def run() -> bytes:
            with state.store() as store:
                rows = list(stats_rows(store, ids=ids))
                context = export_context(store, len(rows), described)
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"stats{suffix}"
                writer(rows, path, **context)
                return path.read_bytes()

        return run

    name = exports.file_name("统计指标", len(reports), described)
    line = st.container(horizontal=True)
    line.download_button("导出 CSV", data=make(write_csv, ".csv"), file_name=f"{name}.csv", mime="text/csv",
                         on_click="ignore", icon=":material/download:", key="stats-csv")
    line.download_button("导出 XLSX", data=make(write_xlsx, ".xlsx"), file_name=f"{name}.xlsx",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         on_click="ignore", icon=":material/download:", key="stats-xlsx")


def page() -> None:
    st.title("统计")
    stats = load(str(state.index_dir()), generation())
    if not stats.reports:
        st.info(render.INDEX_HINT)
        return
    chosen = filter_widgets(stats.reports)
    selected = [r for r in stats.reports if accepts(r, chosen)]
    has_stats = stats.present.loc[[r["id"] for r in selected]].any(axis=1)
    with_stats = [r for r, has in zip(selected, has_stats) if has]
    st.caption(f"{len(selected)} 份报告，其中 {len(with_stats)} 份读出了统计表。")
    if not with_stats:
        st.info("所选报告里没有读出统计表。换个筛选条件试试。")
        return
    export(with_stats, chosen)
    failing = stats.failures[stats.failures["report_id"].isin([r["id"] for r in with_stats])]
    left, right = st.columns(2, gap="large")
    with left:
        requests_chart(with_stats, stats)
    with right:
        failures_chart(with_stats, failing)
    outcomes_chart(with_stats, stats)
    st.subheader("指标表")
    indicator_table(with_stats, stats, failing)
    failure_list(with_stats, failing)
    completeness(selected)


def completeness(selected: list[dict]) -> None:
    """What the selected reports' format requires and they lack; read from every report's text,
    so computed when asked for."""
    st.subheader("完整性")
    if not st.toggle(f"检查这 {len(selected)} 份报告是否具备所属格式要求的部分、表格和说明", key="stats_completeness"):
        return
    ids = {r["id"] for r in selected}
    with state.store() as store:
        rows = [row for row in completeness_rows(store) if row["report_id"] in ids]
    completeness_summary(rows)


render.guard(page)
