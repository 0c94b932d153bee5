"""比较: one section kind (default 存在的主要问题及改进情况) of up to 12 reports, side by side;
their statistics aligned by indicator; both exportable.

The pairing of paragraphs with their close counterparts in the other reports comes from the
library (`indexer.semantic.compare`, whose 相近 cut a test on real paraphrases sets); this
page only lays the columns out (four to a row), marks the paragraphs that have a
counterpart and shows the wording they share.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from indexer.core.filters import SearchFilters
from indexer.core.kinds import SECTION_KINDS
from indexer.core.shapes import report_summary
from indexer.stats.indicators import INDICATORS
from search_app import coverage, exports, render, state, tables

DEFAULT_KIND = "problems"
MAX_COLUMNS = 12
PER_ROW = 4  # columns side by side; more reports continue on the next row
DEFAULT_COLUMNS = 3


def candidates(kind: str) -> list[dict]:
    """Reports that have a section of `kind`, newest first."""
    with state.store() as store:
        reports = store.reports()
        bounds = store.section_bounds()
    return [r for r in reports if any(k == kind for _, _, k in bounds.get(r["id"], []))]


def default_ids(reports: list[dict]) -> list[str]:
    """From the URL: the reports named by `ids`, topped up from those passing its filters.

    Arriving from one report's page names one report; the others keep it company.
    """
    known = {r["id"] for r in reports}
    found, unknown = state.resolve_ids(state.param_list("ids"))
    named = [i for i in found if i in known][:MAX_COLUMNS]
    missing = unknown + [i for i in found if i not in known]
    if missing:
        st.warning(f"链接里的报告「{'、'.join(render.md(i) for i in missing)}」不在索引里或没有这一节，已略去。")
    if len(named) >= 2:
        return named
    filters = SearchFilters(year=state.year_param() or None, province=state.param("province") or None,
                            city=state.param("city") or None, agency=state.param("agency") or None)
    others = [r["id"] for r in reports if filters.accepts(r) and r["id"] not in named]
    return named + others[:DEFAULT_COLUMNS - len(named)]


def comparison(ids: list[str], kind: str) -> dict:
    """The library's comparison when vectors exist; otherwise the sections alone, unpaired."""
    if state.vectors_available("compare"):
        from indexer.semantic.compare import compare

        with state.using_engine() as engine:
            return compare(engine.fulltext.store, ids, kind)
    with state.store() as store:
        reports = []
        for report_id in ids:
            report = store.report(report_id)
            texts = [s["text"] for s in report["sections"] if s["kind"] == kind] if report else []
            paragraphs = [dict(p) for p in store.paragraphs([report_id]) if p["section_kind"] == kind]
            summary = report_summary(report) if report else {"report_id": report_id, "source": "", "agency": "",
                                                             "year": None}
            reports.append({**summary, "text": "\n".join(texts),
                            "paragraphs": [{"text": p["text"], "counterparts": []} for p in paragraphs]})
    return {"section_kind": kind, "reports": reports}


def paragraph_html(paragraph: dict, names: dict[str, str]) -> str:
    counterparts = paragraph.get("counterparts") or []
    if not counterparts:
        return f'<p class="nb-para">{render.esc(paragraph["text"])}</p>'
    best = max(counterparts, key=lambda c: c["score"])
    spans = render.shared_spans(paragraph["text"], best["text"])
    notes = "；".join(render.esc(names.get(c["report_id"], c["report_id"]))
                     for c in sorted(counterparts, key=lambda c: -c["score"]))
    return (f'<div class="nb-para nb-shared">{render.highlight(paragraph["text"], spans, "nb-common")}'
            f'<div class="nb-counterpart">相近段落：{notes}</div></div>')


def column_names(ids: list[str], by_id: dict[str, dict]) -> dict[str, str]:
    """A column title per report: agency · year, with the id's start where two would read the same."""
    labels = {i: render.report_label(by_id[i]) for i in ids}
    repeated = {label for label in labels.values() if list(labels.values()).count(label) > 1}
    return {i: f"{label} ({i[:6]})" if label in repeated else label for i, label in labels.items()}


def statistics(ids: list[str], names: dict[str, str]) -> pd.DataFrame:
    """The reports' indicators aligned: one row per indicator (template order), one column per report."""
    values: list[dict[str, object]] = []
    failed: list[set[str]] = []
    with state.store() as store:
        for report_id in ids:
            values.append({row["key"]: row["value"] for row in store.indicators(report_id)})
            failed.append({cell["key"] for f in store.check_failures(report_id) for cell in json.loads(f["cells"])})
    held = set().union(*values)
    keys = [k for k in INDICATORS if k in held] + sorted(held - set(INDICATORS))
    columns = [names.get(i, i) for i in ids]
    if not keys:
        st.info("所选报告里没有读出统计表。")
        return pd.DataFrame()
    st.caption("每行一个指标，每列一份报告；空白：报告没有这一格；红底：参与了未通过的勾稽关系校验。")
    st.html(tables.aligned_html(keys, columns, values, failed))
    return pd.DataFrame([[INDICATORS[k].label if k in INDICATORS else k, INDICATORS[k].unit if k in INDICATORS else "",
                          *(v.get(k) for v in values)] for k in keys], columns=["指标", "单位", *columns])


def sections_frame(result: dict, names: dict[str, str]) -> pd.DataFrame:
    """The compared sections as rows for export: report, paragraph, and its 相近 paragraphs elsewhere."""
    return pd.DataFrame([{"报告": names[r["report_id"]], "报告ID": r["report_id"], "文件": r["source"], "段落": p["text"],
                          "相近段落所在报告": "、".join(names.get(c["report_id"], c["report_id"]) for c in p.get("counterparts") or [])}
                         for r in result["reports"] for p in r["paragraphs"]],
                        columns=["报告", "报告ID", "文件", "段落", "相近段落所在报告"])


def export(sections: pd.DataFrame, stats: pd.DataFrame, kind: str, count: int) -> None:
    described = f"章节 {SECTION_KINDS[kind]}；报告 {count} 份"
    name = exports.file_name(f"比较-{SECTION_KINDS[kind]}", count)
    row = st.container(horizontal=True)
    row.download_button("导出章节 CSV", data=lambda: exports.csv_bytes(sections, count, described),
                        file_name=f"{name}-章节.csv", mime="text/csv", key="compare-csv", on_click="ignore",
                        icon=":material/download:")
    if not stats.empty:
        row.download_button("导出统计 CSV", data=lambda: exports.csv_bytes(stats, count, described),
                            file_name=f"{name}-统计.csv", mime="text/csv", key="compare-stats-csv", on_click="ignore",
                            icon=":material/download:")
    row.download_button("导出 XLSX（章节和统计）",
                        data=lambda: exports.xlsx_bytes({"章节": sections, "统计": stats}, count, described),
                        file_name=f"{name}.xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        key="compare-xlsx", on_click="ignore", icon=":material/download:")


def page() -> None:
    st.title("比较")
    kind_param = state.param("kind", DEFAULT_KIND)
    state.init_widget("compare_kind", kind_param if kind_param in SECTION_KINDS else DEFAULT_KIND)
    kind = st.selectbox("章节", list(SECTION_KINDS), key="compare_kind", format_func=SECTION_KINDS.get)
    reports = candidates(kind)
    if not reports:
        st.info(f"索引里没有报告含有「{SECTION_KINDS[kind]}」一节。")
        return
    labels = {r["id"]: f"{render.report_label(r)} · {render.region_label(r['region'])}" for r in reports}
    state.init_widget("compare_ids", default_ids(reports))
    st.session_state["compare_ids"] = [i for i in st.session_state["compare_ids"] if i in labels]
    ids = st.multiselect(f"报告（最多 {MAX_COLUMNS} 份）", list(labels), key="compare_ids",
                         max_selections=MAX_COLUMNS, format_func=labels.get, placeholder="选择要并排比较的报告")
    state.set_params({"kind": kind if kind != DEFAULT_KIND else None, "ids": list(ids)})
    if len(ids) < 2:
        st.info("请至少选择两份报告。")
        return
    result = comparison(list(ids), kind)
    names = {r["report_id"]: render.report_label(r) for r in result["reports"]}
    text_tab, stats_tab = st.tabs([f"「{SECTION_KINDS[kind]}」原文", "统计数据"])
    with text_tab:
        if not state.vectors_available("compare"):
            st.caption("这个索引还没有段落向量，所以只并排显示原文，不标出相近段落；可在「语料」页计算向量。")
        else:
            covered = coverage.coverage()
            lacking = [names.get(i, i) for i in ids if covered is not None and i in covered.missing]
            if lacking:
                st.warning(f"{'、'.join(render.md(n) for n in lacking)} 还没有段落向量，它的段落不参与相近段落的标注。")
            st.caption("橙色边框的段落在其他报告里有意思相近的段落（同一问题换了说法，或照抄），橙底文字是双方共有的措辞。"
                       "只说明措辞或意思接近、同属一类的段落不标。")
        reports_shown = result["reports"]
        for start in range(0, len(reports_shown), PER_ROW):
            row = reports_shown[start:start + PER_ROW]
            for column, report in zip(st.columns(min(PER_ROW, len(reports_shown)), gap="medium"), row):
                with column:
                    body = "".join(paragraph_html(p, names) for p in report["paragraphs"]) or "<p>（这一节没有正文）</p>"
                    st.html(f'<div class="nb-column-head">{render.esc(names[report["report_id"]])}</div>'
                            f'<div class="nb-meta">{render.esc(report["source"])}</div><div class="nb-text">{body}</div>')
                    st.page_link("views/report.py", label="打开报告", icon=":material/description:",
                                 query_params={"id": report["report_id"]})
    with stats_tab:
        stats = statistics(list(ids), column_names(list(ids), {r["id"]: r for r in reports}))
    export(sections_frame(result, names), stats, kind, len(ids))


render.guard(page)
