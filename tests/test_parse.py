"""Metadata and sections of the five samples."""

import pytest

from indexer.parse import parse_report
from indexer.parse.metadata import resolve_region
from indexer.core.kinds import SECTION_KINDS
from indexer.parse.sections import classify_heading, split_paragraphs
from tests.conftest import sample_text

EXPECTED = {
    "lingwu_commerce_2018": ("灵武市商务和经济技术合作局", 2018, ("宁夏回族自治区", "银川市", "灵武市"), "old"),
    "guyuan_2019": ("固原市经济技术合作局", 2019, ("宁夏回族自治区", "固原市", None), "new"),
    "huaibei_2018": ("淮北市商务局", 2018, ("安徽省", "淮北市", None), "old"),
    "lingwu_gov_2020": ("灵武市人民政府", 2020, ("宁夏回族自治区", "银川市", "灵武市"), "new"),
    "shapotou_2018": ("沙坡头区机关事务局", 2018, ("宁夏回族自治区", "中卫市", "沙坡头区"), "old"),
}


@pytest.mark.parametrize("key", EXPECTED)
def test_metadata(key):
    agency, year, region, template = EXPECTED[key]
    meta = parse_report(sample_text(key)).metadata
    assert (meta.agency, meta.year, (meta.province, meta.city, meta.county), meta.template) == (agency, year, region, template)
    assert "报告" in meta.title and str(year) in meta.title


def test_ambiguous_place_is_not_guessed():
    assert resolve_region("朝阳区教育局")[:3] == (None, None, None)
    # 直辖市: the municipality is the province, and the city of its districts (the manifest gold)
    assert resolve_region("朝阳区教育局", "北京市朝阳区教育局")[:3] == ("北京市", "北京市", "朝阳区")
    assert resolve_region("某某委员会")[:3] == (None, None, None)


def test_unknown_fields_are_null():
    meta = parse_report("关于加强管理的若干意见\n\n各单位要认真落实。").metadata
    assert (meta.title, meta.year, meta.province, meta.template) == (None, None, None, None)


@pytest.mark.parametrize("key, kinds", [
    ("lingwu_commerce_2018", ["overview", "proactive", "other", "other", "interpretation", "responses", "requests",
                              "other", "problems", "plans", "other"]),
    ("guyuan_2019", ["overview", "proactive", "requests", "review_litigation", "problems", "other"]),
    ("huaibei_2018", ["overview", "proactive", "requests", "fees", "review_litigation", "plans"]),
    ("lingwu_gov_2020", ["overview", "proactive", "requests", "review_litigation", "problems", "other"]),
    ("shapotou_2018", ["overview", "interpretation", "responses", "requests", "fees", "review_litigation", "other",
                       "other", "other", "problems", "other", "other"]),
])
def test_section_kinds(key, kinds):
    sections = [s for s in parse_report(sample_text(key)).sections if s.number != 0]
    assert [s.kind for s in sections] == kinds
    assert all(s.kind in SECTION_KINDS for s in sections)


def test_four_samples_have_a_problems_section_and_huaibei_none():
    with_problems = {k for k in EXPECTED if any(s.kind == "problems" for s in parse_report(sample_text(k)).sections)}
    assert with_problems == {"lingwu_commerce_2018", "guyuan_2019", "lingwu_gov_2020", "shapotou_2018"}


def test_table_rows_are_not_headings_and_stay_apart_from_prose():
    sections = parse_report(sample_text("lingwu_gov_2020")).sections
    requests = next(s for s in sections if s.kind == "requests")
    assert any(p.kind == "table" and "本年新收" in p.text for p in requests.paragraphs)
    assert not any(s.heading.startswith("四、结转") for s in sections)
    problems = next(s for s in sections if s.kind == "problems")
    assert all(p.kind == "prose" for p in problems.paragraphs)


def test_appendix_table_does_not_swallow_into_problems():
    sections = parse_report(sample_text("shapotou_2018")).sections
    problems = next(s for s in sections if s.kind == "problems")
    assert "统计表" not in problems.text
    assert "附件" in sections[-1].heading


def test_paragraph_broken_by_a_page_break_is_repaired():
    text = "机关事务局按照要求，对由机关事务局签发的文件按要求提出\n\n保密性审查意见，该公开的公开。\n\n（二）结合部门职能\n\n1、严把文件公开属性关。"
    paragraphs = split_paragraphs(text)
    assert [p.text for p in paragraphs] == [
        "机关事务局按照要求，对由机关事务局签发的文件按要求提出保密性审查意见，该公开的公开。",
        "（二）结合部门职能",
        "1、严把文件公开属性关。",
    ]
    assert text[paragraphs[0].start:paragraphs[0].end].startswith("机关事务局按照要求")


@pytest.mark.parametrize("sample, start, end", [
    ("lingwu_gov_2020", "3. 积极开展“政府开放日”活动。2020年，共组织开展", "“政府开放日”活动 24 次"),
    ("shapotou_2018", "二是加强信息化制度建设。进一步细化局机关公开事项，", "实行单位主要负责人审查制度"),
])
def test_numbered_line_holding_a_sentence_runs_on_across_a_page_break(sample, start, end):
    text = sample_text(sample)
    paragraph = next(p for p in split_paragraphs(text) if p.text.startswith(start))
    assert end in paragraph.text


@pytest.mark.parametrize("heading, kind", [
    ("五、存在的主要问题及改进情况", "problems"),
    ("十、存在问题及下一步打算", "problems"),
    ("九、2018 年推进政务公开存在的问题与不足", "problems"),
    ("六、明年政务公开工作思路", "plans"),
    ("五、因政府信息公开申请行政复议、提起行政诉讼的情况", "review_litigation"),
    ("三、收到和处理政府信息公开申请情况", "requests"),
    ("四、政府信息公开的收费及减免情况", "fees"),
    ("二、开展政策解读情况", "interpretation"),
    ("三、回应社会关切情况", "responses"),
    ("二、主动公开政府信息情况", "proactive"),
])
def test_heading_variants(heading, kind):
    assert classify_heading(heading, 3) == kind
