"""The one text rule: page-break joins, CJK/digit spacing, width forms, and the offset map.

indexer.normalize computes it with numpy and a regular expression, learning each character
once; tests/normalize_oracle.py writes it a character at a time. Every text here goes through
both, and text and map must be equal.
"""

import bisect
import random
import unicodedata
from pathlib import Path

import pytest

from indexer.normalize import normalize, normalize_with_map, source_map
from tests import normalize_oracle as oracle
from tests.conftest import CORPUS

DATA = Path(__file__).parent / "data"
REAL = [p for d in (CORPUS, DATA / "realworld", DATA / "realworld_shared") for p in sorted(d.glob("*.txt"))]

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
    ("㈠主动公开 ﬁle", "(一)主动公开file"),  # one character becomes several
]

TRICKY = [
    "",
    "  \n\n ",
    "open  data 政府\n\n信息公开 2018 年 活动 24 次",
    "（一）【2020】①②… ＡＢＣ　全角空格\u00a0不换行\u200b零宽\ufeff",
    "e\u0301 café ﬁ ㈠ ㍿ 𝐀𝐁 x\u3000y",
    "¨ a\u00a8b ﬁ\u00ad\u200e x",  # a diaeresis whose NFKC form begins with a space
    "plain ascii only, already normalised",
    "已经规范的中文文本没有全角标点",
]


def assert_as_oracle(text: str) -> None:
    expected, source = oracle.normalize_with_map(text)
    assert normalize(text) == expected, repr(text[:80])
    mapped = normalize_with_map(text)
    assert mapped.text == expected, repr(text[:80])
    assert mapped.source.tolist() == source, repr(text[:80])
    assert source_map(text, expected).tolist() == source, repr(text[:80])  # from the stored text alone


@pytest.mark.parametrize("raw, expected", CASES)
def test_normalize_cases(raw, expected):
    assert normalize(raw) == expected
    assert oracle.normalize(raw) == expected
    assert_as_oracle(raw)


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


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_texts_as_the_oracle(text):
    assert_as_oracle(text)


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_reports_as_the_oracle(path):
    text = path.read_text(encoding="utf-8")
    assert_as_oracle(text)
    for line in text.splitlines():  # lines are normalised (and remembered) one by one too
        assert normalize(line) == oracle.normalize(line), repr(line)


def test_random_mixtures_as_the_oracle():
    """Short and long texts of characters that stay, change one for one, become several or
    none, and gaps between words and between ideographs; lengths either side of where lines are
    remembered (200) and where gaps are closed as arrays (normalize._LONG)."""
    rng = random.Random(5)
    mixed = "政府信息公开ab1 \n\t\u3000（）①…ﬁ\u00a0\u200bÅ㍿㈠ＡＢ，：e\u0301\u00ad\u200e¨"
    one_for_one = "政府信息公开ab1 \n\t\u3000（）①\u00a0\u200bÅＡＢ，："
    for size in [0, 1, 2, 5, 40, 199, 200, 201, 700, 1999, 2000, 2001, 5000] * 30:
        for alphabet in (mixed, one_for_one):
            assert_as_oracle("".join(rng.choice(alphabet) for _ in range(size)))


def test_every_code_point_as_the_oracle():
    """What NFKC makes of each character of Unicode, and whether it is a gap, are the oracle's."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    for block in range(0, len(chars), 1 << 16):
        assert_as_oracle("".join(f"a{c}" for c in chars[block:block + (1 << 16)]) + "a")


def test_spaces_beside_every_kind_of_character_as_the_oracle():
    """Whether a space survives beside a character (a word's letter or digit, once NFKC has made
    it ASCII or kept it, below U+2E80) is the oracle's: every character of the Basic Multilingual
    Plane, and every other that NFKC changes (𝐀 is A)."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000
             and (c < 0x10000 or unicodedata.normalize("NFKC", chr(c)) != chr(c))]
    for block in range(0, len(chars), 1 << 14):
        assert_as_oracle("".join(f"a{c} b {c}a" for c in chars[block:block + (1 << 14)]))


@pytest.mark.parametrize("path", REAL[:5], ids=lambda p: p.name)
def test_sections_found_in_the_normalised_text(path):
    """A section's bounds in the normalised text: the first normalised character at or after
    each end in the original, as the oracle's map says."""
    from indexer.parse import parse_report

    text = path.read_text(encoding="utf-8")
    for variant in (text, text.replace("\n", " \n ").replace("。", "。 a 1 ")):  # more gaps, more words
        sections = parse_report(variant).sections
        _, source = oracle.normalize_with_map(variant)
        expected = [(bisect.bisect_left(source, s.start), bisect.bisect_left(source, s.end)) for s in sections]
        assert len(sections) > 1
        assert normalize_with_map(variant).spans_from_source((s.start, s.end) for s in sections) == expected


def test_source_map_of_a_text_stored_under_the_older_rule():
    """Before invisible marks were dropped, the stored normalised text kept them: the map must
    still cover every stored character and stay inside the original text (no IndexError)."""
    text = "政府开放日\u200e活动" * 300
    stored = text  # the older rule left it as it is, marks and all: 300 characters more than now
    source = source_map(text, stored)
    assert len(source) == len(stored) and 0 <= source.min() and source.max() < len(text)
