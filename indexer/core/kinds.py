"""The vocabulary every layer shares: section kinds, table templates and editions, their Chinese
labels, and the value that asks for an unknown field.

One map per idea, so the parser, the statistics, the exports, the report list and the report page
name a template or an edition the same way.
"""

from __future__ import annotations

# The one list of section kinds: key → Chinese label shown to users.
SECTION_KINDS: dict[str, str] = {
    "overview": "总体情况",
    "proactive": "主动公开",
    "requests": "依申请公开",
    "review_litigation": "行政复议和行政诉讼",
    "fees": "收费及减免",
    "interpretation": "政策解读",
    "responses": "回应关切",
    "problems": "存在的主要问题及改进情况",
    "plans": "下一步工作",
    "other": "其他",
}

# Table templates: the 2019 revision's tables (国办公开办函〔2019〕60号, from the 2019 reports on),
# the single table before it, and the by-information-type table some 安徽 agencies printed.
NEW, OLD, BYTYPE = "new", "old", "bytype"
# Editions of the new template: 2019, and 2021 (国办公开办函〔2021〕30号, from the 2021 reports on).
# A report's `edition` is one of these or OLD.
EDITION_2019, EDITION_2021 = "2019", "2021"

TEMPLATE_LABELS: dict[str, str] = {NEW: "2019 年后模板", OLD: "旧模板"}
EDITION_LABELS: dict[str, str] = {EDITION_2019: "2019 版", EDITION_2021: "2021 版", OLD: "旧模板"}

UNKNOWN = "未识别"
UNKNOWN_VALUES = (UNKNOWN, "unknown")
"""A filter value selecting the reports whose field is unknown."""


def template_label(template: str | None, unknown: str | None = "模板不详") -> str | None:
    """A table template in words (the data says new / old); `unknown` where there is none."""
    return TEMPLATE_LABELS.get(template, template) if template else unknown


def edition_label(edition: str | None, unknown: str | None = UNKNOWN) -> str | None:
    """An edition in words (2019 版, 2021 版, 旧模板); `unknown` where there is none."""
    return EDITION_LABELS.get(edition, edition) if edition else unknown


def wants_unknown(value: str | None) -> bool:
    """A filter value asking for the reports whose field is unknown."""
    return value is not None and value.strip().lower() in UNKNOWN_VALUES
