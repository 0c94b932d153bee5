"""Sections on the layouts real reports come in: whole reports on one line, old-template wording,
other numbering styles, headings ending in 。, and PDF lines that a ruled table's grid covered.

The texts are real reports (tests/data/realworld_shared, copied from /work/shared/realworld) and
excerpts of real published reports quoted below with their addresses. Where a layout is made
from a real report (its headings renumbered), the test says so.
"""

import json
import re
from pathlib import Path

import pytest

from indexer.parse.sections import is_table_row, split_paragraphs, split_sections

REALWORLD = Path(__file__).parent / "data" / "realworld_shared"
MANIFEST = json.loads((REALWORLD / "manifest.json").read_text(encoding="utf-8"))


def realworld(name: str) -> str:
    return (REALWORLD / name).read_text(encoding="utf-8")


def numbered(text: str) -> list:
    return [s for s in split_sections(text) if s.number > 0]


def kinds(text: str) -> list[str]:
    return [s.kind for s in numbered(text)]


def problems(text: str):
    return next(s for s in split_sections(text) if s.kind == "problems")


# Complete reports in the real set: (file, kinds, first words of the problems section's body).
COMPLETE = {
    "009_pingtanxian2011.txt": (["overview", "proactive", "requests", "problems"], "目前，我县在政府信息公开工作的开展中"),
    "029_pingtan2019.txt": (["overview", "proactive", "requests", "review_litigation", "problems", "other"],
                            "2019年，我区政府信息公开工作取得了明显进展"),
    "035_guihuaping2020.txt": (["overview", "proactive", "requests", "review_litigation", "problems", "other"],
                               "2020年,街道政府信息公开工作在肯定成绩的同时"),
    "017_pingtands2013.txt": (["overview", "proactive", "requests", "other", "review_litigation", "other"], None),
}


def test_every_complete_real_report_agrees_with_its_gold_problems_section():
    complete = [r for r in MANIFEST if not r["partial"]]
    assert {r["file"] for r in complete} == set(COMPLETE)
    for record in complete:
        found = any(s.kind == "problems" for s in split_sections(realworld(record["file"])))
        assert found == record["gold"]["has_problems_section"], record["file"]


@pytest.mark.parametrize("name", COMPLETE)
def test_complete_real_reports(name):
    text = realworld(name)
    expected_kinds, problems_start = COMPLETE[name]
    assert kinds(text) == expected_kinds
    if problems_start:
        section = problems(text)
        body = text[section.start + len(section.heading):section.end].strip()
        assert body.startswith(problems_start)
        assert section.heading.endswith(("存在的主要问题及改进情况"))


def test_a_whole_report_on_one_line_splits_at_its_run_in_headings():
    """009 and 029 are saved pages flattened to a single line; headings run into their bodies."""
    text = realworld("029_pingtan2019.txt")
    assert "\n" not in text.strip()
    sections = numbered(text)
    assert [s.heading for s in sections] == [
        "一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]
    # 三、 follows a flattened table cell (`…32.52元三、收到和处理…`), not a sentence's end.
    assert text[sections[2].start - 1] == "元"
    # The flattened table's `四、结转下年度继续办理` is a row, not the fourth heading.
    assert "结转下年度" not in sections[2].heading and "结转下年度继续办理" in sections[2].text


def test_the_flattened_statistics_appendix_is_not_part_of_the_problems_section():
    text = realworld("009_pingtanxian2011.txt")
    section = problems(text)
    assert "统计表" not in section.text and section.text.rstrip().endswith("二○一二年二月二十日")
    assert split_sections(text)[-1].heading.startswith("附件1：")


# http://180.76.149.248:88/book/dzs/shenji/files/basic-html/page9.html (page 9 of a PDF report)
SHENJI_PAGE = """四、结转下年度继续办理 0 0 0 0 0 0 0
四、政府信息公开行政复议、行政诉讼情况
2020 年,我单位对形成的政府信息实现了依法、有序公开,
未出现申请行政复议、提起行政诉讼的情况。
行政复议 行政诉讼
0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
五、存在的主要问题及改进情况
2020 年,在区政府及上级主管部门的大力指导支持和我局
各科室的全力配合协作下,我局政务公开和政府信息公开工作取
得了一些成绩,但仍存在着一些短板和不足,如政务公开内容、
创新方式、开展政府开放日活动方面有待提升。
"""


def test_a_numbered_table_row_is_not_taken_for_the_heading_it_shares_a_number_with():
    head = "一、总体情况\n概况。\n二、主动公开政府信息情况\n三、收到和处理政府信息公开申请情况\n"
    sections = numbered(head + SHENJI_PAGE)
    assert [s.heading for s in sections[3:]] == ["四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况"]
    assert "结转下年度继续办理" in sections[2].text


# Old-template wording. https://ht.sanya.gov.cn/htqsite/xxgknb/201701/dd9b95f6f19146ce81776f6becbb9b61.shtml
SANYA_2015 = """三亚市海棠区人民政府
2015年政府信息公开工作年度报告
一、主动公开政府信息情况
截止2015年12月31日,通过“中国三亚”门户网站主动公开政府信息23条。
二、依申请公开政府信息办理情况
全年未收到或其他形式要求公开政府信息的申请。
三、存在的困难和问题
2015年政府信息公开工作中存在的主要问题为:个别单位对政府信息公开工作重要性认识不足。
四、改进措施
今后,我区将重点从三个方面做好政府信息公开工作。
"""
# https://www.xjbl.gov.cn/info/1037/6799.htm: a space after the numeral's 、
XJBL = """三、依申请公开政府信息情况
(一)申请情况
无
(三)、因政府信息公开申请行政复议、提起行政诉讼的情况
无
五、 存在问题
政府信息公开工作开展以来,虽然取得了初步成效,但由于刚刚起步,在具体推进过程中,还存在一些问题。
六、 改进措施
下一步,我局将按照上级和市委、市政府有关信息公开的各项要求和目标,进一步提高认识。
"""
# http://www.jinxiang.gov.cn/module/xxgk/xxgkAnnualReport.jsp?area=11370828004431350G&fbtime=2009
JINXIANG_2009 = """金乡县水务局2009年政府信息公开工作年度报告
一、概述
2009年,我局认真贯彻落实上级关于政府信息公开工作的有关要求。
二、主动公开政府信息情况
(一)主动公开政府信息的数量。2009年我局主动公开信息共42条。
三、因政府信息公开申请行政复议、提起行政诉讼的情况
2009年未发生有关政府信息公开申请的行政复议、行政诉讼情况。
四、政府信息公开收费及减免情况
我局政务信息公开未收取任何费用。
五、政府信息公开工作存在的主要问题和改进情况
(一)存在主要问题。我局政府信息公开工作从总体来看,运行状况较好,但是也有一些不足。
六、其他需要报告的事项
无其他需要报告的事项。
"""
# https://m.wnwk.com/doc/570686.html: an old-template report saved as one line
WNWK = ("现将我局201x年度政府信息公开年度报告如下。 一、主动公开政府信息情况县招投标局201x年全年主动公开政府信息302条。"
        " 二、申请公开政府信息办理情况我局对外公布了申请 、邮箱以及接待股室,一年来,我局暂未收到公开申请。"
        " 三、政府信息公开的收费及减免情况201x年度未受理依申请公开信息,未收费。"
        " 四、因政府信息公开申请行政复议、提请诉讼情况201x年度我局未出现政府信息公开行政复议和行政诉讼情况。"
        " 五、存在的主要问题201x年,我局政府信息公开工作在具体实践中,仍存在一些问题。"
        " 六、今后改进方向1、全面落实公开内容。")


@pytest.mark.parametrize("text, expected, problems_heading", [
    (SANYA_2015, ["proactive", "requests", "problems", "problems"], "三、存在的困难和问题"),
    (JINXIANG_2009, ["overview", "proactive", "review_litigation", "fees", "problems", "other"],
     "五、政府信息公开工作存在的主要问题和改进情况"),
    (WNWK, ["proactive", "requests", "fees", "review_litigation", "problems", "problems"], "五、存在的主要问题"),
])
def test_old_template_wording(text, expected, problems_heading):
    assert kinds(text) == expected
    assert problems(text).heading == problems_heading


def test_a_report_excerpt_that_starts_at_its_third_section_has_no_outline_but_keeps_its_text():
    """XJBL starts mid-report at 三、: there is no 一、 or 二、 before it to anchor a sequence."""
    assert numbered(XJBL) == [] and split_sections(XJBL)[0].text == XJBL


@pytest.mark.parametrize("heading", ["五、存在的问题与不足", "五、存在的不足和改进措施", "五、存在问题及下一步打算",
                                     "五、主要问题和改进措施", "五、存在的主要问题和改进措施", "五、工作中存在的问题",
                                     "五、政府信息公开工作存在的主要问题及改进情况", "五、 存在问题"])
def test_problems_heading_wordings(heading):
    text = "一、总体情况\n概况。\n二、主动公开政府信息情况\n三、依申请公开情况\n四、行政复议情况\n" + heading + "\n改进。\n"
    assert kinds(text)[-1] == "problems"


# Layouts made from a real report (035, headings on their own lines) by writing its six headings
# as other reports do: the real text between them is unchanged.
HEADING = re.compile(r"^([一二三四五六])、(.+)$", re.M)
CN = "一二三四五六"


@pytest.mark.parametrize("layout, rewrite", [
    ("ends in 。 (as the 2021 format notice writes them)", lambda n, t: f"{CN[n - 1]}、{t}。"),
    ("（五）", lambda n, t: f"（{CN[n - 1]}）{t}"),
    ("第五部分", lambda n, t: f"第{CN[n - 1]}部分 {t}"),
    ("5.", lambda n, t: f"{n}. {t}"),
    ("五 、 with spaces", lambda n, t: f"{CN[n - 1]} 、 {t}"),
    ("PDF line a ruled table's grid covered", lambda n, t: f"{CN[n - 1]}、{t}\t\t"),
    ("PDF line with an empty cell before it", lambda n, t: f"\t{CN[n - 1]}、{t}\t"),
])
def test_numbering_styles_on_a_real_report(layout, rewrite):
    original = realworld("035_guihuaping2020.txt")
    text = HEADING.sub(lambda m: rewrite(CN.index(m.group(1)) + 1, m.group(2)), original)
    assert text != original
    assert kinds(text) == ["overview", "proactive", "requests", "review_litigation", "problems", "other"], layout
    section = problems(text)
    assert "存在的主要问题及改进情况" in section.heading
    assert section.text.split("\n", 1)[1].strip().startswith("2020年,街道政府信息公开工作在肯定成绩的同时")


def test_prose_lines_a_table_grid_covered_stay_prose_and_table_rows_stay_rows():
    original = realworld("035_guihuaping2020.txt")
    text = "\n".join(line + "\t\t" if line.strip() else line for line in original.splitlines())
    section = problems(text)
    assert [p.kind for p in section.paragraphs] == ["prose", "prose"]
    assert section.paragraphs[0].text.startswith("2020年,街道政府信息公开工作")
    assert is_table_row("四、结转下年度继续办理\t0\t0\t0")
    assert is_table_row("三、本年度办理结果\t\t\t")
    assert not is_table_row("针对以上不足,2021年桂花坪街道政府信息公开工作将始终坚持以维护群众利益为导向,发挥新媒体优势作用。\t\t")


def test_first_heading_turned_into_a_list_item_by_the_page():
    """033's page shows its first heading as `1. 总体情况` and the rest as 二、三、…"""
    sections = numbered(realworld("033_zhenning2019.txt"))
    assert [(s.kind, s.heading) for s in sections] == [("overview", "1.总体情况"), ("proactive", "二、主动公开情况")]


def test_a_table_of_contents_in_the_preamble_is_not_the_outline():
    text = ("全文包括：一、总体情况；二、主动公开政府信息情况；三、存在的主要问题及改进情况。\n"
            "一、总体情况\n本年度。\n二、主动公开政府信息情况\n共公开。\n三、存在的主要问题及改进情况\n不足。\n")
    sections = numbered(text)
    assert [s.start for s in sections] == [m.start() for m in re.finditer(r"^[一二三]、", text, re.M)]


def test_sub_items_numbered_like_a_fallback_style_do_not_replace_the_outline():
    """A partial page with only 一、 keeps its （一）（二） items inside the overview."""
    text = realworld("013_shanxi2012.txt")
    assert kinds(text) == ["overview"]
    assert "(一)" in numbered(text)[0].text


def test_paragraphs_of_a_run_in_section_start_after_the_heading():
    text = realworld("029_pingtan2019.txt")
    section = problems(text)
    first = split_paragraphs(text[section.start:section.end], section.start)[0]
    assert first.text.startswith("五、存在的主要问题及改进情况")
    assert section.paragraphs[0].text.startswith("2019年，我区政府信息公开工作")


def test_parts_number_the_outline_and_their_items_stay_inside():
    """Reports divided into 第一部分… number their items 一、二、; those items are not sections."""
    text = ("第一部分 总体情况\n一、组织领导\n成立领导小组。\n二、制度建设\n修订制度。\n"
            "第二部分 主动公开政府信息情况\n一、公开数量\n共公开120条。\n二、公开渠道\n网站。\n三、政策解读\n解读5件。\n"
            "第三部分 存在的主要问题及改进情况\n一、存在的问题\n公开不及时。\n")
    assert [(s.kind, s.heading) for s in numbered(text)] == [
        ("overview", "第一部分 总体情况"), ("proactive", "第二部分 主动公开政府信息情况"),
        ("problems", "第三部分 存在的主要问题及改进情况")]


def test_a_problems_heading_the_outline_forgot_to_number():
    """青海省邮政管理局 2017 (tests/data/realworld/281): 一、…五、 numbered, then a bare line
    `主要问题和改进措施`. Only a line that is nothing but a problems title, after the last numbered
    heading, and only where no numbered heading is the problems section."""
    text = (Path(__file__).parent / "data" / "realworld" / "281_qhyzglj2017.txt").read_text(encoding="utf-8")
    sections = split_sections(text)
    assert [s.kind for s in sections if s.number > 0] == ["overview", "proactive", "requests", "fees", "review_litigation",
                                                          "problems"]
    assert problems(text).paragraphs[0].text.startswith("2017年,青海省邮政管理局政府信息公开工作虽然取得了一定的成效")
    numbered_too = "一、概述\n正文。\n二、存在的主要问题及改进情况\n人员不足。\n主要问题\n宣传不够。\n"
    assert kinds(numbered_too) == ["overview", "problems"]
    in_a_sentence = "一、概述\n正文。\n二、主动公开情况\n正文。\n我们的主要问题和改进措施如下。\n"
    assert kinds(in_a_sentence) == ["overview", "proactive"]


def test_a_problems_heading_after_a_gap_in_the_numbering():
    """外海街道 2008 (tests/data/realworld/640): the page lost 四 and 五, so `三、…` is followed by
    `六、政府信息公开工作存在的主要问题` on one line; the outline stops at 三 but the problems section is kept."""
    text = (Path(__file__).parent / "data" / "realworld" / "640_waihai2008.txt").read_text(encoding="utf-8")
    assert problems(text).heading == "六、政府信息公开工作存在的主要问题"
    assert problems(text).paragraphs[0].text.startswith("2008年,街道办事处通过大力开展政府信息公开工作")
