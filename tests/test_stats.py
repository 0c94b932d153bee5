"""Statistics tables: values pinned on the five samples, PDF damage on small synthetic tables,
the consistency checks, the JSON shapes and the spreadsheet export."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from indexer.stats import (
    CHECKS,
    check_to_json,
    detect_template,
    extract_stats,
    run_checks,
    to_json,
)
from indexer.stats.export import write_csv, write_xlsx
from indexer.stats.indicators import INDICATORS, definitions

CORPUS = Path(__file__).parent.parent / "corpus"
META = {
    "000": ("灵武市商务和经济技术合作局", 2018),
    "001": ("固原市经济技术合作局", 2019),
    "002": ("淮北市商务局", 2018),
    "003": ("灵武市人民政府", 2020),
    "004": ("沙坡头区机关事务局", 2018),
}


def text(sample: str) -> str:
    (path,) = CORPUS.glob(f"{sample}_*.txt")
    return path.read_text(encoding="utf-8")


def meta(sample: str) -> dict:
    (path,) = CORPUS.glob(f"{sample}_*.txt")
    agency, year = META[sample]
    return {"report_id": sample, "source": path.name, "agency": agency, "year": year}


def values(result) -> dict:
    return {ind.key: ind.value for ind in result.indicators}


# --- the samples ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "template", "edition"),
    [("000", "old", None), ("001", "new", "2019"), ("002", None, None), ("003", "new", "2019"), ("004", "old", None)],
)
def test_template_of_each_sample(sample, template, edition):
    assert detect_template(text(sample)) == template
    result = extract_stats(text(sample))
    assert (result.template, result.edition) == (template, edition)


def test_lingwu_government_2020_new_template_values():
    v = values(extract_stats(text("003")))
    assert v["new.requests.new.natural_person"] == 7
    assert v["new.requests.new.total"] == 7
    assert v["new.requests.new.commercial"] == 0
    assert v["new.requests.disclosed.total"] == 2
    assert v["new.requests.partial.total"] == 1
    assert v["new.requests.unavailable.not_held.natural_person"] == 4
    assert v["new.requests.total.total"] == 7
    assert v["new.requests.carried_over.total"] == 0
    assert v["new.art20.admin_license.decisions"] == 1554
    assert v["new.art20.admin_license.change"] == 699
    assert v["new.art20.other_services.change"] == -1
    assert v["new.art20.admin_penalty.decisions"] == 264
    assert v["new.art20.procurement.items"] == 201
    assert v["new.art20.procurement.amount"] == 24063
    assert v["new.litigation.after_review.total"] == 0


def test_lingwu_government_2020_empty_review_cells_are_none_with_a_reason():
    result = extract_stats(text("003"))
    review = [ind for ind in result.indicators if ind.key.startswith("new.review.")]
    assert len(review) == 5
    assert all(ind.value is None and "empty cell" in ind.note for ind in review)


def test_lingwu_commerce_2018_old_template_values():
    result = extract_stats(text("000"))
    v = values(result)
    assert v["old.proactive.total"] == 22
    assert v["old.proactive.channel.website"] == 2
    assert v["old.proactive.channel.wechat"] == 1
    assert v["old.proactive.channel.other"] == 19
    assert v["old.requests.received"] == 0
    # rows after the header repeated mid-table, in both of its broken forms
    assert v["old.requests.replied.partly_granted"] == 0
    assert v["old.litigation.corrected"] == 0
    assert v["old.meetings.trainees"] == 5
    assert result.get("old.meetings.trainees").unit == "人次"
    assert result.get("old.proactive.total").unit == "条"


def test_misprinted_sub_row_is_placed_by_its_number():
    # 001 prints "6. 属于四类内部事务信息" for 6.属于四类过程性信息; the number decides.
    damaged = text("001").replace("6. 属于四类内部事务信息\t0", "6. 属于四类内部事务信息\t3")
    v = values(extract_stats(damaged))
    assert v["new.requests.withheld.process_info.natural_person"] == 3
    assert v["new.requests.withheld.internal_affairs.natural_person"] == 0


def test_by_type_table_of_002_is_its_own_group():
    result = extract_stats(text("002"))
    assert result.template is None
    assert {ind.key.split(".")[0] for ind in result.indicators} == {"bytype"}
    v = values(result)
    assert v["bytype.normative_docs"] == 1
    assert v["bytype.interpretation"] == 27
    assert v["bytype.budget"] == 30
    assert sum(v.values()) == 1 + 18 + 22 + 27 + 29 + 3 + 30 + 16


def test_by_type_table_survives_a_page_break():
    damaged = text("002").replace("部门文件 |\n", "部门文件 |\n\n- 2 -\n\n")
    assert damaged != text("002")
    assert values(extract_stats(damaged)) == values(extract_stats(text("002")))


@pytest.mark.parametrize(
    ("sample", "read", "unreadable"),
    [("000", 58, 0), ("001", 198, 0), ("002", 8, 0), ("003", 193, 5), ("004", 58, 5)],
)
def test_every_cell_is_extracted_or_reported(sample, read, unreadable):
    result = extract_stats(text(sample))
    assert (result.cells_read, result.cells_unreadable) == (read, unreadable)
    assert result.cells_read + result.cells_unreadable == len(result.indicators) + len(result.unmapped)
    assert all(ind.note for ind in result.indicators if ind.value is None)
    assert all(ind.note is None for ind in result.indicators if ind.value is not None)
    assert all(cell.note and cell.raw for cell in result.unmapped)


def test_heading_rows_with_numbers_are_reported_not_dropped():
    result = extract_stats(text("004"))
    assert [(cell.label, cell.raw) for cell in result.unmapped] == [
        ("一、主动公开情况", "83"),
        ("(二)通过不同渠道和方式公开政府信息的情况", "0"),
        ("(二)通过不同渠道和方式回应解读的情况", "0"),
        ("三、依申请公开情况", "0"),
        ("八、机构建设和保障经费情况", "0"),
    ]
    assert all("heading row" in cell.note for cell in result.unmapped)


def test_old_template_indicators_are_all_present_in_table_order():
    keys = [ind.key for ind in extract_stats(text("004")).indicators]
    assert keys == [d.key for d in definitions("old")]


# --- checks on the samples ------------------------------------------------------------------


def test_shapotou_staff_check_fails_and_names_the_numbers():
    failures = run_checks(extract_stats(text("004")), text("004"))
    assert [f.check for f in failures] == ["old.staff.sum"]
    (failure,) = failures
    assert [(c["key"], c["value"]) for c in failure.cells] == [
        ("old.staff.total", 0),
        ("old.staff.full_time", 1),
        ("old.staff.part_time", 1),
    ]
    assert "从事政府信息公开工作人员数 0" in failure.message and "= 2" in failure.message


@pytest.mark.parametrize("sample", ["000", "001", "002", "003"])
def test_all_other_samples_pass_every_check(sample):
    assert run_checks(extract_stats(text(sample)), text(sample)) == []


@pytest.mark.parametrize(
    ("sample", "key", "value", "check"),
    [
        ("003", "new.requests.carried_in.research", 1, "new.requests.balance"),
        ("003", "new.requests.partial.other", 1, "new.requests.row_total"),
        ("003", "new.requests.total.natural_person", 6, "new.requests.results_total"),
        ("003", "new.requests.new.total", 8, "prose.requests_received"),
        ("001", "new.review.other", 1, "new.review.sum"),
        ("001", "new.litigation.direct.pending", 1, "new.litigation.direct.sum"),
        ("001", "new.litigation.after_review.total", 1, "new.litigation.after_review.sum"),
        ("000", "old.requests.received.fax", 1, "old.requests.received_sum"),
        ("000", "old.requests.completed.extended", 1, "old.requests.completed_sum"),
        ("000", "old.requests.replied.not_exist", 1, "old.requests.replied_sum"),
        ("000", "old.review.total", 1, "old.review.sum"),
        ("004", "old.litigation.other", 1, "old.litigation.sum"),
        ("000", "old.proactive.channel.other", 10, "old.proactive.channels_cover"),
    ],
)
def test_each_check_really_runs_on_the_samples(sample, key, value, check):
    result = extract_stats(text(sample))
    result.get(key).value = value
    assert check in {f.check for f in run_checks(result, text(sample))}


def test_a_check_with_an_unread_cell_is_skipped():
    result = extract_stats(text("001"))
    result.get("new.review.total").value = 5
    assert "new.review.sum" in {f.check for f in run_checks(result)}
    result.get("new.review.upheld").value = None
    assert "new.review.sum" not in {f.check for f in run_checks(result)}


def test_every_failure_names_a_listed_check():
    assert all(re.fullmatch(r"[a-z_.]+", key) and desc for key, desc in CHECKS.items())
    result = extract_stats(text("003"))
    for ind in result.indicators:
        if ind.value is not None:
            ind.value += 1
    failures = run_checks(result, text("003"))
    assert failures and {f.check for f in failures} <= set(CHECKS)


# --- PDF damage, on small synthetic tables --------------------------------------------------

OLD_HEAD = "附件\n\n政府信息公开情况统计表\n\n统计指标\t单位\t统计数\n"


def test_header_repeated_mid_table():
    table = OLD_HEAD + (
        "三、依申请公开情况\t\t\n"
        "(一) 收到申请数\t件\t5\n"
        "1. 当面申请数\t件\t1\n"
        "统计指标\t单位\t统计数\n"
        "2. 传真申请数\t件\t1\n"
        "3. 网络申请数\t件\t2\n"
        "\t统计指标\t单位\n"
        "\t\t统计数\n"
        "4. 信函申请数\t件\t1\n"
    )
    result = extract_stats(table)
    assert result.template == "old"
    v = values(result)
    assert [v[f"old.requests.received{k}"] for k in ("", ".in_person", ".fax", ".online", ".letter")] == [5, 1, 1, 2, 1]
    assert result.unmapped == []
    assert run_checks(result) == []
    assert [f.check for f in run_checks(extract_stats(table.replace("件\t2", "件\t3")))] == ["old.requests.received_sum"]


@pytest.mark.parametrize(
    "broken",
    [
        "1. 专职人员数（不包括政府公报及政府网站\n工作人员数）\t人\t2\n",
        "1. 专职人员数（不包括政府公报及\t\t\n政府网站工作人员数）\t人\t2\n",
        "1. 专职人员数（不包括政府公报及\n\n\n政府网站工作人员数）\t人\t2\n",
    ],
)
def test_label_broken_over_two_lines(broken):
    table = OLD_HEAD + "八、机构建设和保障经费情况\t\t\n(三) 从事政府信息公开工作人员数\t人\t3\n" + broken + "2. 兼职人员数\t人\t1\n"
    result = extract_stats(table)
    v = values(result)
    assert (v["old.staff.total"], v["old.staff.full_time"], v["old.staff.part_time"]) == (3, 2, 1)
    assert result.unmapped == []


@pytest.mark.parametrize("cut", [len("其中：主要负责同志参加政府网"), len("其中：主要负责同志参加")])
def test_label_broken_where_its_second_half_names_a_broader_row(cut):
    label = "其中：主要负责同志参加政府网站在线访谈次数"
    table = OLD_HEAD + f"2. 政府网站在线访谈次数\t次\t4\n{label[:cut]}\n{label[cut:]}\t次\t1\n3. 政策解读稿件发布数\t篇\t2\n"
    v = values(extract_stats(table))
    assert (v["old.response.online_interviews"], v["old.response.online_interviews.by_leaders"]) == (4, 1)
    assert v["old.response.interpretations"] == 2


def test_broken_first_table_header_still_names_the_columns():
    body = text("003").replace("信息内容\t上一年项目数量\t本年增 / 减\t处理决定数量", "信息\n内容\t上一年项目数量\t本年增 / 减\t处理决定数量", 1)
    assert body != text("003")
    result = extract_stats(body)
    assert result.get("new.art20.admin_license.decisions").value == 1554
    assert result.cells_unreadable == 5


def test_repeated_labels_are_told_apart_by_their_section():
    table = OLD_HEAD + (
        "四、行政复议数量\t件\t2\n(一) 维持具体行政行为数\t件\t1\n(二) 被依法纠错数\t件\t1\n(三) 其他情形数\t件\t0\n"
        "五、行政诉讼数量\t件\t3\n(一) 维持具体行政行为或者驳回原告诉讼请求数\t件\t0\n(二) 被依法纠错数\t件\t3\n(三) 其他情形数\t件\t0\n"
    )
    v = values(extract_stats(table))
    assert (v["old.review.corrected"], v["old.litigation.corrected"]) == (1, 3)


def test_empty_cell_and_placeholder_are_none_with_a_note():
    table = OLD_HEAD + (
        "九、政府信息公开会议和培训情况\t——\t\n"
        "(一) 召开政府信息公开工作会议或专题会议数\t次\t2\n"
        "(二) 举办各类培训班数\t次\t\n"
        "(三) 接受培训人员数\t人次\t——\n"
    )
    result = extract_stats(table)
    assert result.get("old.meetings.meetings").value == 2
    trainings, trainees = result.get("old.meetings.trainings"), result.get("old.meetings.trainees")
    assert trainings.value is None and "empty cell" in trainings.note
    assert trainees.value is None and "——" in trainees.note
    missing = result.get("old.proactive.total")
    assert missing.value is None and "row not found" in missing.note
    assert result.unmapped == []


def test_money_in_another_unit_is_not_silently_scaled():
    result = extract_stats(OLD_HEAD + "七、依申请公开信息收取的费用\t元\t300\n")
    fees = result.get("old.fees.total")
    assert fees.value is None and "万元" in fees.note


def test_same_row_printed_twice_with_different_values_is_flagged():
    table = OLD_HEAD + "六、举报投诉数量\t件\t1\n统计指标\t单位\t统计数\n六、举报投诉数量\t件\t2\n"
    complaints = extract_stats(table).get("old.complaints.total")
    assert complaints.value is None and "“1”" in complaints.note and "“2”" in complaints.note


def _requests_section(sample: str) -> str:
    body = text(sample)
    start = body.index("三、收到和处理政府信息公开申请情况")
    end = body.index("四、政府信息公开行政复议、行政诉讼情况")
    return body[start:end]


def test_new_table_split_across_a_page_break_with_header_repeated():
    section = _requests_section("003")
    header = "\t\t自然人\t法人或其他组织\t\t\t\t\t总计\t\n\t\t\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他\t\t\n"
    # a page break between the label of row 7 and its values, then the header again
    damaged = section.replace("⇥7.属于行政执法案卷⇥".replace("⇥", "\t"), "\t7.属于行政执法案卷\n\n- 3 -\n\n" + header + "\t")
    assert damaged != section
    result = extract_stats(damaged)
    assert result.template == "new"
    assert result.cells_unreadable == len([d for d in definitions("new", "2019") if not d.key.startswith("new.requests")])
    assert result.get("new.requests.withheld.enforcement_files.total").value == 0
    assert result.get("new.requests.total.total").value == 7
    assert result.unmapped == []
    assert run_checks(result) == []


def test_new_table_label_broken_over_two_lines():
    section = _requests_section("001")
    broken = section.replace("（区分处理的，只计这一情形，不计其他情形）\t0", "（区分处理的，\t\n只计这一情形，不计其他情形）\t2")
    assert broken != section
    result = extract_stats(broken)
    assert result.get("new.requests.partial.natural_person").value == 2
    assert result.unmapped == []


def test_new_table_empty_cell_is_none_and_its_checks_are_skipped():
    section = _requests_section("003")
    damaged = section.replace("一、本年新收政府信息公开申请数量\t\t7\t0\t", "一、本年新收政府信息公开申请数量\t\t7\t\t")
    assert damaged != section
    result = extract_stats(damaged)
    cell = result.get("new.requests.new.commercial")
    assert cell.value is None and "empty cell" in cell.note
    assert result.get("new.requests.new.research").value == 0
    assert run_checks(result) == []


def test_new_table_2021_edition():
    table = (
        "第二十条第（一）项\t\t\t\n信息内容\t本年制发件数\t本年废止件数\t现行有效件数\n规章\t0\t0\t0\n行政规范性文件\t3\t1\t12\n"
        "第二十条第（八）项\t\n信息内容\t本年收费金额（单位：万元）\n行政事业性收费\t1.5\n"
        "\t\t申请人情况\n"
        "一、本年新收政府信息公开申请数量\t\t3\t0\t0\t0\t0\t0\t3\n"
        "二、上年结转政府信息公开申请数量\t\t0\t0\t0\t0\t0\t0\t0\n"
        "三、本年度办理结果\t(一) 予以公开\t1\t0\t0\t0\t0\t0\t1\n"
        "\t(六) 其他处理\t1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请\t1\t0\t0\t0\t0\t0\t1\n"
        "\t\t2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请\t0\t0\t0\t0\t0\t0\t0\n"
        "\t\t3.其他\t1\t0\t0\t0\t0\t0\t1\n"
        "\t(七) 总计\t\t3\t0\t0\t0\t0\t0\t3\n"
        "四、结转下年度继续办理\t\t0\t0\t0\t0\t0\t0\t0\n"
    )
    result = extract_stats(table)
    assert (result.template, result.edition) == ("new", "2021")
    v = values(result)
    assert v["new.art20.normative_docs.in_force"] == 12
    assert v["new.art20.admin_fees.amount"] == 1.5
    assert v["new.requests.other.misc.total"] == 1
    assert "new.requests.other.total" not in v
    assert "new.art20.procurement.amount" not in v
    assert run_checks(result) == []
    # the rows this small table leaves out count as zero: now （七）总计 is checked with （六）1–3
    for ind in result.indicators:
        if ind.key.startswith("new.requests.") and ind.value is None:
            ind.value = 0
    assert run_checks(result) == []
    result.get("new.requests.other.misc.natural_person").value = 0
    assert "new.requests.results_total" in {f.check for f in run_checks(result)}


def test_no_tables_means_no_indicators():
    prose = "某局 2020 年政府信息公开工作年度报告\n\n一、总体情况\n\n依照《条例》第二十条，主动公开政府信息 12 条，收到申请数 0 件。\n"
    assert detect_template(prose) is None
    result = extract_stats(prose)
    assert (result.template, result.indicators, result.cells_read, result.cells_unreadable) == (None, [], 0, 0)
    assert run_checks(result, prose) == []


# --- prose against table --------------------------------------------------------------------

OLD_PROACTIVE = OLD_HEAD + "一、主动公开情况\t\t\n(一) 主动公开政府信息数 (不同渠道和方式公开相同信息计 1 条)\t条\t22\n"


@pytest.mark.parametrize(
    "prose",
    ["2018 年，我局共主动公开政府信息 30 条。", "2018 年我局主动公开政府\n\n信息 30 条，未发生泄密事件。"],
)
def test_prose_contradicting_the_table_is_flagged(prose):
    report = prose + "\n\n" + OLD_PROACTIVE
    failures = run_checks(extract_stats(report), report)
    assert [f.check for f in failures] == ["prose.proactive_total"]
    assert "30" in failures[0].message and "22" in failures[0].message
    assert run_checks(extract_stats(report)) == []  # no text, no prose check


@pytest.mark.parametrize(
    "prose",
    [
        "2018 年，我局主动公开政府信息 22 条。",
        "2018 年主动公开政府信息 30 条，同比增长 20%。",
        "主动公开政府信息 30 条。其中上半年主动公开政府信息 12 条。",
        "我局主动在门户网站公开政务信息 30 条。",
        "我局未主动公开政府信息 30 条以外的内容。",
    ],
)
def test_prose_check_stays_quiet_unless_sure(prose):
    report = prose + "\n\n" + OLD_PROACTIVE
    assert run_checks(extract_stats(report), report) == []


# --- keys, JSON and export --------------------------------------------------------------------


def test_indicator_keys_follow_the_scheme():
    assert all(re.fullmatch(r"(new|old|bytype)(\.[a-z0-9_]+)+", key) for key in INDICATORS)
    assert all(d.key.startswith(d.template + ".") and d.label and d.unit for d in INDICATORS.values())
    assert len(definitions("new", "2019")) == 198
    assert len(definitions("old")) == 58


def test_json_shapes():
    result = extract_stats(text("004"))
    doc = to_json(meta("004"), result)
    assert list(doc) == ["report_id", "source", "agency", "year", "template", "edition", "indicators"]
    assert (doc["agency"], doc["year"], doc["template"], doc["edition"]) == ("沙坡头区机关事务局", 2018, "old", "old")
    assert all(list(ind) == ["key", "label", "unit", "value", "note"] for ind in doc["indicators"])
    (failure,) = run_checks(result, text("004"))
    fdoc = check_to_json(meta("004"), failure)
    assert list(fdoc) == ["report_id", "source", "check", "cells", "message"]
    assert fdoc["check"] == "old.staff.sum"
    assert all(list(cell) == ["key", "label", "value"] for cell in fdoc["cells"])
    empty = to_json(meta("002"), extract_stats("无表格的报告。"))
    assert (empty["template"], empty["indicators"]) == (None, [])


@pytest.fixture
def rows() -> list[dict]:
    return [to_json(meta(s), extract_stats(text(s))) for s in ("000", "001", "002", "003", "004")]


def test_csv_export_reads_back(rows, tmp_path):
    path = tmp_path / "stats.csv"
    write_csv(rows, path)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        table = list(csv.reader(handle))
    header, keys, body = table[0], table[1], table[2:]
    assert header[:9] == ["报告ID", "文件", "机关", "年份", "省份", "城市", "区县", "模板", "版本"]
    assert keys[:9] == ["report_id", "source", "agency", "year", "province", "city", "county", "template", "edition"]
    assert len(body) == 5
    assert keys[9] == "completeness" and header[9] == "完整性"  # empty here: the CLI attaches it
    assert len(header) == len(keys) == 10 + 198 + 58 + 8
    assert [line[8] for line in body] == ["旧模板", "2019 版", "", "2019 版", "旧模板"]
    column = header.index("行政许可 / 处理决定数量（件）")
    assert keys[column] == "new.art20.admin_license.decisions"
    lingwu = next(line for line in body if line[0] == "003")
    assert lingwu[column] == "1554" and lingwu[7] == "2019 年后模板"  # a label, not `new`
    assert next(line for line in body if line[0] == "000")[column] == ""
    review = keys.index("new.review.total")
    assert header[review] == "行政复议 / 总计（件）" and lingwu[review] == ""


def test_xlsx_export_reads_back(rows, tmp_path):
    path = tmp_path / "stats.xlsx"
    write_xlsx(rows, path, regions={"003": {"province": "宁夏回族自治区", "city": "银川市", "county": "灵武市"}},
               about_lines=[("导出时间", "2026-12-06T10:00:00+00:00")])
    book = load_workbook(path)
    assert book.sheetnames == ["统计指标", "指标键", "说明"]
    table = [list(row) for row in book["统计指标"].iter_rows(values_only=True)]
    header, body = table[0], table[1:]
    keys = {title: key for _, title, key in list(book["指标键"].iter_rows(values_only=True))[1:]}
    assert len(body) == 5
    amount = header.index("政府集中采购 / 采购总金额（万元）")
    staff = header.index("（三）从事政府信息公开工作人员数（人）")
    assert keys[header[amount]] == "new.art20.procurement.amount"
    by_id = {line[0]: line for line in body}
    assert by_id["003"][amount] == 24063 and by_id["003"][4:7] == ["宁夏回族自治区", "银川市", "灵武市"]
    assert by_id["004"][staff] == 0 and by_id["000"][staff] == 1
    assert by_id["002"][7] is None and by_id["002"][8] is None and by_id["003"][staff] is None
    assert list(book["说明"].iter_rows(values_only=True)) == [("导出时间", "2026-12-06T10:00:00+00:00")]


def test_stored_rows_of_chosen_reports_and_every_indicator_value(indexed):
    """The app's export asks for the reports on screen by id; its page reads all values at once."""
    from indexer.findings.stored import stats_rows
    from indexer.store import Store

    with Store(indexed, create=False) as store:
        every = list(stats_rows(store))
        chosen = {every[0]["report_id"], every[-1]["report_id"]}
        assert [r["report_id"] for r in stats_rows(store, ids=chosen)] == [every[0]["report_id"], every[-1]["report_id"]]
        values = {(i, k): v for i, k, v in store.indicator_values()}
    assert len(every) == 5
    assert values == {(r["report_id"], i["key"]): i["value"] for r in every for i in r["indicators"]}


# --- the tables of DOCX and HTML reports --------------------------------------------------------
# tests/data holds two samples as published in those formats would be: the official tables with
# merged cells (python-docx repeats a merged cell's text, HTML has rowspan and colspan).

DATA = Path(__file__).parent / "data"


def _framed_docx(data: bytes) -> bytes:
    """The same document with its statistics table put inside a one-cell frame table."""
    import io

    import docx

    document = docx.Document(io.BytesIO(data))
    table = max(document.tables, key=lambda t: len(t.rows))._tbl
    frame = document.add_table(rows=1, cols=1)
    table.addprevious(frame._tbl)
    frame.cell(0, 0)._tc.insert(1, table)  # after the cell's properties, before its paragraph
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("sample", "name", "variant"), [
    ("003", "lingwu_gov_2020.html", None),
    ("003", "lingwu_gov_2020.html", "layout table"),  # the article framed in a page-layout table
    ("004", "shapotou_2018.docx", None),
    ("004", "shapotou_2018.docx", "framed table"),
])
def test_docx_and_html_tables_give_the_text_samples_statistics(sample, name, variant):
    from indexer.ingest import read_report_bytes

    data = (DATA / name).read_bytes()
    if variant == "layout table":
        data = data.replace(b"<body>", b"<body><table><tr><td class='content'>").replace(
            b"</body>", b"</td></tr></table></body>")
    elif variant == "framed table":
        data = _framed_docx(data)
    converted = extract_stats(read_report_bytes(name, data))
    original = extract_stats(text(sample))
    read = {k: v for k, v in values(original).items() if v is not None}
    assert len(read) >= 58 and values(converted) == values(original)
    assert [f.check for f in run_checks(converted)] == [f.check for f in run_checks(original)]


def test_html_exported_from_word_keeps_its_lines():
    """Word's HTML wraps runs of text in <span>s and breaks source lines inside sentences; read as
    separate lines, a number in a <span> stood alone and the statistics read nothing."""
    from indexer.ingest import read_report_bytes
    from indexer.parse.metadata import extract_metadata

    def word(text: str) -> str:
        text = re.sub(r"(\d+)", r'<span style="font-family:宋体">\1</span>', text)
        text = text.replace("政府信息", "<span>政府\n信息</span>")  # Word breaks its source lines anywhere
        return f'<p class=MsoNormal><span style="font-size:16.0pt">{text}</span></p>'

    def paragraph(line: str) -> str:  # a table row is a table of its own, each cell a paragraph as Word writes it
        if "\t" in line:
            return "<table><tr>" + "".join(f"<td>{word(cell)}</td>" for cell in line.split("\t")) + "</tr></table>"
        return word(line)

    original = text("003")
    page = "<html><body>\n" + "\n".join(paragraph(line) for line in original.splitlines()) + "\n</body></html>"
    converted = read_report_bytes("r.html", page.encode())
    assert values(extract_stats(converted)) == values(extract_stats(original))
    assert extract_metadata(converted).agency == extract_metadata(original).agency == "灵武市人民政府"
