"""The 2021 edition of the tables (国办公开办函〔2021〕30号) in every layout reports come in: PDF
tab rows, Word tables (tab rows after ingest), and saved web pages that print `| a | b |` rows,
one cell per line, or flatten the whole table into one line; edition detection on real texts."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from indexer.stats import detect_edition, detect_template, edition_of, extract_stats, run_checks, to_json
from indexer.stats.indicators import definitions
from indexer.stats.stream import NOTE_RUN_TOGETHER

REALWORLD = Path(__file__).parent / "data" / "realworld_shared"
CORPUS = Path(__file__).parent.parent / "corpus"

# The numbers of 长春市净月区（体育局）2023 report as published, as far as the stored page shows them:
# http://js.changchun.gov.cn/zcbm/styjrswj/ndbg/202401/t20240115_3271106.html
# (第二十条 tables all 0; 本年新收 3 0 0 0 0 0 3; 上年结转 all 0), with 行政规范性文件 3 0 101 from
# 徐闻县 2023 (http://www.xuwen.gov.cn/zfxxgk/zjsxwxsfj/content/post_1865610.html). The rows past the
# stored excerpts (办理结果, 复议) are filled in by us, consistent with those totals.
ART20 = [
    ["第二十条第（一）项"],
    ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
    ["规章", "0", "0", "0"],
    ["行政规范性文件", "3", "0", "101"],
    ["第二十条第（五）项"],
    ["信息内容", "本年处理决定数量"],
    ["行政许可", "0"],
    ["第二十条第（六）项"],
    ["信息内容", "本年处理决定数量"],
    ["行政处罚", "0"],
    ["行政强制", "0"],
    ["第二十条第（八）项"],
    ["信息内容", "本年收费金额（单位：万元）"],
    ["行政事业性收费", "0"],
]
ART20_VALUES = {
    "rules.issued": 0, "rules.repealed": 0, "rules.in_force": 0,
    "normative_docs.issued": 3, "normative_docs.repealed": 0, "normative_docs.in_force": 101,
    "admin_license.decisions": 0, "admin_penalty.decisions": 0, "admin_coercion.decisions": 0, "admin_fees.amount": 0,
}
ZERO = [0] * 7
REQUESTS = [  # (printed cells before the values, key, values)
    (["一、本年新收政府信息公开申请数量"], "new", [3, 0, 0, 0, 0, 0, 3]),
    (["二、上年结转政府信息公开申请数量"], "carried_in", ZERO),
    (["三、本年度办理结果", "（一）予以公开"], "disclosed", [1, 0, 0, 0, 0, 0, 1]),
    (["（二）部分公开（区分处理的，只计这一情形，不计其他情形）"], "partial", ZERO),
    (["（三）不予公开", "1.属于国家秘密"], "withheld.state_secret", ZERO),
    (["", "2.其他法律行政法规禁止公开"], "withheld.other_law", ZERO),
    (["", "3.危及“三安全一稳定”"], "withheld.security_stability", ZERO),
    (["", "4.保护第三方合法权益"], "withheld.third_party", ZERO),
    (["", "5.属于三类内部事务信息"], "withheld.internal_affairs", ZERO),
    (["", "6.属于四类过程性信息"], "withheld.process_info", ZERO),
    (["", "7.属于行政执法案卷"], "withheld.enforcement_files", ZERO),
    (["", "8.属于行政查询事项"], "withheld.admin_query", ZERO),
    (["（四）无法提供", "1.本机关不掌握相关政府信息"], "unavailable.not_held", [1, 0, 0, 0, 0, 0, 1]),
    (["", "2.没有现成信息需要另行制作"], "unavailable.needs_creation", ZERO),
    (["", "3.补正后申请内容仍不明确"], "unavailable.unclear", ZERO),
    (["（五）不予处理", "1.信访举报投诉类申请"], "not_processed.petition", ZERO),
    (["", "2.重复申请"], "not_processed.repeat", ZERO),
    (["", "3.要求提供公开出版物"], "not_processed.publication", ZERO),
    (["", "4.无正当理由大量反复申请"], "not_processed.mass_repeat", ZERO),
    (["", "5.要求行政机关确认或重新出具已获取信息"], "not_processed.confirm", ZERO),
    (["（六）其他处理", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"],
     "other.overdue_correction", [1, 0, 0, 0, 0, 0, 1]),
    (["", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"], "other.overdue_fee", ZERO),
    (["", "3.其他"], "other.misc", ZERO),
    (["（七）总计"], "total", [3, 0, 0, 0, 0, 0, 3]),
    (["四、结转下年度继续办理"], "carried_over", ZERO),
]
COLUMNS = ("natural_person", "commercial", "research", "public_interest", "legal_service", "other", "total")
REVIEW_VALUES = [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
REVIEW_KEYS = [f"{p}.{k}" for p in ("new.review", "new.litigation.direct", "new.litigation.after_review")
               for k in ("upheld", "corrected", "other", "pending", "total")]

EXPECTED = {
    **{f"new.art20.{k}": v for k, v in ART20_VALUES.items()},
    **{f"new.requests.{key}.{col}": v for _, key, values in REQUESTS for col, v in zip(COLUMNS, values)},
    **dict(zip(REVIEW_KEYS, REVIEW_VALUES)),
}


def table_rows() -> list[list[str]]:
    """The three tables as the format prints them, one list of cells per printed row."""
    return [
        *ART20,
        ["三、收到和处理政府信息公开申请情况"],
        ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况"],
        ["自然人", "法人或其他组织", "总计"],
        ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"],
        *([*label, *map(str, values)] for label, _, values in REQUESTS),
        ["四、政府信息公开行政复议、行政诉讼情况"],
        ["行政复议", "行政诉讼"],
        ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "未经复议直接起诉", "复议后起诉"],
        ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2,
        list(map(str, REVIEW_VALUES)),
    ]


INTRO = "某局2023年政府信息公开工作年度报告\n一、总体情况\n2023年，我局主动公开政府信息34条。\n二、主动公开政府信息情况\n"
OUTRO = "\n五、存在的主要问题及改进情况\n我局政府信息公开工作仍有不足，下一步将继续改进。\n"


def layout(kind: str) -> str:
    rows = table_rows()
    if kind == "pdf tabs":
        lines = ["\t".join(row) if len(row) > 1 else row[0] for row in rows]
    elif kind == "pipe rows":  # | a | b | (Changchun's page)
        lines = ["| " + " | ".join(row) + " |" for row in rows]
    elif kind == "cell per line":  # `a |` (Xi'an 61.150.65.235's page)
        lines = [f"{cell} |" for row in rows for cell in row]
    elif kind == "blank lines":  # cells between blank lines (Gaoling's page)
        lines = [f"{cell}\n" for row in rows for cell in row if cell]
    else:  # "flattened": the whole page one line, as crawled page text keeps it
        return (INTRO + "".join(cell for row in rows for cell in row) + OUTRO).replace("\n", "")
    return INTRO + "\n".join(lines) + OUTRO


def values(result) -> dict:
    return {ind.key: ind.value for ind in result.indicators}


@pytest.mark.parametrize("kind", ["pdf tabs", "pipe rows", "cell per line", "blank lines"])
def test_every_cell_of_the_2021_tables_in_each_layout(kind):
    text = layout(kind)
    assert (detect_template(text), detect_edition(text)) == ("new", "2021")
    result = extract_stats(text)
    assert (result.template, result.edition) == ("new", "2021")
    assert {d.key for d in definitions("new", "2021")} == set(EXPECTED)
    assert result.get("new.art20.normative_docs.in_force").label == "行政规范性文件 / 现行有效件数"
    assert values(result) == EXPECTED
    assert result.unmapped == [] and result.cells_unreadable == 0
    assert run_checks(result, text) == []


def test_page_text_tables_are_read_though_a_stray_line_has_tabs():
    text = "附：第二十条\t执行情况说明\t见下表\n" + layout("cell per line")
    result = extract_stats(text)
    assert result.edition == "2021" and values(result) == EXPECTED


def test_flattened_page_reads_what_the_digits_allow_and_says_why_not_the_rest():
    text = layout("flattened")
    assert "\n" not in text and "行政规范性文件30101第二十条" in text
    result = extract_stats(text)
    assert result.edition == "2021"
    got = values(result)
    # 3, 0, 101 flattened to 30101 could as well be 30, 10, 1: no check tells them apart
    ambiguous = [f"new.art20.normative_docs.{c}" for c in ("issued", "repealed", "in_force")]
    for key in ambiguous:
        assert got[key] is None and result.get(key).note == NOTE_RUN_TOGETHER
    # 3000003: seven digits for seven cells; 1000001 likewise; 总计 = the sum settles longer runs
    assert {k: v for k, v in got.items() if k not in ambiguous} == {k: v for k, v in EXPECTED.items() if k not in ambiguous}
    assert run_checks(result, text) == []


def test_run_together_digits_split_by_the_row_total():
    flat = layout("flattened").replace("一、本年新收政府信息公开申请数量3000003", "一、本年新收政府信息公开申请数量120 000012")
    row = {c: extract_stats(flat).get(f"new.requests.new.{c}").value for c in COLUMNS}
    assert list(row.values()) == [12, 0, 0, 0, 0, 0, 12]


def test_digits_are_split_only_where_flattening_glued_them():
    # a cell lost between separated cells: 3 | 101 could be split 3, 10, 1, but the cells were apart
    text = layout("pipe rows").replace("| 行政规范性文件 | 3 | 0 | 101 |", "| 行政规范性文件 | 3 | 101 |")
    result = extract_stats(text)
    for column in ("issued", "repealed", "in_force"):
        cell = result.get(f"new.art20.normative_docs.{column}")
        assert cell.value is None and "do not line up" in cell.note


def test_empty_cells_of_a_web_table_are_none_with_a_reason():
    # 徐闻县's page leaves a row's zero cells blank: | 一、本年新收政府信息公开申请数量 | 0 | | | | | | 0 |
    text = layout("pipe rows").replace("| 二、上年结转政府信息公开申请数量 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
                                       "| 二、上年结转政府信息公开申请数量 | 0 | | | | | | 0 |")
    result = extract_stats(text)
    assert result.get("new.requests.carried_in.natural_person").value == 0
    cell = result.get("new.requests.carried_in.commercial")
    assert cell.value is None and "empty cell" in cell.note
    assert result.get("new.requests.carried_in.total").value == 0
    # a row left blank with a stray cell more than the columns: empty whichever way it lines up
    blank = text.replace("| 二、上年结转政府信息公开申请数量 | 0 | | | | | | 0 |", "| 二、上年结转政府信息公开申请数量 |" + " |" * 8)
    row = [extract_stats(blank).get(f"new.requests.carried_in.{c}") for c in COLUMNS]
    assert all(cell.value is None and "empty cell" in cell.note for cell in row)


@pytest.mark.parametrize("kind", ["pdf tabs", "pipe rows", "cell per line", "flattened"])
@pytest.mark.parametrize(("key", "value", "check"), [
    ("new.requests.other.misc.natural_person", 1, "new.requests.results_total"),
    ("new.requests.other.overdue_fee.total", 1, "new.requests.row_total"),
    ("new.requests.carried_over.total", 2, "new.requests.balance"),
    ("new.review.total", 2, "new.review.sum"),
])
def test_checks_catch_a_planted_inconsistency(kind, key, value, check):
    result = extract_stats(layout(kind))
    result.get(key).value = value
    assert check in {f.check for f in run_checks(result)}


def test_results_total_is_not_checked_without_any_form_of_other_processing():
    text = "\n".join(line for line in layout("pdf tabs").splitlines() if "其他处理" not in line and "3.其他" not in line
                     and "缴纳费用" not in line)
    result = extract_stats(text)
    result.get("new.requests.total.natural_person").value = 99
    assert "new.requests.results_total" not in {f.check for f in run_checks(result)}


def test_word_table_gives_the_same_cells():
    import docx

    from indexer.ingest import read_report_bytes

    document = docx.Document()
    document.add_paragraph("某局2023年政府信息公开工作年度报告")
    document.add_paragraph("二、主动公开政府信息情况")
    rows = table_rows()
    table = document.add_table(rows=len(rows), cols=max(map(len, rows)))
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            table.cell(r, c).text = cell
    document.add_paragraph("五、存在的主要问题及改进情况")
    out = io.BytesIO()
    document.save(out)
    result = extract_stats(read_report_bytes("r.docx", out.getvalue()))
    assert (result.template, result.edition) == ("new", "2021")
    assert values(result) == EXPECTED


def html_page() -> str:
    """The tables as a web page prints them, with the format's merged cells (rowspan, colspan)."""

    def tr(*cells: str) -> str:
        return "<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in cells) + "</tr>"

    def nums(values) -> list[str]:
        return [str(v) for v in values]

    art20 = "".join(tr(f'<td colspan="4">{row[0]}</td>') if len(row) == 1 else tr(*row) for row in ART20)
    head = (tr('<td colspan="3" rowspan="3">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td>',
               '<td colspan="7">申请人情况</td>')
            + tr('<td rowspan="2">自然人</td>', '<td colspan="5">法人或其他组织</td>', '<td rowspan="2">总计</td>')
            + tr("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"))
    spans = {"三、本年度办理结果": 23, "（三）不予公开": 8, "（四）无法提供": 3, "（五）不予处理": 5, "（六）其他处理": 3}
    body = ""
    for label, _, values in REQUESTS:
        shown = [c for c in label if c]
        if len(shown) == 1 and not shown[0][0].isdigit():
            cells = [f'<td colspan="{3 if shown[0][0] in "一二四" else 2}">{shown[0]}</td>']
        else:
            cells = [f'<td rowspan="{spans[c]}">{c}</td>' if c in spans else c for c in shown]
            if shown[0] == "三、本年度办理结果":
                cells[1] = f'<td colspan="2">{shown[1]}</td>'
        body += tr(*cells, *nums(values))
    review = (tr('<td colspan="5">行政复议</td>', '<td colspan="10">行政诉讼</td>')
              + tr(*(f'<td rowspan="2">{w}</td>' for w in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")),
                   '<td colspan="5">未经复议直接起诉</td>', '<td colspan="5">复议后起诉</td>')
              + tr(*["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2)
              + tr(*nums(REVIEW_VALUES)))
    return ("<html><body><h1>某局2023年政府信息公开工作年度报告</h1><p>二、主动公开政府信息情况</p>"
            f"<table>{art20}</table><p>三、收到和处理政府信息公开申请情况</p><table>{head}{body}</table>"
            f"<p>四、政府信息公开行政复议、行政诉讼情况</p><table>{review}</table>"
            "<p>五、存在的主要问题及改进情况</p></body></html>")


def test_web_page_table_with_merged_cells_gives_the_same_cells():
    from indexer.ingest import read_report_bytes

    text = read_report_bytes("r.html", html_page().encode())
    assert "\t" in text
    result = extract_stats(text)
    assert (result.template, result.edition) == ("new", "2021")
    assert values(result) == EXPECTED and result.unmapped == []


def test_export_and_json_tell_the_editions_apart():
    doc = to_json({"report_id": "x", "source": "x.txt", "agency": None, "year": 2023}, extract_stats(layout("pipe rows")))
    assert doc["edition"] == "2021"
    assert edition_of("new", ["new.requests.new.total"]) is None  # shared rows alone do not tell
    assert edition_of("new", ["new.requests.new.total", "new.art20.rules.made"]) == "2019"
    assert edition_of("old", ["old.staff.total"]) == "old" and edition_of(None, []) is None
    assert edition_of("old", []) is None  # a template known from the year alone shows no edition


# --- real texts ---------------------------------------------------------------------------------


def _manifest() -> dict[str, dict]:
    return {r["file"]: r for r in json.loads((REALWORLD / "manifest.json").read_text(encoding="utf-8"))}


# Which real texts print tables at all: the other 2021-edition files are excerpts that end before them.
WITH_TABLES = {"029_pingtan2019.txt": "2019", "041_tuofenglu2020.txt": "2019",
               "045_zhabu2021.txt": "2021", "053_yichengjyj2022.txt": "2021"}


@pytest.mark.skipif(not REALWORLD.exists(), reason="the real reports are not on this machine")
def test_detect_edition_on_the_real_reports():
    for name, record in _manifest().items():
        text = (REALWORLD / name).read_text(encoding="utf-8")
        gold = record["gold"]["template_edition"]
        if name in WITH_TABLES:
            assert detect_edition(text) == WITH_TABLES[name] == gold, name
        else:
            assert detect_edition(text) is None, name  # no table printed: no evidence, no guess


@pytest.mark.skipif(not REALWORLD.exists(), reason="the real reports are not on this machine")
def test_real_2021_excerpts_read_the_rows_they_print():
    zhabu = extract_stats((REALWORLD / "045_zhabu2021.txt").read_text(encoding="utf-8"))
    assert {k: v for k, v in values(zhabu).items() if v is not None} == {
        "new.art20.rules.issued": 0, "new.art20.rules.repealed": 0, "new.art20.rules.in_force": 0,
        "new.art20.normative_docs.issued": 1, "new.art20.normative_docs.repealed": 0,
        "new.art20.normative_docs.in_force": 1, "new.art20.admin_license.decisions": 0,
    }
    assert all(ind.note for ind in zhabu.indicators if ind.value is None)


@pytest.mark.skipif(not REALWORLD.exists(), reason="the real reports are not on this machine")
def test_real_flattened_2019_page():
    """平潭 2019: the whole page one line; every applications row and the 复议 table split by their
    totals, the 第二十条 rows whose digits could be split more ways than one left unread."""
    text = (REALWORLD / "029_pingtan2019.txt").read_text(encoding="utf-8")
    result = extract_stats(text)
    got = values(result)
    assert [got[f"new.requests.new.{c}"] for c in COLUMNS] == [23, 0, 0, 0, 0, 0, 23]
    assert got["new.requests.disclosed.total"] == 7 and got["new.requests.partial.total"] == 1
    assert got["new.requests.unavailable.not_held.total"] == 7 and got["new.requests.unavailable.unclear.total"] == 5
    assert got["new.requests.not_processed.repeat.total"] == 3 and got["new.requests.total.total"] == 23
    assert got["new.review.total"] == 0 and got["new.art20.rules.made"] == 0
    assert got["new.art20.normative_docs.made"] is None  # 898989
    assert all(ind.note for ind in result.indicators if ind.value is None)
    assert run_checks(result, text) == []


DATA = Path(__file__).parent / "data"


def test_real_pages_as_stored():
    """Two real 2021-edition pages, their tables verbatim as far as the stored excerpts go:
    高陵区行政审批服务局 2021, one cell per paragraph, "/" for nothing
    (http://www.gaoling.gov.cn/zwgk/zfxxgknb/jbbmnb/61e26d0ef8fd1c0bdc7a23eb.html), and
    长春 净月区 2023, `| a | b |` rows (http://js.changchun.gov.cn/zcbm/styjrswj/ndbg/202401/t20240115_3271106.html)."""
    gaoling = extract_stats((DATA / "gaoling_2021_excerpt.txt").read_text(encoding="utf-8"))
    assert gaoling.edition == "2021"
    assert {k: v for k, v in values(gaoling).items() if v is not None} == {"new.art20.admin_license.decisions": 11839}
    placeholders = [ind for ind in gaoling.indicators if ind.note and "placeholder" in ind.note]
    assert len(placeholders) == 9 + 6 * 7  # the other 第二十条 cells and the six rows the excerpt holds
    changchun = extract_stats((DATA / "changchun_2023_excerpt.txt").read_text(encoding="utf-8"))
    assert changchun.edition == "2021"
    read = {k: v for k, v in values(changchun).items() if v is not None}
    assert read == {**{f"new.art20.{k}": 0 for k in ART20_VALUES},
                    **{f"new.requests.new.{c}": v for c, v in zip(COLUMNS, [3, 0, 0, 0, 0, 0, 3])},
                    **{f"new.requests.carried_in.{c}": 0 for c in COLUMNS}}
    assert all(ind.note for ind in changchun.indicators if ind.value is None)


@pytest.mark.parametrize(("sample", "edition"), [("000", "old"), ("001", "2019"), ("002", None), ("003", "2019")])
def test_detect_edition_of_the_samples(sample, edition):
    (path,) = CORPUS.glob(f"{sample}_*.txt")
    assert detect_edition(path.read_text(encoding="utf-8")) == edition


def test_tables_that_do_not_show_their_edition_get_none_and_only_the_shared_rows():
    review_only = "\n".join(layout("pdf tabs").splitlines()[-5:])
    assert "结果维持" in review_only and "本年制发件数" not in review_only
    result = extract_stats(review_only)
    assert (result.template, result.edition, detect_edition(review_only)) == ("new", None, None)
    assert {d.key for d in definitions("new", "2019")} & {d.key for d in definitions("new", "2021")} == {
        ind.key for ind in result.indicators}
    assert [result.get(k).value for k in REVIEW_KEYS] == REVIEW_VALUES


def test_any_mangling_of_a_page_table_reads_or_explains_every_cell():
    """Cells dropped, doubled, glued or blanked at random: never an exception, no value the page
    does not print, every unread cell with a reason."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    cells = [cell for row in table_rows() for cell in row]

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, len(cells) - 1), st.sampled_from(["drop", "double", "glue", "blank"])),
                    max_size=6))
    def check(edits):
        mangled = list(cells)
        for index, edit in edits:
            index %= len(mangled)
            if edit == "drop":
                del mangled[index]
            elif edit == "double":
                mangled.insert(index, mangled[index])
            elif edit == "glue" and index + 1 < len(mangled):
                mangled[index : index + 2] = [mangled[index] + mangled[index + 1]]
            elif edit == "blank":
                mangled[index] = ""
        text = INTRO + "\n".join(f"{cell} |" for cell in mangled) + OUTRO
        result = extract_stats(text)
        assert all(f"{ind.value:g}" in text for ind in result.indicators if ind.value is not None)
        assert all(ind.note for ind in result.indicators if ind.value is None)
        assert all(ind.value is None or ind.note is None for ind in result.indicators)

    check()
