"""语料: add reports (upload, or a folder on this machine), see what happened to each file, and the summary.

Uploads are size-limited, checked with the library's reader before anything is stored, and
kept as `<index_dir>/uploads/<content hash>/<sanitised name>`; nothing outside the index
directory is written because of what a user typed or sent. Folders on this machine can be
indexed only below the one `nianbao app --allow-folders` names, with `..` and symbolic links
resolved first, so a path typed into the page reaches nothing outside it.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from indexer.core.settings import ALLOW_FOLDERS_ENV
from indexer.indexing import FileResult, IndexLockedError, IndexSummary, index_paths
from indexer.ingest import DEFAULT_MAX_BYTES, IngestError, iter_report_files
from indexer.store import StoreError
from search_app import catalogue, coverage, provenance, render, state

SUFFIXES = ["txt", "pdf", "docx", "doc", "html", "htm"]
STATUS = {"added": "新增", "updated": "更新", "unchanged": "未变", "duplicate": "重复", "removed": "移除", "skipped": "跳过"}


class FolderRefused(Exception):
    """Why a typed folder will not be indexed, in Chinese, for the page."""


def allowed_folder() -> Path | None:
    """The folder `nianbao app --allow-folders` opened to the page (it and below), or None."""
    value = os.environ.get(ALLOW_FOLDERS_ENV)
    return Path(value).resolve() if value else None


def folder_inside(typed: str, root: Path) -> Path:
    """The folder `typed` names (relative to `root`, or absolute), resolved; `FolderRefused` unless
    it and every report file below it, links followed, lie inside `root`."""
    text = typed.strip()
    try:
        path = (root / Path(text).expanduser()).resolve()
    except (RuntimeError, OSError):  # ~someone with no such user; a link loop
        raise FolderRefused(f"找不到文件夹「{render.md(text)}」。") from None
    if not path.is_relative_to(root):
        raise FolderRefused(f"「{render.md(text)}」不在允许索引的文件夹「{render.md(str(root))}」之内。")
    if not text or not path.is_dir():
        raise FolderRefused(f"找不到文件夹「{render.md(text)}」。")
    for file in iter_report_files([path]):
        if not file.resolve().is_relative_to(root):
            raise FolderRefused(f"「{render.md(str(file.relative_to(path)))}」链接到允许索引的文件夹之外，"
                                f"整个文件夹未索引。")
    return path


def run_indexing(paths: list[Path]) -> IndexSummary | None:
    """Index `paths`; vectors too where every other report has them. Where some lack them, the
    update would embed all of those first (minutes for a few hundred reports, for one upload):
    the coverage note says what is missing and offers to compute it."""
    covered = coverage.coverage()
    progress, done = state.progress_bar()
    try:
        with state.write_lock():
            summary = index_paths(paths, state.index_dir(), progress=progress, wait=10,
                                  embed=covered is not None and covered.complete)
    except IndexLockedError:
        st.warning("另一个 nianbao 进程正在写入索引，请稍后再试。")
        return None
    finally:
        done()
    return summary


def show_results(rows: list[dict], summary: IndexSummary | None) -> None:
    """One line counting the table's rows by outcome (so the two always agree), then the table."""
    counts = Counter(row["结果"] for row in rows)
    line = "，".join(f"{label} {counts[label]}" for label in STATUS.values() if counts[label])
    if summary is not None:
        line += f"；索引共 {summary.reports} 份报告。"
    if rows:
        (st.success if counts["新增"] + counts["更新"] else st.warning)(line)
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def upload_form() -> None:
    st.subheader("上传报告")
    limit_mb = DEFAULT_MAX_BYTES // (1024 * 1024)
    render.uploader_errors(limit_mb)
    with st.form("upload", clear_on_submit=True):
        files = st.file_uploader(f"PDF、DOCX、DOC、HTML 或 TXT（任何中文编码），每个不超过 {limit_mb} MB",
                                 type=SUFFIXES, accept_multiple_files=True)
        submitted = st.form_submit_button("加入索引", icon=":material/upload:")
    if not submitted:
        return
    if not files:
        st.warning("请先选择要上传的文件。")
        return
    target = state.uploads_dir()
    rows: list[dict] = []
    saved: dict[str, list[str]] = {}  # stored path: the names it was sent under (same content, one file)
    earlier: set[str] = set()  # stored paths whose content an earlier upload brought
    for upload in files:
        data = upload.getvalue()
        try:
            before = state.stored_upload(data, target)
            path = state.save_upload(upload.name, data, target)
        except IngestError as exc:
            rows.append({"文件": upload.name, "结果": "跳过", "原因": render.reason_label(exc)})
            continue
        if before is not None:
            earlier.add(str(path))
        saved.setdefault(str(path), []).append(upload.name)
    summary = run_indexing([target]) if saved else None
    if summary is not None:
        for result in summary.files:
            names = saved.get(result.path, [])
            for n, name in enumerate(names):
                rows.append(upload_row(name, result, names[0] if n else None, result.path in earlier))
    show_results(rows, summary)


def upload_row(name: str, result: FileResult, same_batch: str | None, uploaded_before: bool) -> dict:
    """What happened to one uploaded file. The same content sent again, in this batch or an earlier
    one, is 重复 (stored and counted once), unless the index skipped it: then its reason stands."""
    if result.status == "skipped":
        return {"文件": name, "结果": STATUS["skipped"], "原因": render.reason_label(result.reason)}
    if same_batch is not None:
        return {"文件": name, "结果": "重复", "原因": f"与同批上传的「{same_batch}」内容相同"}
    if uploaded_before and result.status == "unchanged":
        return {"文件": name, "结果": "重复", "原因": f"与此前上传的「{Path(result.path).name}」内容相同，未重复计入"}
    return {"文件": name, "结果": STATUS.get(result.status, result.status), "原因": render.reason_label(result.reason)}


def folder_form() -> None:
    root = allowed_folder()
    if root is None:  # the page may read no folder of this machine: only `--allow-folders` opens one
        return
    st.subheader("索引本机文件夹")
    st.caption(f"只能索引「{render.md(str(root))}」及其下的文件夹；可填相对于它的路径。")
    with st.form("folder"):
        folder = st.text_input("文件夹路径", placeholder=str(root / "年报"))
        submitted = st.form_submit_button("索引这个文件夹", icon=":material/folder_open:")
    if not submitted:
        return
    try:
        path = folder_inside(folder, root)
    except FolderRefused as exc:
        st.error(str(exc))
        return
    summary = run_indexing([path])
    if summary is None:
        return
    if not summary.files:
        st.warning("这个文件夹里没有 .txt .pdf .docx .html 文件。")
        return
    rows = [{"文件": str(Path(r.path).relative_to(path)) if Path(r.path).is_relative_to(path) else r.path,
             "结果": STATUS.get(r.status, r.status), "原因": render.reason_label(r.reason)} for r in summary.files]
    show_results(rows, summary)


def overview() -> None:
    st.subheader("语料概况")
    try:
        with state.store() as store:
            reports = store.reports()
            files = store.files()
    except StoreError:
        st.info(render.INDEX_HINT)
        return
    skipped = [f for f in files.values() if f.report_id is None]
    cols = st.columns(4)
    cols[0].metric("报告", len(reports))
    cols[1].metric("文件", len(files))
    cols[2].metric("无法读取的文件", len(skipped))
    covered = coverage.coverage() if reports else None
    cols[3].metric("有语义向量的报告", "未计算" if covered is None else f"{covered.with_vectors:,} / {covered.reports:,}")
    if reports and covered is None:
        render.offer_vectors("语义检索、相似报告和段落比较", key="corpus_vectors")
    elif covered is not None:
        coverage.note("语义检索、相似报告和段落比较", key="corpus_vectors_rest")
    if not reports:
        st.info(render.INDEX_HINT)
        return
    left, right = st.columns(2)
    years = Counter(str(r["year"] or catalogue.UNKNOWN) for r in reports)
    provinces = Counter(r["region"]["province"] or catalogue.UNKNOWN for r in reports)
    by_year = pd.DataFrame({"年份": list(years), "报告数": list(years.values())})
    left.altair_chart(alt.Chart(by_year, title="各年份的报告数").mark_bar().encode(
        x=alt.X("年份:N", title="年份", axis=alt.Axis(labelAngle=0)), y=alt.Y("报告数:Q", axis=alt.Axis(tickMinStep=1))),
        width="stretch")
    by_province = pd.DataFrame({"省份": list(provinces), "报告数": list(provinces.values())})
    right.altair_chart(alt.Chart(by_province, title="各省份的报告数").mark_bar().encode(
        y=alt.Y("省份:N", title=None, sort="-x", axis=alt.Axis(labelLimit=240)),
        x=alt.X("报告数:Q", axis=alt.Axis(tickMinStep=1))), width="stretch")
    st.page_link("views/report.py", label=f"全部 {len(reports):,} 份报告的列表（可筛选、排序）", icon=":material/list:")
    if skipped:
        with st.expander(f"无法读取的文件（{len(skipped)}）"):
            st.dataframe(pd.DataFrame([{"文件": f.name, "原因": render.reason_label(f.reason)} for f in skipped]),
                         hide_index=True)


def page() -> None:
    st.title("语料")
    upload_form()
    folder_form()
    provenance.collect_form()
    overview()


render.guard(page)
