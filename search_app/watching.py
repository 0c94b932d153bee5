"""Saved searches in the app: the 关注 page's parts and the search page's 关注此检索 button."""

from __future__ import annotations

import streamlit as st

from indexer.core.filters import SearchFilters
from indexer.core.querylang import QueryError
from indexer.watch import WatchError, add_watch
from search_app import render, state


def save_search_button(query: str, filters: SearchFilters, key: str = "save-watch") -> None:
    """Save the current exact search as a watch; its first run then lists only what is new."""
    if not query or not st.button("关注此检索", key=key, help="以后索引或收集到新的匹配时，在「关注」页列出"):
        return
    try:
        added = add_watch(state.index_dir(), query, filters)
    except (WatchError, QueryError) as exc:
        st.warning(f"检索式有误：{render.md(render.query_error_label(exc))}" if isinstance(exc, QueryError) else f"已关注过：{render.md(query)}")
        return
    st.toast(f"已关注“{added['name']}”：目前 {added['reports']} 份报告命中，之后的新命中在“关注”页列出。")
