"""比较: one section kind (default 存在的主要问题及改进情况) of several reports, side by side.

The pairing of paragraphs with their close counterparts in the other reports comes from the
library (`indexer.semantic`); this page only lays the columns out, marks the paragraphs
that have a counterpart and shows the wording they share.
"""

from __future__ import annotations

import streamlit as st

from indexer.fulltext import SearchFilters
from indexer.parse.sections import SECTION_KINDS
from search_app import render, state

DEFAULT_KIND = "problems"
MAX_COLUMNS = 4
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
            reports.append({"report_id": report_id, "source": report["source"] if report else "",
                            "agency": report["agency"] if report else "", "year": report["year"] if report else None,
                            "text": "\n".join(texts),
                            "paragraphs": [{"text": p["text"], "counterparts": []} for p in paragraphs]})
    return {"section_kind": kind, "reports": reports}


def paragraph_html(paragraph: dict, names: dict[str, str]) -> str:
    counterparts = paragraph.get("counterparts") or []
    if not counterparts:
        return f'<p class="nb-para">{render.esc(paragraph["text"])}</p>'
    best = max(counterparts, key=lambda c: c["score"])
    spans = render.shared_spans(paragraph["text"], best["text"])
    notes = "；".join(f"{render.esc(names.get(c['report_id'], c['report_id']))}（相似度 {c['score']:.2f}）"
                     for c in sorted(counterparts, key=lambda c: -c["score"]))
    return (f'<div class="nb-para nb-shared">{render.highlight(paragraph["text"], spans, "nb-common")}'
            f'<div class="nb-counterpart">相近段落：{notes}</div></div>')


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
    if not state.vectors_available("compare"):
        st.caption("这个索引还没有段落向量，所以只并排显示原文，不标出相近段落；可在「语料」页计算向量。")
    else:
        st.caption("橙色边框的段落在其他报告里有相近段落，橙底文字是双方共有的措辞。")
    names = {r["report_id"]: render.report_label(r) for r in result["reports"]}
    for column, report in zip(st.columns(len(result["reports"]), gap="medium"), result["reports"]):
        with column:
            body = "".join(paragraph_html(p, names) for p in report["paragraphs"]) or "<p>（这一节没有正文）</p>"
            st.html(f'<div class="nb-column-head">{render.esc(names[report["report_id"]])}</div>'
                    f'<div class="nb-meta">{render.esc(report["source"])}</div><div class="nb-text">{body}</div>')
            st.page_link("views/report.py", label="打开报告", icon=":material/description:",
                         query_params={"id": report["report_id"]})


render.guard(page)
