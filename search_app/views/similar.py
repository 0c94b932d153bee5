"""相似: the reports closest to one report (or to an uploaded file), and passages copied between agencies.

Ranking and copied passages come from the library (`indexer.semantic.similar`,
`indexer.semantic.copies`), the functions the command line uses; this page lays them out.
An uploaded file is compared without being indexed or kept: it is read and parsed in memory
(`similar_bytes`) and never written to disk. Copied passages need no vectors; similar reports do.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from indexer.ingest import DEFAULT_MAX_BYTES, IngestError
from indexer.normalize import normalize
from search_app import coverage, render, state
from search_app.scores import SCALE_NOTE, scale_text

SHOWN = 10
PAIRS_SHOWN = 3
MIN_CHARS = 30
COPIES_SHOWN = 20
SUFFIXES = ["txt", "pdf", "docx", "html", "htm"]
SOURCES = {"index": "已索引的报告", "upload": "上传一个文件"}


@st.cache_data(show_spinner=False, max_entries=8)
def load_copies(index_path: str, generation: int, min_chars: int) -> dict:
    """Copied passages across the whole index; recomputed only when the index changes."""
    from indexer.semantic.copies import copies

    with state.store() as store:
        return copies(store, min_chars=min_chars)


def generation() -> int:
    with state.store() as store:
        return store.visible_gen()


def choose_report(reports: list[dict]) -> str | None:
    labels = {r["id"]: f"{render.report_label(r)} · {render.region_label(r['region'])}" for r in reports}
    wanted = state.param("id")
    found, _ = state.resolve_ids([wanted] if wanted else [])  # an id or a unique prefix, as on the report page
    if wanted and not (found and found[0] in labels):
        st.error(f"没有 ID 为「{render.md(wanted)}」的报告。请从下面的列表里选择。")
    wanted = found[0] if found and found[0] in labels else ""
    state.init_widget("similar_id", wanted or None)
    chosen = st.selectbox("报告", [None, *labels], key="similar_id", placeholder="请选择……",
                          format_func=lambda i: "请选择……" if i is None else labels[i])
    return chosen


def compare_upload(upload) -> dict | None:
    """`similar_bytes` on an uploaded file: read, parsed and compared in memory, never written."""
    from indexer.semantic.similar import similar_bytes

    data = upload.getvalue()
    key = ("similar_upload", upload.name, hashlib.sha256(data).hexdigest())
    if st.session_state.get("similar_upload_key") == key:
        return st.session_state["similar_upload_result"]
    try:
        with st.spinner("正在读取并比较这个文件……"):
            with state.using_engine() as engine:
                found = similar_bytes(engine.fulltext.store, upload.name, data, limit=SHOWN)
    except IngestError as exc:
        st.error(f"无法读取「{render.md(upload.name)}」：{render.md(render.reason_label(exc))}")
        return None
    st.session_state["similar_upload_key"] = key
    st.session_state["similar_upload_result"] = found
    return found


def pairs_html(pairs: list[dict]) -> str:
    """The best-matching section pairs on one line: this report's section ↔ the other's, with the score."""
    items = "".join(
        f'<span class="nb-pair"><span class="nb-kind">{render.esc(render.kind_label(p["section_kind"]))}</span>↔'
        f'<span class="nb-kind">{render.esc(render.kind_label(p["other_section_kind"]))}</span>'
        f'{render.esc(scale_text(p.get("percentile")))}</span>' for p in pairs[:PAIRS_SHOWN])
    return f'<div class="nb-meta nb-pairs">最相近的章节（本报告↔对方）：{items}</div>' if items else ""


def show_similar(found: dict, source_id: str | None) -> None:
    results = found.get("results") or []
    if not results:
        st.info("没有找到相似的报告：索引里可能只有这一份，或其他报告还没有向量。")
        return
    st.caption(f"按整体相似度排列的 {len(results)} 份报告。" + SCALE_NOTE.format(pairs=found.get("scale_pairs", 0)))
    for rank, result in enumerate(results, 1):
        with st.container(border=True):
            row = st.container(horizontal=True, vertical_alignment="center")
            row.page_link("views/report.py", label=f"**{rank}. {render.md(render.report_label(result))}**",
                          query_params={"id": result["report_id"]}, icon=":material/description:")
            pairs = result.get("section_pairs") or []
            same = [p["section_kind"] for p in pairs if p["section_kind"] == p["other_section_kind"] != "other"]
            if source_id and same:
                row.page_link("views/compare.py", label=f"并排比较「{render.kind_label(same[0])}」",
                              icon=":material/view_column:",
                              query_params={"kind": same[0], "ids": [source_id, result["report_id"]]})
            st.html(f'<div class="nb-meta"><b>{render.esc(scale_text(result.get("percentile")))}</b> · '
                    f'{render.esc(result["source"])}</div>'
                    + pairs_html(pairs))


def copy_side_html(side: dict, text: str, other: str) -> str:
    paragraph = side["paragraph_text"]
    spans = render.term_spans(paragraph, [normalize(text)]) or render.shared_spans(paragraph, other)
    return (f'<div class="nb-column-head">{render.esc(render.report_label(side))}</div>'
            f'<div class="nb-meta"><span class="nb-kind">{render.esc(render.kind_label(side["section_kind"]))}</span>'
            f'{render.esc(side["source"])}</div>'
            f'<p class="nb-para">{render.highlight(paragraph, spans, "nb-common")}</p>')


def show_copy(copy: dict, report_id: str | None) -> None:
    """One copied passage: both locations side by side, the chosen report (if any) on the left."""
    first, second = (copy["b"], copy["a"]) if copy["b"]["report_id"] == report_id else (copy["a"], copy["b"])
    with st.container(border=True):
        st.caption(f"两段共有 {copy['chars']} 字相同的文字")
        for column, side, other in zip(st.columns(2, gap="medium"), (first, second), (second, first)):
            with column:
                st.html(copy_side_html(side, copy["text"], other["paragraph_text"]))
                st.page_link("views/report.py", label="打开报告", icon=":material/description:",
                             query_params={"id": side["report_id"]})


def copied_passages(report_id: str | None, n_reports: int) -> None:
    from indexer.semantic.copies import QUICK_REPORTS

    st.subheader("机关之间复制的段落")
    state.init_widget("similar_min", state.int_param("min", MIN_CHARS, 10, 2000))
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    min_chars = int(left.number_input("至少共有多少字", min_value=10, max_value=2000, step=10, key="similar_min"))
    if min_chars != MIN_CHARS:
        st.query_params["min"] = str(min_chars)
    elif "min" in st.query_params:
        del st.query_params["min"]
    only_this = bool(report_id) and right.toggle("只看与所选报告有关的", value=True, key="similar_only")
    if n_reports > QUICK_REPORTS and not st.session_state.get("similar_copies_asked"):
        st.caption(f"要在全部 {n_reports} 份报告里比对，需要几分钟（两万份约三分钟）；算过一次，再看就很快。")
        if not st.button("查找复制的段落", key="similar_copies_go", icon=":material/search:"):
            return
        st.session_state["similar_copies_asked"] = True
    with st.spinner("正在查找复制的段落……"):
        found = load_copies(str(state.index_dir()), generation(), min_chars)
    results = found.get("results") or []
    if only_this:
        results = [c for c in results if report_id in (c["a"]["report_id"], c["b"]["report_id"])]
    if not results:
        scope = "所选报告与其他机关之间" if only_this else "不同机关的报告之间"
        lower = "可以把字数调低再试。" if min_chars > 10 else ""  # 10 is the box's least
        st.info(f"{scope}没有找到至少 {min_chars} 字相同的段落。{lower}")
        return
    shown = results[:COPIES_SHOWN]
    more = f"，显示字数最多的 {len(shown)} 处" if len(results) > len(shown) else ""
    st.caption(f"找到 {len(results)} 处{more}。橙底文字是两段共有的措辞。")
    for copy in sorted(shown, key=lambda c: -c["chars"]):
        show_copy(copy, report_id)


def similar_reports(source: str, report_id: str | None) -> None:
    """The ranked neighbours of the chosen report or of an uploaded file (needs vectors)."""
    if not state.vectors_available():
        render.offer_vectors("相似报告", key="similar_vectors")
        return
    if not state.vectors_available("similar"):
        st.info("这个安装还没有相似报告功能（indexer.semantic.similar）。")
        return
    found: dict | None = None
    covered = coverage.note("相似报告", key="similar_vectors_rest")
    if source == "index":
        if covered is not None and report_id in covered.missing:
            st.info("这份报告还没有段落向量（它是在上次计算向量之后加入的），用上面的按钮计算后即可比较。")
            return
        if not report_id:
            st.caption("选一份报告，看与它最相似的报告和它们最相近的章节。")
            return
        from indexer.semantic.similar import UnknownReportError, similar

        try:
            with state.using_engine() as engine:
                found = similar(engine.fulltext.store, report_id, limit=SHOWN)
        except UnknownReportError:
            st.info("这份报告还没有段落向量（它是在上次计算向量之后加入的）。")
            render.offer_vectors("相似报告", key="similar_vectors_missing")
            return
    else:
        limit_mb = DEFAULT_MAX_BYTES // (1024 * 1024)
        render.uploader_errors(limit_mb)
        upload = st.file_uploader(f"PDF、DOCX、HTML 或 TXT，不超过 {limit_mb} MB；只用来比较，不加入索引",
                                  type=SUFFIXES, key="similar_upload")
        if upload is not None:
            found = compare_upload(upload)
    if found is not None:
        if found["report"].get("in_index"):
            st.caption("这个文件已在索引中；结果里不含它自己。")
        st.subheader(f"与「{render.md(render.report_label(found.get('report') or {}))}」最相似的报告")
        show_similar(found, report_id)


def page() -> None:
    st.title("相似")
    with state.store() as store:
        reports = store.reports()
    if not reports:
        st.info(render.INDEX_HINT)
        return
    state.init_widget("similar_source", "index")
    source = st.radio("比较对象", list(SOURCES), key="similar_source", horizontal=True, format_func=SOURCES.get,
                      label_visibility="collapsed")
    report_id = choose_report(reports) if source == "index" else None
    state.set_params({"id": report_id, "min": state.param("min") or None} if source == "index" else {})
    similar_reports(source, report_id)
    if source == "index":
        copied_passages(report_id, len(reports))


render.guard(page)
