"""What the semantic data covers: how many of the index's reports have paragraph vectors.

Why: vectors are computed after reading files and can lag behind (reports added with
`--no-embed`, an interrupted run); a page that ranks by meaning must say it ranked 11 of
1,011 reports, and offer to compute the rest, rather than imply it searched them all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

from indexer.indexing import IndexLockedError
from search_app import state

log = logging.getLogger("nianbao.app")


@dataclass(frozen=True)
class Coverage:
    reports: int  # visible reports in the index
    with_vectors: int  # of those, how many have vectors
    missing: frozenset[str]  # ids of visible reports without vectors

    @property
    def complete(self) -> bool:
        return self.with_vectors == self.reports


@st.cache_data(show_spinner=False, max_entries=4)
def _coverage(index_path: str, generation: int, vectors_generation: str) -> Coverage | None:
    from indexer.semantic.vectors import vectors_status

    with state.store() as store:
        total = store.count_reports()
        status = vectors_status(state.index_dir(), store)
    if not status["present"] or status["error"]:
        return None  # unusable vectors: the page guard offers to recompute them
    return Coverage(total, total - len(status["missing"]), frozenset(status["missing"]))


def coverage() -> Coverage | None:
    """The index's coverage; None when it has no usable vectors (pages then offer to compute them)."""
    if not state.vectors_available():
        return None
    with state.store() as store:
        generation = store.visible_gen()
    return _coverage(str(state.index_dir()), generation, vectors_generation())


def vectors_generation() -> str:
    """The name of the index's current vectors generation ("" when none): a cache key for what derives from them."""
    from indexer.semantic.vectors import CURRENT, VECTORS_DIR

    try:
        return (state.index_dir() / VECTORS_DIR / CURRENT).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def note(what: str, key: str) -> Coverage | None:
    """Say what share of the reports `what` (语义检索, 相似报告…) covers; offer to compute the rest.

    Shows nothing more than a caption when every report is covered.
    """
    found = coverage()
    if found is None:
        return None
    line = f"{what}覆盖 {found.with_vectors:,} / {found.reports:,} 份报告"
    if found.complete:
        st.caption(line + "。")
        return found
    st.warning(f"{line}：其余 {found.reports - found.with_vectors:,} 份还没有计算段落向量，结果里不会出现。")
    if st.button(f"为其余 {found.reports - found.with_vectors:,} 份报告计算向量", key=key, icon=":material/calculate:"):
        progress, done = state.progress_bar()
        try:
            state.compute_vectors(progress)
        except IndexLockedError:
            st.warning("另一个 nianbao 进程正在写入索引，请稍后再试。")
            return found
        finally:
            done()
        _coverage.clear()
        st.rerun()
    return found
