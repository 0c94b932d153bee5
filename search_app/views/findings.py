"""发现: rankings on the derived rates, the completeness of reports, and the themes of the
problems sections, across the whole index (`indexer.findings`, the same code as the CLI).

Every number names its sample (numerator/denominator, reports) and links to the reports it sums;
groups under the minimum denominator keep their value but get no rank, and the page says so.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from indexer.findings.rates import GROUPINGS, MIN_DENOMINATOR, RATES, RATES_BY_KEY
from indexer.findings.stored import completeness_rows, rates
from indexer.stats.indicators import INDICATORS
from search_app import render, state
from search_app.completeness import completeness_summary

BY_LABELS = {"province": "省份", "city": "城市", "level": "行政层级", "year": "年份", "agency": "机关"}
LINKED_GROUPS = 20  # groups whose reports get links under the table
REPORTS_PER_GROUP = 10


def _note(group: dict) -> str:
    """Why a group has no rank or no rate."""
    if group["value"] is None:
        return "分母为 0，无比率"
    return "" if group["rank"] else "样本不足，不排名"


def _rankings() -> None:
    st.subheader("排名")
    left, mid, right = st.columns([3, 1, 1])
    key = left.selectbox("比率", [r.key for r in RATES], format_func=lambda k: RATES_BY_KEY[k].label, key="findings_rate")
    by = mid.selectbox("分组", GROUPINGS, index=GROUPINGS.index("agency"), format_func=BY_LABELS.get, key="findings_by")
    minimum = right.number_input("最小分母", min_value=1, value=MIN_DENOMINATOR, step=1, key="findings_min")
    with state.store() as store:
        table = rates(store, state.url_filters(), by, [key], int(minimum), with_cells=True)["rates"][0]
    st.caption(f"只对分母不少于 {int(minimum)} 的组排名；样本更小的组列出数值但不排名。"
               f"{table['reports_without_cells']} 份报告缺少公式所需单元格，未计入。")
    with st.expander("公式"):
        st.markdown(render.md(table["formula"]))
    if not table["by"]:
        st.info("没有报告具备这个比率所需的单元格。")
        return
    # Text, not empty numbers: the grid draws a missing number as the English "None".
    frame = pd.DataFrame([{"排名": str(g["rank"]) if g["rank"] else "—", BY_LABELS[by]: g["group"],
                           "比率": "—" if g["value"] is None else f"{g['value'] * 100:.1f}%",
                           "分子": g["numerator"], "分母": g["denominator"], "报告数": g["reports"],
                           "说明": _note(g)} for g in table["by"]])
    st.dataframe(frame, hide_index=True, use_container_width=True)
    with st.expander("数字的来源：各组的报告和单元格"):
        for g in table["by"][:LINKED_GROUPS]:
            st.markdown(f"**{render.md(g['group'])}**（{g['numerator']}/{g['denominator']}）")
            for c in g["contributions"][:REPORTS_PER_GROUP]:
                st.page_link("views/report.py", label=f"{c['report_id']}：{c['numerator']}/{c['denominator']}",
                             query_params={"id": c["report_id"]}, icon=":material/description:")
                st.caption("；".join(f"{INDICATORS[k].label} = {v}" for k, v in c["cells"].items()))


def _completeness() -> None:
    st.subheader("完整性")
    with state.store() as store:
        results = completeness_rows(store, state.url_filters())
    completeness_summary(results)


def _themes() -> None:
    from indexer.findings.theme_anchors import OTHER_LABEL
    from indexer.findings.themes import corpus_themes

    st.subheader("存在的主要问题：主题")
    if not state.vectors_available():
        render.offer_vectors("问题主题", key="findings_vectors")
        return
    with state.store() as store:
        found = corpus_themes(store, "problems", state.url_filters())
    if not found["themes"]:
        st.info("索引中没有可聚类的「存在的主要问题」段落。")
        return
    listed = sum(t["key"] not in (None, OTHER_LABEL) for t in found["themes"])
    rest = "，其余由清单之外的段落聚成，聚不成主题的段落归入「其他」" if len(found["themes"]) > listed else ""
    st.caption(f"{found['paragraphs']} 段分入 {len(found['themes'])} 个主题；{listed} 个来自常见问题清单（按关键词和语义归入）{rest}。")

    def name(theme: dict) -> str:
        return theme["label"] if theme["key"] is not None else f"{theme['id']}. {'、'.join(theme['words'][:3])}"

    rows = [{"主题": name(t), "年份": year, "段落数": n} for t in found["themes"] for year, n in t["by_year"].items()]
    st.altair_chart(alt.Chart(pd.DataFrame(rows)).mark_bar().encode(x="年份:O", y="段落数:Q", color="主题:N"),
                    use_container_width=True)
    rows = [{"主题": name(t), "省份": p, "段落数": n} for t in found["themes"] for p, n in t["by_province"].items()]
    st.altair_chart(alt.Chart(pd.DataFrame(rows)).mark_bar().encode(y="省份:N", x="段落数:Q", color="主题:N"),
                    use_container_width=True)
    for t in found["themes"]:
        with st.expander(f"{t['id']}. {t['label']}（{t['size']} 段，{len(t['reports'])} 份报告）"):
            st.markdown("关键词：" + render.md("、".join(t["words"])))
            for example in t["examples"]:
                st.markdown(f"> {render.md(example['text'])}")
                st.page_link("views/report.py", label="打开报告", query_params={"id": example["report_id"]},
                             icon=":material/description:")


def page() -> None:
    st.title("发现")
    st.caption("比率与排名、报告完整性、存在问题的主题：与命令行的计算相同。")
    _rankings()
    _completeness()
    _themes()


render.guard(page)
