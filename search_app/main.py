"""The nianbao search desk: `nianbao app` runs this file with `streamlit run`.

On a fresh machine the index is empty; the bundled sample reports are then indexed first,
with a progress bar, so the README's one command shows a working search desk.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote

import streamlit as st
from streamlit.commands import navigation as st_navigation
from streamlit.runtime.scriptrunner import ScriptRunContext

from indexer.indexing import IndexLockedError, index_paths
from search_app import gate, render, state

log = logging.getLogger("nianbao.app")

# Not `pages/`: Streamlit treats a `pages/` folder beside the main script as the legacy
# multipage layout until the process first calls `st.navigation`, and would then run a
# deep-linked page without this script.
PAGES = Path(__file__).resolve().parent / "views"


def ensure_corpus() -> None:
    """Index the bundled `corpus/` when the index holds no report yet, then compute its vectors.

    Vectors come second and apart: if the model cannot load, search still works and the
    similar and compare pages say how to compute them later.
    """
    if state.has_reports() or not state.BUNDLED_CORPUS.is_dir():
        return
    with state.write_lock():
        if state.has_reports():
            return
        st.info("首次启动：正在为自带的样本报告建立索引、计算语义向量，完成后即可检索。")
        progress, done = state.progress_bar()
        try:
            index_paths([state.BUNDLED_CORPUS], state.index_dir(), progress=progress, embed=False)
        except IndexLockedError:
            st.warning("另一个 nianbao 进程正在写入索引，请稍候刷新页面。")
            st.stop()
    if state.semantic_installed() and not state.vectors_available():
        try:
            state.compute_vectors(progress)
        except Exception:  # the model is optional at first start; the pages say how to compute vectors later
            log.warning("computing vectors for the bundled corpus failed", exc_info=True)
    done()
    st.rerun()


MISSING_PAGE = "nb_missing_page"


def _note_missing_page(ctx: ScriptRunContext) -> None:
    """Streamlit answers a path no page has with an English dialog ("Page not found … Running the
    app's main page."), which no option turns off or translates: it is not sent, and the path is kept
    for the Chinese note the page draws instead (`missing_page_note`)."""
    st.session_state[MISSING_PAGE] = unquote(ctx.pages_manager.intended_page_name or "")


st_navigation.send_page_not_found = _note_missing_page


def missing_page_note() -> None:
    missing = st.session_state.pop(MISSING_PAGE, None)
    if missing is not None:
        st.warning(f"没有「/{render.md(missing)}」这个页面，这里是检索页。")


def main() -> None:
    # An emoji page icon (Streamlit draws it as an inline SVG), no `:material/…:` icon: the page
    # icon of that kind is fetched from a font CDN, and nothing may leave the machine.
    st.set_page_config(page_title="年报检索 nianbao", page_icon="🔍", layout="wide")
    gate.require_access()
    pages = [
        st.Page(PAGES / "search.py", title="检索", url_path="desk", default=True),
        st.Page(PAGES / "report.py", title="报告", url_path="report"),
        st.Page(PAGES / "compare.py", title="比较", url_path="compare"),
        st.Page(PAGES / "similar.py", title="相似", url_path="similar"),
        st.Page(PAGES / "stats.py", title="统计", url_path="stats"),
        st.Page(PAGES / "findings.py", title="发现", url_path="findings"),
        st.Page(PAGES / "agency.py", title="机关", url_path="agency"),
        st.Page(PAGES / "corpus.py", title="语料", url_path="corpus"),
        st.Page(PAGES / "watch.py", title="关注", url_path="watch"),
        # /search, as the search page was once addressed: the search itself, not an English "page not found".
        st.Page(PAGES / "search.py", title="检索", url_path="search", visibility="hidden"),
    ]
    current = st.navigation(pages)
    render.style()
    missing_page_note()
    render.guard(ensure_corpus)
    state.warm_up()
    current.run()


# Streamlit runs this file as __main__; a process started by multiprocessing's spawn (a Dask worker
# started beside the desk's tests) runs it again as __mp_main__, and must not draw the desk there.
if __name__ == "__main__":
    main()
