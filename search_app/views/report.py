"""报告: one report's metadata, sections (search terms marked), statistics, neighbours, original file;
without an id, the list of every report, sortable and filterable.

Arrives with `?id=<report id>` and, from a search, `&q=<query>`; the query's terms are then
marked in the sections, by the same normalised-substring rule exact search uses. From a meaning
search (semantic or hybrid), the paragraphs holding the passages it found are marked too.
Statistics are drawn as the template prints its tables (`indexer.stats.layout`), failed checks
listed first and marked in the cells they name.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import streamlit as st

from indexer.core.kinds import edition_label
from indexer.core.querylang import QueryError
from indexer.normalize import normalize
from indexer.agencies import agency_key
from indexer.fields import FieldError, edit_report
from indexer.findings.stored import report_completeness as stored_completeness
from indexer.pages import PageImageError, page_image
from indexer.stats.layout import grids
from indexer.store import Store
from search_app.completeness import report_completeness
from search_app import catalogue, coverage, provenance, render, state, tables
from search_app.scores import SCALE_NOTE, scale_text

log = logging.getLogger("nianbao.app")

MIME = {".pdf": "application/pdf", ".txt": "text/plain", ".html": "text/html", ".htm": "text/html",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
SIMILAR_SHOWN = 5


LIST_HEIGHT = 600  # pixels: about 16 rows, then the list scrolls
FILTERS = ("机关", "年份", "省份", "城市", "模板", "版本", "存在问题一节")


def report_list() -> None:
    """Every report, filterable by its metadata, sortable by any column, each row opening its page."""
    st.title("报告")
    frame = catalogue.rows()
    if frame.empty:
        st.info(render.INDEX_HINT)
        return
    cols = st.columns(4)
    agency = cols[0].text_input("机关名称包含", key="reports_agency")
    chosen = {}
    for n, name in enumerate(FILTERS[1:]):
        options = sorted(frame[name].unique(), key=lambda v: (v == catalogue.UNKNOWN, v), reverse=name == "年份")
        chosen[name] = cols[(n + 1) % 4].multiselect(name, options, key=f"reports_{name}", placeholder="全部")
    failing_only = cols[3].toggle("只看未通过校验的", key="reports_failing")
    shown = frame
    if agency.strip():
        shown = shown[shown["机关"].str.contains(agency.strip(), regex=False)]
    for name, values in chosen.items():
        if values:
            shown = shown[shown[name].isin(values)]
    if failing_only:
        shown = shown[shown["未通过校验"] > 0]
    kept = provenance.status_filter()
    if kept is not None:
        shown = shown[shown["id"].isin(kept)]
    unknown = {name: int((frame[name] == catalogue.UNKNOWN).sum()) for name in ("机关", "年份", "省份", "城市", "区县", "版本")}
    counted = "，".join(f"{name} {n:,} 份" for name, n in unknown.items() if n)
    st.caption(f"显示 {len(shown):,} / {len(frame):,} 份报告。点列名排序，点「打开」进入报告。"
               + (f"未识别（读不出）的：{counted}。" if counted else "") + "字数为正文的字数（页数未记录）。")
    table = shown.assign(打开=[f"/report?id={i}" for i in shown["id"]]).drop(columns="id")
    st.dataframe(table[["打开", *catalogue.COLUMNS]], hide_index=True, width="stretch",
                 height=min(LIST_HEIGHT, 36 * (len(table) + 1) + 4),
                 column_config={"打开": st.column_config.LinkColumn("打开", display_text="打开", width="small"),
                                "字数": st.column_config.NumberColumn("字数", format="%d"),
                                "未通过校验": st.column_config.NumberColumn("未通过校验", format="%d")})


def metadata(report: dict) -> None:
    st.title(render.md(report["title"] or render.report_label(report)))
    region = render.region_label(report["region"])
    st.html(f'<div class="nb-meta">机关：<b>{render.esc(report["agency"] or catalogue.UNKNOWN)}</b> · 年份：'
            f'{render.esc(report["year"] or catalogue.UNKNOWN)} · 地区：{render.esc(region)} · '
            f'{render.esc(shown_value(report, "level"))} · {render.esc(shown_value(report, "edition"))} · '
            f'发布：{render.esc(shown_value(report, "published"))} · '
            f'文件：{render.esc(report["source"])} · ID：<code>{render.esc(report["id"])}</code></div>')


FIELD_LABELS = {"title": "标题", "agency": "机关", "year": "年份", "province": "省份", "city": "城市", "county": "区县",
                "level": "层级", "edition": "模板版本", "published": "发布日期"}
LEVEL_LABELS = {"national-ministry": "国务院部门", "province": "省级政府", "city": "市级政府", "county": "县级政府",
                "township": "乡镇街道", "department-province": "省级部门", "department-city": "市级部门",
                "department-county": "县级部门"}


def shown_value(report: dict, name: str) -> str:
    """A field's value as a reader sees it: labels for codes, 未识别 for an unknown."""
    value = report["region"].get(name) if name in ("province", "city", "county") else report.get(name)
    if value in (None, ""):
        return catalogue.UNKNOWN
    if name == "edition":
        return edition_label(str(value))
    return LEVEL_LABELS.get(str(value), str(value)) if name == "level" else str(value)


def evidence(report: dict) -> None:
    """Each field with the line of the report it was read from, corrected ones marked; and the
    form that corrects them (kept across re-indexing and upgrades)."""
    corrected = set(report.get("corrected") or [])
    found = report.get("evidence") or {}
    rows = []
    for name, label in FIELD_LABELS.items():
        source = found.get(name) or {}
        if name in corrected:
            basis = f"已人工更正（原读出：{render.esc(report['derived'].get(name) or catalogue.UNKNOWN)}）"
        elif source.get("line"):
            basis = f"第 {source['line']} 行：{render.esc(source['text'])}"
        elif source:
            basis = render.esc(source.get("text", ""))
        else:
            basis = "正文里没有找到依据"
        value = render.esc(shown_value(report, name) if name != "title" else (report["title"] or catalogue.UNKNOWN))
        rows.append(f"<tr><td>{label}{' ✎' if name in corrected else ''}</td><td>{value}</td><td>{basis}</td></tr>")
    title = "字段与依据" + (f"（已更正：{'、'.join(label for n, label in FIELD_LABELS.items() if n in corrected)}）" if corrected else "")
    with st.expander(title, expanded=bool(corrected)):
        st.html('<table class="nb-table"><tr><th>字段</th><th>值</th><th>依据</th></tr>' + "".join(rows) + "</table>")
        correction_form(report)


def correction_form(report: dict) -> None:
    with st.form("correct"):
        st.caption("读错了或没读出？在这里更正。更正单独保存，重新索引和升级后仍然有效；留空表示不改。")
        cols = st.columns(5)
        typed = {name: cols[n].text_input(FIELD_LABELS[name], placeholder=shown_value(report, name), key=f"fix_{name}")
                 for n, name in enumerate(("agency", "year", "province", "city", "county"))}
        reset = st.multiselect("恢复为自动读出的值", sorted(report.get("corrected") or []), format_func=FIELD_LABELS.get,
                               placeholder="选择字段")
        if not st.form_submit_button("保存更正"):
            return
    values = {name: value.strip() for name, value in typed.items() if value.strip()}
    if not values and not reset:
        st.info("没有要保存的更正。")
        return
    try:
        with state.write_lock(), Store(state.index_dir(), create=False) as store:
            edit_report(store, report["id"], values, reset=reset)
    except FieldError as exc:
        field = str(exc).split(":")[0]
        value = render.md(values.get(field, ""))
        reason = {"year": f"「{value}」不是 1990 年到今年之间的年份",
                  "province": f"「{value}」不是省级行政区（例如 浙江省、北京市、广西壮族自治区）"}.get(field, "值不合要求")
        st.error(f"更正没有保存：{FIELD_LABELS.get(field, field)}{reason}。")
        return
    st.rerun()


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
            table.append(table_cells(paragraph["text"]))
            continue
        if table:
            parts.append(table_html(table, terms))
            table = []
        holds = bool(passages) and any(p in normalize(paragraph["text"]) for p in passages)
        found += bool(holds)
        css = "nb-para nb-found" if holds else "nb-para"
        parts.append(f'<p class="{css}">{render.highlight(paragraph["text"], spans)}</p>')
    if table:
        parts.append(table_html(table, terms))
    return f'<div class="nb-text">{"".join(parts)}</div>', hits, found


def table_cells(line: str) -> list[str]:
    """A table row's cells as the reader wrote them (tab- or |-separated), empty cells kept:
    dropping them shifts labels and numbers into the wrong columns."""
    cells = [c.strip() for c in line.replace("|", "\t").split("\t")]
    while len(cells) > 1 and not cells[-1]:
        cells.pop()
    return cells


def table_html(rows: list[list[str]], terms: list[str]) -> str:
    """Rows of one table, padded to the widest so every column lines up."""
    width = max(len(r) for r in rows)
    body = "".join("<tr>" + "".join(f"<td>{render.highlight(c, render.term_spans(c, terms))}</td>"
                                    for c in row + [""] * (width - len(row))) + "</tr>" for row in rows)
    return (f'<table class="nb-table">{body}</table><div class="nb-meta">原文表格按读出的文字排列，表头的空格可能已丢失；'
            f'核对数字请看下方「统计数据」。</div>')


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


def statistics(report: dict) -> None:
    """The template's tables with the report's numbers; failed checks first, each numbered and
    marked (red, with its number) in the cells it names."""
    st.subheader("统计数据")
    with state.store() as store:
        indicators = store.indicators(report["id"])
        failures = store.check_failures(report["id"])
    if not indicators:
        st.info("这份报告里没有读出统计表。")
        return
    values = {row["key"]: row["value"] for row in indicators}
    failed: dict[str, list[int]] = {}
    if failures:
        lines = []
        for n, failure in enumerate(failures, 1):
            cells = _cells(failure["cells"])
            for cell in cells:
                failed.setdefault(cell["key"], []).append(n)
            named = "；".join(f"{cell.get('label') or cell['key']} = {tables.number(cell.get('value'))}" for cell in cells)
            lines.append(f"{tables.circled(n)} {render.md(failure['message'])}" + (f"  \n涉及：{render.md(named)}" if named else ""))
        st.error(f"{len(failures)} 项勾稽关系校验未通过；表中红底、带圈号的数字即下列各项涉及的单元格：\n\n"
                 + "\n\n".join(lines))
    else:
        st.success("统计表通过了全部勾稽关系校验。")
    laid_out = grids(report["template"], values)
    for grid in laid_out:
        st.html(tables.grid_html(grid, values, failed))
    placed = {key for grid in laid_out for key in grid.keys()}
    rest = [row for row in indicators if row["key"] not in placed]
    if rest:
        st.caption("不在模板表格里的其他数字：")
        st.html(tables.aligned_html([row["key"] for row in rest], ["数值"], [values], [set(failed)]))
    st.caption("斜纹格：模板没有这一格；空白：报告里没有这一格；「未读出」：有这一格，但数字没读出来。")


def completeness(report_id: str) -> None:
    with state.store() as store:
        result = stored_completeness(store, report_id)
    if result is not None:
        report_completeness(result)


def _cells(cells: str) -> list[dict]:
    """A failed check's cells ({key, label, value}) from their stored JSON; [] if unreadable."""
    try:
        data = json.loads(cells)
    except (TypeError, ValueError):
        return []
    return [c for c in data if isinstance(c, dict) and "key" in c] if isinstance(data, list) else []


def similar(report_id: str) -> None:
    st.subheader("最相似的报告")
    if not state.vectors_available():
        st.info("相似报告需要段落向量，这个索引还没有。可在「相似」或「语料」页计算向量。")
        return
    if not state.vectors_available("similar"):
        st.info("这个安装还没有相似报告功能。")
        return
    from indexer.semantic import similar as similar_lib

    found_coverage = coverage.note("相似报告", key="report_vectors_rest")
    if found_coverage is not None and report_id in found_coverage.missing:
        st.info("这份报告还没有段落向量，暂时找不到与它相似的报告。")
        return
    try:
        with state.using_engine() as engine:
            found = similar_lib.similar(engine.fulltext.store, report_id, limit=SIMILAR_SHOWN)
    except similar_lib.UnknownReportError:
        log.warning("similar reports of %s", report_id, exc_info=True)
        st.info("这份报告还没有段落向量，暂时找不到与它相似的报告。")
        return
    if not found["results"]:
        st.info("没有找到相似的报告。")
    for result in found["results"]:
        pairs = "、".join(f"{render.kind_label(p['section_kind'])}↔{render.kind_label(p['other_section_kind'])}"
                         f"（{render.md(scale_text(p.get('percentile')))}）" for p in result["section_pairs"][:3])
        st.page_link("views/report.py", label=f"{render.md(render.report_label(result))} · "
                     f"{render.md(scale_text(result.get('percentile')))}",
                     query_params={"id": result["report_id"]}, icon=":material/description:")
        if pairs:
            st.caption(f"最相近的章节：{pairs}")
    st.caption(SCALE_NOTE.format(pairs=found.get("scale_pairs", 0)))


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


def pages(report: dict) -> None:
    """The original PDF's pages as images, and which pages were read by OCR (可能有误)."""
    count = report.get("pages")
    ocr = report.get("ocr_pages") or []
    if ocr:
        marks = "、".join(f"第{p['page']}页（置信度 {p['confidence']:.2f}）" for p in ocr)
        st.warning(f"{marks}为OCR识别，可能有误：引用前请对照原件页面。")
    if not count:
        return
    with st.expander(f"原件页面（共 {count} 页）", expanded=False):
        number = st.number_input("页码", min_value=1, max_value=count, value=1, step=1, key="report_page")
        try:
            st.image(page_image(state.index_dir(), report["id"], int(number)), caption=f"第{int(number)}页")
        except PageImageError:
            log.info("page image of %s", report["id"], exc_info=True)
            st.info("原件已不在索引时的位置（或已改动），无法显示页面图像。")


def page() -> None:
    report_id = state.param("id")
    if not report_id:
        report_list()
        return
    with state.store() as store:
        report = store.report(store.resolve_id(report_id) or report_id)
    if report is None:
        st.error(f"没有 ID 为「{render.md(report_id)}」的报告。")
        st.page_link("views/report.py", label="查看全部报告的列表", icon=":material/list:", query_params={})
        return
    query, mode = state.param("q"), state.param("mode", "exact")
    metadata(report)
    evidence(report)
    provenance.source_panel(report)
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
    agency = agency_key(report)
    if agency:
        links.page_link("views/agency.py", label="本机关历年报告", icon=":material/timeline:",
                        query_params={"agency": agency})
    with links:
        original(report)
    part(pages, report, what="原件页面")
    sections(report, render.highlight_terms(query, mode), found_passages(report["id"], query, mode))
    part(statistics, report, what="统计数据")
    part(completeness, report["id"], what="完整性")
    part(similar, report["id"], what="相似报告")


def part(draw, *args, what: str) -> None:
    """Draw one part of the page; if it fails, say so in one line and keep the rest of the page."""
    try:
        draw(*args)
    except Exception as exc:  # one part's failure must not take the report's text with it
        if render.is_vectors_error(exc):  # unusable vectors: the page guard offers to recompute them
            raise
        log.exception("report page: %s failed", what)
        st.error(f"{what}这一部分出错了，其余内容不受影响。详细信息已写入日志。")


render.guard(page)
