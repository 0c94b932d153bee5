"""The one text rule: page-break joins, CJK/digit spacing, width forms, and the offset map."""

import pytest

from indexer.normalize import normalize, normalize_with_map

CASES = [
    ("指导、协调、监\n\n督政务公开工作", "指导、协调、监督政务公开工作"),
    ("灵武防\n\n疫", "灵武防疫"),
    ("机关事\n\n务局", "机关事务局"),
    ("政府\n\n信息公开", "政府信息公开"),
    ("活动 24 次", "活动24次"),
    ("2018 年", "2018年"),
    ("统 计 指 标", "统计指标"),
    ("（一）", "(一)"),
    ("【2020】", "【2020】"),
    ("ＡＢＣ１２３", "ABC123"),
    ("open   data\nportal", "open data portal"),
    ("\ufeff政务\u200b公开\u3000工作", "政务公开工作"),
    ("政府开放日\u200e", "政府开放日"),  # pasted from a web page with a left-to-right mark
    ("\u202e政府\u2066开放日\u2069", "政府开放日"),
    ("infor\u00admation open\u200e data", "information open data"),  # soft hyphen: no space left
    ("政务公开 ", "政务公开"),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_normalize_cases(raw, expected):
    assert normalize(raw) == expected
    assert normalize_with_map(raw).text == expected


@pytest.mark.parametrize("raw, _", CASES)
def test_offset_map_points_back_to_the_original(raw, _):
    norm = normalize_with_map(raw)
    assert len(norm.source) == len(norm.text)
    assert all(a <= b for a, b in zip(norm.source, norm.source[1:]))  # in order (NFKC may expand one into several)
    for i, char in enumerate(norm.text):
        original = raw[norm.source[i]]
        # A character points at the one it came from; only a kept space points at a dropped gap.
        assert char in normalize(original) or (char == " " and normalize(original) == ""), (raw, i)


def test_span_maps_a_page_broken_match_to_the_original():
    raw = "协调、监\n\n督政务公开工作"
    norm = normalize_with_map(raw)
    start = norm.text.index("监督政务")
    a, b = norm.span_to_source(start, start + 4)
    assert raw[a:b] == "监\n\n督政务"


def test_expansion_keeps_the_map_aligned():
    raw = "㈠主动公开"
    norm = normalize_with_map(raw)
    assert norm.text == "(一)主动公开"
    a, b = norm.span_to_source(norm.text.index("主动"), norm.text.index("主动") + 2)
    assert raw[a:b] == "主动"


def test_sample_reports_normalise_identically_both_ways(corpus_dir):
    for path in corpus_dir.glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        assert normalize(text) == normalize_with_map(text).text
