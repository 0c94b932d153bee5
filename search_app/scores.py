"""Similarity scores in words people can read: a place on the corpus's own scale, not a cosine."""

from __future__ import annotations

SCALE_NOTE = ("「比百分之几的报告对更相似」：与本索引中 {pairs} 对随机抽取的报告相比（段落逐一对齐后的平均相似度）；"
              "章节之间用同一尺度。")


def scale_text(percentile: float | None) -> str:
    """A similarity as its place among the corpus's report pairs."""
    if percentile is None:
        return "无法比较（索引里只有一份有向量的报告）"
    return f"比 {percentile:.0f}% 的报告对更相似"
