"""The desk's report, compare, similar and corpus pages: what each says its data covers, the
statistics laid out as the templates print them, the report list, exports.

Through `streamlit.testing.v1.AppTest`, like tests/test_app.py, whose fixtures it shares.
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import sample_text
from indexer.stats import extract_stats
from indexer.stats.indicators import REQUEST_COLUMNS, REQUEST_ROWS
from test_app import (  # noqa: F401 (fixtures)
    LINGWU_GOV,
    app_index,
    html_text,
    indexed_vectors,
    no_failure,
    open_page,
    report_id,
    vectors_index,
)


class Grids(HTMLParser):
    """The statistics grids of a page: per table title, its rows of (data-key, text, css class) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str | None, str, str]]]] = {}
        self._title: str | None = None
        self._in_title = False
        self._cell: list | None = None
        self._rows: list | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and attrs.get("class") == "nb-grid-title":
            self._in_title, self._title = True, ""
        elif tag == "tbody" and self._title is not None:
            self._rows = self.tables.setdefault(self._title, [])
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag == "td" and self._rows is not None:
            self._cell = [attrs.get("data-key"), "", attrs.get("class", "")]

    def handle_endtag(self, tag):
        if tag == "div" and self._in_title:
            self._in_title = False
        elif tag == "td" and self._cell is not None:
            self._rows[-1].append(tuple(self._cell))
            self._cell = None
        elif tag == "tbody":
            self._rows = None

    def handle_data(self, data):
        if self._in_title:
            self._title += data
        elif self._cell is not None:
            self._cell[1] += data


def expected(extracted: dict, key: str) -> str:
    """How a cell shows an extracted value: the number; 未读出 for a cell the report has but no number was read."""
    if key not in extracted:
        return ""
    return "未读出" if extracted[key] is None else f"{extracted[key]:g}"


def grids_of(at) -> dict[str, list[list[tuple[str | None, str, str]]]]:
    parser = Grids()
    parser.feed(html_text(at))
    return parser.tables


def visible_text(at) -> str:
    return re.sub(r"<[^>]+>", " ", html_text(at))


# --- 报告: statistics as the template's tables -------------------------------------------


def test_report_requests_table_aligns_with_the_extracted_values_cell_by_cell(app_index):
    rid = report_id(app_index, LINGWU_GOV)
    at = open_page("report", id=rid)
    no_failure(at)
    table = grids_of(at)["三、收到和处理政府信息公开申请情况（件）"]
    extracted = {i.key: i.value for i in extract_stats(sample_text("lingwu_gov_2020")).indicators}
    rows = [r for r in REQUEST_ROWS if "2019" in r.editions]  # this report prints the 2019 edition
    assert len(table) == len(rows)
    for row, cells in zip(rows, table):
        assert len(cells) == len(REQUEST_COLUMNS)  # empty cells kept: nothing shifts left
        for (column, _), (key, text, _) in zip(REQUEST_COLUMNS, cells):
            assert key == f"new.requests.{row.key}.{column}"
            assert text == expected(extracted, key), key
    # 一、本年新收: 7 from natural persons, 7 in all, as printed in the report
    first = {key: text for key, text, _ in table[0]}
    assert first["new.requests.new.natural_person"] == "7" and first["new.requests.new.total"] == "7"
    assert "new.requests" not in visible_text(at)  # internal keys are never shown as text


def test_report_failed_checks_come_first_and_are_marked_in_their_cells(app_index):
    at = open_page("report", id=report_id(app_index, "沙坡头区机关事务局"))
    assert not at.exception
    failures = [e.value for e in at.error]
    assert len(failures) == 1 and failures[0].startswith("1 项勾稽关系校验未通过")
    assert "① " in failures[0] and "涉及：" in failures[0] and "兼职人员数 = 1" in failures[0]
    cells = {key: (text, css) for table in grids_of(at).values() for row in table for key, text, css in row if key}
    for key in ("old.staff.total", "old.staff.full_time", "old.staff.part_time"):
        assert "nb-failcell" in cells[key][1] and cells[key][0].endswith("①"), key
    assert "nb-failcell" not in cells["old.requests.received"][1]


def test_report_source_tables_keep_their_empty_cells(app_index):
    at = open_page("report", id=report_id(app_index, LINGWU_GOV))
    # "一、本年新收…\t\t7\t…": the empty second cell stays, so 7 sits under its own column
    assert "<td>一、本年新收政府信息公开申请数量</td><td></td><td>7</td>" in html_text(at)


# --- 报告: the list of every report ------------------------------------------------------


def test_report_list_sorts_filters_and_links_every_report(app_index):
    at = open_page("report")
    no_failure(at)
    assert at.title[0].value == "报告"
    frame = at.dataframe[0].value
    assert len(frame) == 5 and list(frame.columns)[:3] == ["打开", "机关", "年份"]
    assert all(link.startswith("/report?id=") for link in frame["打开"])
    assert set(frame["模板"]) == {"2019 年后模板", "旧模板"} and "None" not in frame.astype(str).to_numpy()
    assert frame.loc[frame["机关"] == "沙坡头区机关事务局", "未通过校验"].item() == 1
    at.multiselect(key="reports_年份").set_value(["2018"]).run()
    assert sorted(at.dataframe[0].value["年份"]) == ["2018"] * 3
    assert "显示 3 / 5 份报告" in at.caption[0].value
    at.toggle(key="reports_failing").set_value(True).run()
    assert list(at.dataframe[0].value["机关"]) == ["沙坡头区机关事务局"]


def test_report_list_and_report_page_name_each_edition_alike(app_index):
    """One source, the report's own edition field (as corrected), and one label map for both."""
    from indexer.core.kinds import EDITION_LABELS
    from indexer.store import Store

    frame = open_page("report").dataframe[0].value
    with Store(app_index, create=False) as store:
        reports = store.reports()
    assert {r["edition"] for r in reports} == {"old", "2019"}
    for report in reports:
        shown = frame.loc[frame["打开"] == f"/report?id={report['id']}", "版本"].item()
        assert shown == (EDITION_LABELS[report["edition"]] if report["template"] == "new" else "—")
        if report["template"] == "new":
            assert f" · {shown} · " in html_text(open_page("report", id=report["id"]))


def test_report_list_counts_what_was_not_recognised(app_index, monkeypatch):
    from search_app import catalogue

    assert catalogue.template_text(None, None) == ("未识别", "未识别")
    assert catalogue.template_text("new", None) == ("2019 年后模板", "未识别")
    at = open_page("report")
    unknown_counties = int((at.dataframe[0].value["区县"] == "未识别").sum())
    assert unknown_counties and f"区县 {unknown_counties} 份" in at.caption[0].value


# --- what the semantic data covers ------------------------------------------------------


@pytest.fixture
def partly_embedded(indexed_vectors, tmp_path, monkeypatch) -> tuple[Path, str]:
    """The samples with vectors plus one report added without (as `nianbao index --no-embed` leaves it)."""
    from indexer.indexing import index_paths
    from indexer.store import Store

    target = tmp_path / "index"
    shutil.copytree(indexed_vectors, target, ignore=shutil.ignore_patterns("index.lock"))
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "copy.txt").write_text(sample_text("guyuan_2019").replace("固原市", "平罗县"), encoding="utf-8")
    index_paths([extra], target, embed=False)
    monkeypatch.setenv("NIANBAO_HOME", str(target))
    monkeypatch.delenv("NIANBAO_ALLOW_FOLDERS", raising=False)
    store = Store(target, create=False)
    try:
        new_id = next(r["id"] for r in store.reports() if r["source"] == "copy.txt")
    finally:
        store.close()
    return target, new_id


def test_pages_say_how_many_reports_their_vectors_cover(partly_embedded):
    _, new_id = partly_embedded
    at = open_page("corpus")
    assert not at.exception
    assert at.metric[3].value == "5 / 6"
    assert any("覆盖 5 / 6 份报告" in w.value for w in at.warning)
    assert any(b.label == "为其余 1 份报告计算向量" for b in at.button)

    at = open_page("report", id=new_id)  # a report without vectors: a sentence, never an exception's text
    no_failure(at)
    assert any("还没有段落向量" in i.value for i in at.info)
    assert "Error" not in " ".join(e.value for e in at.get("alert") if hasattr(e, "value"))

    at = open_page("similar", id=new_id)
    no_failure(at)
    assert any("覆盖 5 / 6 份报告" in w.value for w in at.warning)

    next(b for b in at.button if b.label == "为其余 1 份报告计算向量").click().run()
    no_failure(at)
    assert not at.warning and any("覆盖 6 / 6 份报告" in c.value for c in at.caption)


# --- 比较: up to 12 reports, statistics aligned by indicator, export -----------------------


class Aligned(HTMLParser):
    """The aligned statistics table: {row label: [cell text per report]}, and the column titles."""

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[str] = []
        self.rows: dict[str, list[str]] = {}
        self._where: str | None = None
        self._text = ""
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("th", "td"):
            self._where, self._text = tag, ""
        elif tag == "tr":
            self._row = []

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._row is not None:
            self._row.append(self._text)
        elif tag == "tr" and self._row:
            if self._row[0] == "指标":
                self.columns = self._row[1:]
            else:
                self.rows[self._row[0]] = self._row[1:]
            self._row = None

    def handle_data(self, data):
        if self._row is not None:
            self._text += data


def test_compare_aligns_statistics_by_indicator(app_index):
    lingwu, guyuan = report_id(app_index, LINGWU_GOV), report_id(app_index, "固原市经济技术合作局")
    at = open_page("compare", ids=[lingwu, guyuan])
    no_failure(at)
    assert [t.label for t in at.tabs] == ["「存在的主要问题及改进情况」原文", "统计数据"]
    parser = Aligned()
    parser.feed(html_text(at))
    assert parser.columns == ["灵武市人民政府 · 2020", "固原市经济技术合作局 · 2019"]
    values = [{i.key: i.value for i in extract_stats(sample_text(s)).indicators} for s in ("lingwu_gov_2020", "guyuan_2019")]
    from indexer.stats.indicators import INDICATORS

    for key in ("new.requests.new.total", "new.art20.admin_license.decisions", "new.review.total"):
        definition = INDICATORS[key]
        cells = parser.rows[f"{definition.label}（{definition.unit}）"]
        assert cells == [expected(v, key) for v in values], key
    assert parser.rows["一、本年新收政府信息公开申请数量 / 总计（件）"][0] == "7"
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["导出章节 CSV", "导出统计 CSV", "导出 XLSX（章节和统计）"]


def test_compare_takes_twelve_reports_four_to_a_row(app_index, tmp_path, monkeypatch):
    from indexer.indexing import index_paths

    target = tmp_path / "index"
    shutil.copytree(app_index, target, ignore=shutil.ignore_patterns("index.lock"))
    extra = tmp_path / "extra"
    extra.mkdir()
    towns = ["平罗县", "永宁县", "贺兰县", "隆德县", "泾源县", "彭阳县", "西吉县", "海原县"]
    for n, town in enumerate(towns):
        (extra / f"{n}.txt").write_text(sample_text("lingwu_gov_2020").replace("灵武市", town), encoding="utf-8")
    index_paths([extra], target, embed=False)
    monkeypatch.setenv("NIANBAO_HOME", str(target))
    from indexer.store import Store

    with Store(target, create=False) as store:
        ids = [r["id"] for r in store.reports() if store.section_bounds([r["id"]])[r["id"]]
               and any(k == "problems" for _, _, k in store.section_bounds([r["id"]])[r["id"]])]
    assert len(ids) >= 12
    at = open_page("compare", ids=ids[:13])
    assert not at.exception
    assert len(at.multiselect[0].value) == 12
    assert html_text(at).count('class="nb-column-head"') == 12


def test_export_file_names_say_what_is_inside():
    from datetime import date

    from search_app import exports

    name = exports.file_name("统计指标", 3, "年份 2018；模板 旧模板")
    assert name == f"nianbao-统计指标-3份报告-年份2018模板旧模板-{date.today().isoformat()}"
    text = exports.csv_bytes(__import__("pandas").DataFrame({"机关": ["甲"]}), 1, "年份 2018").decode("utf-8-sig")
    assert text.splitlines()[:3] == ["# 导出时间：" + text.splitlines()[0].split("：", 1)[1], "# 导出的报告数：1",
                                     "# 筛选条件：年份 2018"]
    assert text.splitlines()[-2:] == ["机关", "甲"]


# --- 统计: wide tables keep their red cells in view ---------------------------------------


def test_stats_table_puts_failed_reports_and_cells_first_with_chinese_labels(app_index):
    at = open_page("stats")
    at.selectbox(key="stats_table").set_value("old.fees.|old.org.|old.staff.|old.meetings.").run()
    no_failure(at)
    table = at.dataframe[0].value
    assert table.iloc[0]["机关"] == "沙坡头区机关事务局"  # the report whose staff numbers do not add up
    failed = ["（三）从事政府信息公开工作人员数", "1.专职人员数（不包括政府公报及政府网站工作人员数）", "2.兼职人员数"]
    assert sorted(table.columns[2:5]) == sorted(failed)
    at.selectbox(key="stats_table").set_value("old.review.|old.litigation.|old.complaints.").run()
    columns = list(at.dataframe[0].value.columns)
    assert "四、行政复议数量 / （二）被依法纠错数" in columns and "五、行政诉讼数量 / （二）被依法纠错数" in columns
    assert not any("[" in c or "old." in c for c in columns)  # no internal keys as labels


def test_report_and_stats_pages_show_completeness(app_index):
    from indexer.store import Store

    with Store(app_index) as store:
        ids = {r["source"]: r["id"] for r in store.reports()}
    at = open_page("report", id=ids["002_197c637067fde242.txt"])
    no_failure(at)
    gaps = [w.value for w in at.warning if w.value.startswith("完整性：")]
    assert len(gaps) == 1 and "存在的主要问题" in gaps[0]
    at = open_page("report", id=ids["000_325a78626e0cba12.txt"])
    assert any(s.value.startswith("完整性：") for s in at.success)
    at = open_page("stats")
    no_failure(at)
    at.toggle(key="stats_completeness").set_value(True).run()
    no_failure(at)
    summary = [m.value for m in at.markdown if "份报告具备所属格式要求" in m.value]
    assert len(summary) == 1 and summary[0].endswith("/ 5** 份报告具备所属格式要求的全部部分、表格和说明。")
