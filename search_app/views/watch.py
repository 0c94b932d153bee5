"""关注: saved searches, each with the reports new to it since it was last marked read."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from indexer.core.querylang import QueryError
from indexer.watch import WatchError, add_watch, list_watches, remove_watch, run_watches
from search_app import render, state


def add_form() -> None:
    with st.form("watch-add", clear_on_submit=True):
        query = st.text_input("检索式（与检索页相同的写法）", placeholder="行政复议 year:2023")
        name = st.text_input("名称（可不填）")
        submitted = st.form_submit_button("关注", icon=":material/notifications:")
    if submitted and query.strip():
        try:
            add_watch(state.index_dir(), query.strip(), name=name.strip() or None)
        except QueryError as exc:
            st.warning(f"检索式有误：{render.md(render.query_error_label(exc))}")
        except WatchError:
            st.warning(f"已有名为“{render.md(name.strip() or query.strip())}”的关注。")


def read_time(stamp: str | None) -> str:
    """When a watch was last marked read, in this machine's time as people write it (the store
    keeps ISO 8601 in UTC)."""
    if not stamp:
        return "从未"
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp


def show_news() -> None:
    watches = {w["name"]: w for w in list_watches(state.index_dir())}
    if not watches:
        st.info("还没有关注的检索。在下面添加，或在检索页点“关注此检索”。")
        return
    news = run_watches(state.index_dir(), mark=False)
    ids = {n["report_id"] for w in news for n in w["new"]}
    with state.store() as store:
        reports = {r["id"]: r for r in store.reports(ids)} if ids else {}
    for w in news:
        new = w["new"]
        header = f"{w['name']}　" + (f":red-badge[新 {len(new)}]" if new else ":gray-badge[无新命中]")
        with st.expander(header, expanded=bool(new)):
            st.caption(f"检索式：{render.md(w['query'])} · 上次标记已读：{read_time(w['last_run'])}")
            if new:
                st.dataframe(pd.DataFrame([{"": "新", "报告": render.report_label(reports.get(n["report_id"], {"id": n["report_id"]})),
                                            "新增出现次数": n["count"], "来源": (reports.get(n["report_id"]) or {}).get("source_url") or "",
                                            "编号": n["report_id"]} for n in new]), hide_index=True, width="stretch")
            if st.button("删除此关注", key=f"remove-{w['name']}", icon=":material/delete:"):
                remove_watch(state.index_dir(), w["name"])
                st.rerun()
    if ids and st.button("全部标记为已读", icon=":material/done_all:"):
        run_watches(state.index_dir(), mark=True)
        st.rerun()


def page() -> None:
    st.title("关注")
    st.caption("保存的检索：每次收集或索引之后，这里列出自上次标记已读以来新命中的报告。")
    show_news()
    st.subheader("添加关注")
    add_form()


render.guard(page)
