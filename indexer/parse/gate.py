"""Is a text a 政府信息公开工作年度报告 at all? A gate before indexing, so that a notes file, a
README or a 政府工作报告 dropped into a folder does not become a "report" with empty metadata.

A score adds up what every annual report shows: a title or opening naming 信息公开 and
年度报告/年报, the 条例 cited, the outline's headings, the mandated tables' labels, the
statistics period and some length; it subtracts what marks another kind of text (a 通知's
特此通知, a regulation's 第一条, a 政府工作报告's 各位代表, English or code). A real report
rejected is lost to its readers while junk let in is merely noise, so the threshold sits far
below the lowest score any real report measured (tests/test_gate.py), and
`nianbao index --force` overrides it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..normalize import code_points, normalize

THRESHOLD = 3.0
REJECTION = "不像政府信息公开工作年度报告："
"""How a skipped file's reason begins when this gate turned it away."""

# Pages mirrored from Taiwan or Hong Kong sites come in traditional characters; only the
# characters of the terms scored below are mapped.
_SIMPLIFIED = str.maketrans("開報條動請復議訴總體況問題務關處", "开报条动请复议诉总体况问题务关处")
_TRADITIONAL = re.compile(f"[{''.join(map(chr, _SIMPLIFIED))}]")

_OPENING = 600  # normalised characters a title and its first paragraph fit in
# `…政府信息公开工作年度报告`, `本年度报告是根据《…政府信息公开条例》`, `信息公开工作总结报告如下`
_NAMES_REPORT = re.compile(r"(信息|政务)公开.{0,16}(报告|年报)|(年度报告|年报).{0,16}(信息|政务)公开")
_ABOUT_DISCLOSURE = ("信息公开", "政务公开")
_REGULATION = ("信息公开条例", "《条例》")
# Each tuple is one signal: any of its terms, found with `in`.
_OUTLINE = (("总体情况", "概述", "基本情况"), ("主动公开",), ("依申请公开", "收到和处理政府信息公开申请"),
            ("行政复议", "行政诉讼"), ("收费", "减免"), ("存在的主要问题", "存在问题", "存在的问题", "不足"),
            ("其他需要报告的事项", "改进"))
_TABLE_LABELS = (("本年新收",), ("结转下年度继续办理",), ("第二十条第",), ("予以公开",), ("不予公开",), ("申请人情况",),
                 ("行政许可",), ("行政处罚",), ("主动公开政府信息数", "主动公开信息数"),
                 ("依申请公开信息数", "受理依申请公开", "受理申请"))
_PERIOD = re.compile(r"1月1日.{0,12}12月31日")
# Words of other kinds of document. `本制度` must not be the tail of 基本制度 (`把公开透明作为政府
# 工作的基本制度`, the 2019 条例's first article, which reports quote) or 根本/成本/资本制度.
_OTHER_KINDS = (
    (re.compile("通知如下|特此通知|印发给你们|请认真贯彻执行|请遵照执行"), "通知"),
    (re.compile("第[一二三四]条"), "规章条款"),
    (re.compile("(?<![基根成资])本(?:制度|办法|规定)"), "制度文本"),
    (re.compile("各位代表|向大会报告工作"), "政府工作报告"),
)
_MIN_CHINESE = 100  # fewer Chinese characters than a saved page's first paragraph
_MIN_CHINESE_SHARE = 0.5  # of all letters: below it, English prose or code


@dataclass
class GateResult:
    score: float
    is_report: bool
    reasons: list[str] = field(default_factory=list)  # what counted, for and against, in Chinese

    def rejection(self) -> str:
        """The one-line reason a skipped file is listed with: what the text lacks or looks like."""
        against = [r for r in self.reasons if r.startswith(("未", "无", "像", "篇幅仅"))]
        return REJECTION + "，".join(against or self.reasons)


def _has(text: str, terms: tuple[str, ...]) -> bool:
    return any(term in text for term in terms)


def _letters(text: str) -> tuple[int, int]:
    """How many characters of `text` are CJK ideographs (U+4E00–U+9FFF) and how many ASCII letters;
    counted over the code points at once (findall made a list of every run)."""
    codes = code_points(text)
    folded = codes | 0x20  # A–Z onto a–z, and nothing else onto them
    return (int(np.count_nonzero((codes >= 0x4E00) & (codes <= 0x9FFF))),
            int(np.count_nonzero((folded >= 0x61) & (folded <= 0x7A))))


def _mostly_chinese(text: str) -> bool:
    chinese, latin = _letters(text)
    return chinese >= _MIN_CHINESE_SHARE * (chinese + latin)


def annual_report_score(text: str, norm: str | None = None) -> GateResult:
    """How much `text` looks like a 政府信息公开工作年度报告, with the reasons; `norm`: its
    normalised form, where the caller has it already (indexing needs it too)."""
    norm = normalize(text) if norm is None else norm
    if _TRADITIONAL.search(norm):
        norm = norm.translate(_SIMPLIFIED)
    if not _has(norm, _ABOUT_DISCLOSURE):
        return GateResult(0.0, False, ["未提及信息公开"])
    score, reasons = 0.0, []

    def count(points: float, reason: str) -> None:
        nonlocal score
        score += points
        reasons.append(reason)

    if _NAMES_REPORT.search(norm[:_OPENING]):
        count(3.0, "开头称信息公开年度报告")
    elif _NAMES_REPORT.search(norm):
        count(1.5, "正文称信息公开年度报告")
    else:
        reasons.append("未称信息公开年度报告")
    if _has(norm, _REGULATION):
        count(2.0, "引用《条例》")
    else:
        reasons.append("未引用《条例》")
    outline = sum(_has(norm, terms) for terms in _OUTLINE)
    if outline:
        count(min(0.5 * outline, 2.5), f"年报提纲{outline}项")
    else:
        reasons.append("无年报提纲")
    labels = sum(_has(norm, terms) for terms in _TABLE_LABELS)
    if labels:
        count(min(0.4 * labels, 2.0), f"统计表栏目{labels}项")
    else:
        reasons.append("无统计表栏目")
    if _PERIOD.search(norm):
        count(0.5, "统计期限1月1日至12月31日")
    chinese, latin = _letters(norm)
    if chinese < _MIN_CHINESE:
        count(-2.0, f"篇幅仅{chinese}字")
    elif chinese >= 3 * _MIN_CHINESE:
        count(0.5, f"篇幅{chinese}字")
    # English or code all through; a report followed by its English translation opens in Chinese
    if chinese < _MIN_CHINESE_SHARE * (chinese + latin) and not _mostly_chinese(norm[:_OPENING]):
        count(-8.0, f"像英文或代码（汉字仅占{100 * chinese // (chinese + latin)}%）")
    for kind in dict.fromkeys(label for words, label in _OTHER_KINDS if words.search(norm)):
        count(-4.0, f"像{kind}")
    return GateResult(round(score, 2), score >= THRESHOLD, reasons)
