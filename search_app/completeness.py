"""Completeness shown in the app: the corpus summary (发现, 统计) and one report's gaps (报告).

Apart from the pages so that any page can import it: a page module runs when imported.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from indexer.findings.completeness import LABELS, summary


def completeness_summary(results: list[dict]) -> None:
    """The completeness counts as a small table (the 统计 and 发现 pages)."""
    complete = sum(not r["missing"] and not r["empty"] for r in results)
    st.markdown(f"**{complete} / {len(results)}** 份报告具备所属格式要求的全部部分、表格和说明。")
    counts = summary(results)
    if counts:
        st.table(pd.DataFrame([{"缺少或为空": LABELS.get(k, k), "报告数": n} for k, n in counts.items()])
                 .set_index("缺少或为空"))


def report_completeness(result: dict) -> None:
    """One report's completeness, for the 报告 page."""
    gaps = [f"缺{LABELS.get(m, m)}" for m in result["missing"]] + [f"{LABELS.get(m, m)}为空" for m in result["empty"]]
    if gaps:
        st.warning("完整性：" + "；".join(gaps))
    else:
        st.success("完整性：所属格式要求的部分、表格和说明齐全。")
    for note in result["notes"]:
        st.caption(note)
