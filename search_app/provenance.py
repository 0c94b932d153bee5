"""Collected reports in the app: the collect-from-address form (语料 page), a report's source,
dates and versions with the diff (报告 page), and the filter for changed and withdrawn reports.

Render functions only; the pages call them where they belong.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from indexer.collect import collect
from indexer.collect.changes import NoVersionsError, version_diff
from indexer.indexing import IndexLockedError
from search_app import render, state

STATUS = {"new": "新增", "unchanged": "未变", "changed": "已更改", "removed": "已撤下", "failed": "失败"}
FILTERS = {"全部": None, "已更改": "changed", "已撤下": "removed"}


def collect_form() -> None:
    """Addresses of report or listing pages in; their reports downloaded, indexed and listed out."""
    st.subheader("从网址收集")
    with st.form("collect"):
        text = st.text_area("报告页或“政府信息公开年报”栏目页的网址，每行一个",
                            placeholder="https://www.example.gov.cn/xxgk/ndbg/index.html")
        depth = st.selectbox("沿链接深入的层数（栏目页 → 报告页 → 附件）", range(6), index=3)  # no free typing: no English range error
        submitted = st.form_submit_button("收集并加入索引", icon=":material/travel_explore:")
    if not submitted:
        return
    urls = [line.strip() for line in text.splitlines() if line.strip()]
    bad = [u for u in urls if not u.startswith(("http://", "https://"))]
    if not urls or bad:
        st.warning("请填写以 http:// 或 https:// 开头的网址" + (f"：{render.md('、'.join(bad))}" if bad else "。"))
        return
    progress, done = state.progress_bar()
    try:
        with state.write_lock():
            summary = collect(urls, state.index_dir(), depth=int(depth), progress=progress,
                              embed=state.vectors_available())
    except IndexLockedError:
        st.warning("另一个 nianbao 进程正在写入索引，请稍后再试。")
        return
    finally:
        done()
    if not summary.results:
        st.warning("这些网址上没有找到年度报告的链接。")
        return
    counts = summary.counts()
    st.success("，".join(f"{STATUS[k]} {v}" for k, v in counts.items() if v) + f"；索引共 {summary.reports} 份报告。")
    st.dataframe(pd.DataFrame([{"网址": r.url, "结果": STATUS[r.status], "报告": r.report_id or "",
                                "原因": render.reason_label(r.reason)} for r in summary.results]),
                 hide_index=True, width="stretch")


def source_panel(report: dict) -> None:
    """Where a collected report came from, its stated and retrieval dates, and its versions."""
    url = report.get("source_url")
    if not url:
        return
    st.subheader("来源")
    if report.get("source_status") == "removed":
        st.error("已撤下：原网址已无法访问，或已从栏目页移除。这里保留的是收集时的副本。", icon=":material/link_off:")
    st.link_button("打开原网址", url, icon=":material/open_in_new:")
    st.caption(f"{render.md(url)}  \n发布日期：{report.get('published') or '页面未注明'} · "
               f"收集于：{report.get('retrieved') or '不详'}")
    versions = report.get("versions") or []
    if len(versions) > 1:
        st.dataframe(pd.DataFrame([{"版本": i, "收集时间": v["retrieved"], "标题": v["title"] or "",
                                    "报告": v["report_id"] or "未能读取", "本页": "●" if v["report_id"] == report["id"] else ""}
                                   for i, v in enumerate(versions, 1)]), hide_index=True, width="stretch")
        with st.expander("与上一版本相比的改动"):
            try:
                with state.store() as store:
                    lines = version_diff(store, url)
            except NoVersionsError as exc:
                st.info(str(exc))
                return
            st.code("\n".join(lines) or "两个版本的文字相同。", language="diff")


def status_filter(key: str = "source-status") -> set[str] | None:
    """A 全部 / 已更改 / 已撤下 choice; the ids of the reports it keeps (every version), None for all."""
    choice = st.segmented_control("来源状态", list(FILTERS), default="全部", key=key) or "全部"
    status = FILTERS[choice]
    if status is None:
        return None
    with state.store() as store:
        return {v["report_id"] for s in store.sources(status) for v in store.versions(s["url"]) if v["report_id"]}
