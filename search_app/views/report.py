"""报告: one report's metadata, sections (search terms marked), statistics, neighbours, original file.

Arrives with `?id=<report id>` and, from a search, `&q=<query>`; the query's terms are then
marked in the sections, by the same normalised-substring rule exact search uses. From a meaning
search (semantic or hybrid), the paragraphs holding the passages it found are marked too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from indexer.fulltext import QueryError
from indexer.normalize import normalize
from search_app import render, state

MIME = {".pdf": "application/pdf", ".txt": "text/plain", ".html": "text/html", ".htm": "text/html",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
SIMILAR_SHOWN = 5


def choose_report() -> str | None:
    """Without an id in the URL, let people pick a report from the index."""
    with state.store() as store:
        reports = store.reports()
    if not reports:
        st.info(render.INDEX_HINT)
        return None
    labels = {r["id"]: f"{render.report_label(r)} · {r['source']}" for r in reports}
    chosen = st.selectbox("选择报告", [None, *labels], format_func=lambda i: "请选择……" if i is None else labels[i])
    if chosen:
        st.query_params["id"] = chosen
    return chosen


def metadata(report: dict) -> None:
    st.title(render.md(report["title"] or render.report_label(report)))
    region = render.region_label(report["region"])
    template = render.template_label(report["template"])
    st.html(f'<div class="nb-meta">机关：<b>{render.esc(report["agency"] or "不详")}</b> · 年份：'
            f'{render.esc(report["year"] or "不详")} · 地区：{render.esc(region)} · {render.esc(template)} · '
            f'文件：{render.esc(report["source"])} · ID：<code>{render.esc(report["id"])}</code></div>')


def found_passages(report_id: str, query: str, mode: str) -> list[str]:
    """The passages of this report that the meaning search it was opened from showed."""
    if not query or mode not in ("semantic", "hybrid") or not state.vectors_available("search"):
        return []
    try:
        with state.using_engine() as engine:
            found = engine.search(query, state.url_filters(), mode=mode, limit=state.SEMANTIC_LIMIT)
    except QueryError:
        return []
    return [p["text"] for p in found["results"] if p["report_id"] == report_id]


def section_html(paragraphs: list[dict], terms: list[str], passages: list[str]) -> tuple[str, int, int]:
    """Repaired paragraphs (lines joined across page breaks) and table rows, with terms marked and
    the paragraphs holding one of `passages` set apart; how many terms and passages were found."""
    parts: list[str] = []
    hits = found = 0
    table: list[str] = []
    passages = [normalize(p) for p in passages]
    for paragraph in paragraphs:
        spans = render.term_spans(paragraph["text"], terms)
        hits += len(spans)
        if paragraph["kind"] == "table":
            cells = [c.strip() for c in paragraph["text"].replace("|", "\t").split("\t") if c.strip()]
            table.append("<tr>" + "".join(f"<td>{render.highlight(c, render.term_spans(c, terms))}</td>"
                                          for c in cells) + "</tr>")
            continue
        if table:
            parts.append(f'<table class="nb-table">{"".join(table)}</table>')
            table = []
        holds = bool(passages) and any(p in normalize(paragraph["text"]) for p in passages)
        found += bool(holds)
        css = "nb-para nb-found" if holds else "nb-para"
        parts.append(f'<p class="{css}">{render.highlight(paragraph["text"], spans)}</p>')
    if table:
        parts.append(f'<table class="nb-table">{"".join(table)}</table>')
    return f'<div class="nb-text">{"".join(parts)}</div>', hits, found


def sections(report: dict, terms: list[str], passages: list[str]) -> None:
    st.subheader("章节")
    if not report["sections"]:
        st.info("这份报告没有识别出章节。")
    with state.store() as store:
        rows = [dict(p) for kind in ("prose", "table") for p in store.paragraphs([report["id"]], kind=kind)]
    by_section: dict[int, list[dict]] = {}
    for row in sorted(rows, key=lambda p: (p["section_ord"], p["ord"])):
        by_section.setdefault(row["section_ord"], []).append(row)
    for number, section in enumerate(report["sections"]):
        body, hits, found = section_html(by_section.get(number, []), terms, passages)
        heading = section["heading"] or "（前言）"
        label = render.kind_label(section["kind"])
        title = render.md(heading if label in heading else f"{heading} · {label}")
        if hits:
            title += f" · 命中 {hits} 处"
        if found:
            title += f" · 相近段落 {found} 段"
        with st.expander(title, expanded=bool(hits or found) or not (terms or passages)):
            st.html(body)


def statistics(report_id: str) -> None:
    st.subheader("统计数据")
    with state.store() as store:
        indicators = store.indicators(report_id)
        failures = store.check_failures(report_id)
    if not indicators:
        st.info("这份报告里没有读出统计表。")
        return
    failed_keys: dict[str, list[str]] = {}
    for failure in failures:
        for key in _cell_keys(failure["cells"]):
            failed_keys.setdefault(key, []).append(failure["message"])
    if failures:
        st.warning(f"{len(failures)} 项勾稽关系校验未通过（表中标 ⚠ 的数字）：\n\n"
                   + "\n".join(f"- {render.md(f['message'])}" for f in failures))
    else:
        st.success("统计表通过了全部勾稽关系校验。")
    frame = pd.DataFrame([{"校验": "⚠" if row["key"] in failed_keys else "", "指标": row["label"],
                           "数值": row["value"], "单位": row["unit"] or "", "备注": row["note"] or ""}
                          for row in indicators])
    st.dataframe(frame, hide_index=True, width="stretch")


def _cell_keys(cells: str) -> list[str]:
    """Indicator keys named by a failed check's `cells` (JSON: a list of keys or of {key: value})."""
    try:
        data = json.loads(cells)
    except (TypeError, ValueError):
        return []
    if isinstance(data, dict):
        return [str(k) for k in data]
    keys: list[str] = []
    for item in data if isinstance(data, list) else []:
        if isinstance(item, str):
            keys.append(item)
        elif isinstance(item, dict):
            keys.append(str(item.get("key") or next(iter(item), "")))
    return keys


def similar(report_id: str) -> None:
    st.subheader("最相似的报告")
    if not state.vectors_available():
        st.info("相似报告需要段落向量，这个索引还没有。可在「相似」或「语料」页计算向量。")
        return
    if not state.vectors_available("similar"):
        st.info("这个安装还没有相似报告功能（indexer.semantic.similar）。")
        return
    from indexer.semantic import similar as similar_lib

    with state.using_engine() as engine:
        found = similar_lib.similar(engine.fulltext.store, report_id, limit=SIMILAR_SHOWN)
    if not found["results"]:
        st.info("没有找到相似的报告。")
    for result in found["results"]:
        pairs = "、".join(f"{render.kind_label(p['section_kind'])}↔{render.kind_label(p['other_section_kind'])}"
                         f"（{p['score']:.2f}）" for p in result["section_pairs"][:3])
        st.page_link("views/report.py", label=f"{render.md(render.report_label(result))} · 相似度 {result['score']:.3f}",
                     query_params={"id": result["report_id"]}, icon=":material/description:")
        if pairs:
            st.caption(f"最相近的章节：{pairs}")


def original(report: dict) -> None:
    """The original file, if a file the index recorded for this report still exists."""
    for source in report.get("sources", []):
        path = Path(source)
        if path.is_file():
            st.download_button("下载原始文件", data=path.read_bytes(), file_name=path.name,
                               mime=MIME.get(path.suffix.lower(), "application/octet-stream"),
                               icon=":material/download:", on_click="ignore")
            return
    st.caption("原始文件已不在记录的位置。")


def page() -> None:
    report_id = state.param("id") or choose_report()
    if not report_id:
        return
    with state.store() as store:
        report = store.report(report_id)
    if report is None:
        st.error(f"没有 ID 为「{render.md(report_id)}」的报告。请从检索结果或报告列表进入。")
        return
    query, mode = state.param("q"), state.param("mode", "exact")
    metadata(report)
    links = st.container(horizontal=True, vertical_alignment="center")
    if query:
        back = state.search_params()  # the search's filters, sort and page came along with the link
        if back.get("mode") == "exact":
            del back["mode"]
        links.page_link("views/search.py", label="返回检索结果", icon=":material/arrow_back:", query_params=back)
    links.page_link("views/compare.py", label="比较存在的问题", icon=":material/view_column:",
                    query_params={"kind": "problems", "ids": report["id"]})
    links.page_link("views/similar.py", label="查找相似报告", icon=":material/join_inner:",
                    query_params={"id": report["id"]})
    with links:
        original(report)
    sections(report, render.highlight_terms(query, mode), found_passages(report["id"], query, mode))
    statistics(report["id"])
    similar(report["id"])


render.guard(page)
