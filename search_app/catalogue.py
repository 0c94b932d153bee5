"""The report list's rows: what people sort and filter the index's reports by.

The template and edition are the report's own fields (as corrected, if they were), labelled as
everywhere else (`indexer.core.kinds`): the report page shows the same.

One read of the store per index generation (cached), so the list opens at once however
often it is filtered. Values the reader could not recognise are None here and 未识别 on the
page, counted, never guessed.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
import streamlit as st

from indexer.core.kinds import NEW, UNKNOWN, edition_label, template_label
from search_app import state

COLUMNS = ("机关", "年份", "省份", "城市", "区县", "模板", "版本", "存在问题一节", "未通过校验", "字数", "文件")


def template_text(template: str | None, edition: str | None) -> tuple[str, str]:
    """The template and, for the 2019-on template, its edition, in words (未识别 when unknown)."""
    if not template:
        return UNKNOWN, UNKNOWN
    if template != NEW:
        return template_label(template), "—"
    return template_label(template), edition_label(edition)


@st.cache_data(show_spinner=False, max_entries=2)
def _rows(index_path: str, generation: int) -> pd.DataFrame:
    with state.store() as store:
        reports = store.reports()
        bounds = store.section_bounds()
        failed: dict[str, int] = defaultdict(int)
        for report_id, _, _ in store.failed_checks():
            failed[report_id] += 1
    rows = []
    for r in reports:
        spans = bounds.get(r["id"], [])
        template, edition = template_text(r["template"], r["edition"])
        rows.append({"机关": r["agency"] or UNKNOWN, "年份": str(r["year"]) if r["year"] else UNKNOWN,
                     "省份": r["region"]["province"] or UNKNOWN, "城市": r["region"]["city"] or UNKNOWN,
                     "区县": r["region"]["county"] or UNKNOWN, "模板": template, "版本": edition,
                     "字数": max((end for _, end, _ in spans), default=0),
                     "存在问题一节": "有" if any(kind == "problems" for _, _, kind in spans) else "无",
                     "未通过校验": failed.get(r["id"], 0), "文件": r["source"], "id": r["id"]})
    return pd.DataFrame(rows, columns=[*COLUMNS, "id"])


def rows() -> pd.DataFrame:
    """Every visible report, newest first, one row each (columns `COLUMNS` and its `id`)."""
    with state.store() as store:
        generation = store.visible_gen()
    return _rows(str(state.index_dir()), generation)
