"""One agency across the years, on a series built from real report text with controlled edits.

灵武市人民政府 (the sample 灵武市 2020 report, its statistics tables edited year by year):
- 2019: the real report, its years shifted;
- 2020: a copy of 2019 with prose numbers changed, its title naming the region in full
  (宁夏回族自治区灵武市): repeat rate 1.0;
- 2021: rewritten with sentences of another real report (平潭 2019), and a 上年结转 that is not
  2020's 结转下年度: repeat rate 0.0, a carry-over mismatch;
- 2022: renamed 灵武市人民政府办公室 (another agency until an alias joins it), 2021's text with a
  number changed and one new paragraph: the rate is computed by hand from the strings below.
Four other agencies each print one template sentence that both 灵武 bodies print too.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from conftest import CORPUS, sample_text
from indexer.agencies import agency_key, place_forms
from indexer.cli import cli, main
from indexer.history import diff, history, repeats
from indexer.indexing import index_paths
from indexer.normalize import normalize
from indexer.store import Store

REALWORLD = Path(__file__).resolve().parent / "data" / "realworld_shared"
MAIN = Path(__file__).resolve().parent.parent / "search_app" / "main.py"

TEMPLATE = "本报告中所列数据的统计期限自1月1日起至12月31日止。"
LINGWU = "640181:政府"
LINGWU_OFFICE = "640181:政府办公室"


def _real_sentences(name: str) -> list[str]:
    text = (REALWORLD / name).read_text(encoding="utf-8")
    return [s + "。" for s in text.split("。")]


PINGTAN = _real_sentences("029_pingtan2019.txt")
OVERVIEW_2021 = ["".join(PINGTAN[7:8]), "".join(PINGTAN[10:12]), "".join(PINGTAN[13:14])]
PROBLEMS_2021 = ["".join(PINGTAN[15:17])]
NEW_PARAGRAPH = "".join(PINGTAN[19:21])


def _lines_between(text: str, start: str, stop: str | None) -> list[str]:
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    last = next((i for i, line in enumerate(lines) if stop and line.startswith(stop)), len(lines))
    return lines[first:last]


BASE = sample_text("lingwu_gov_2020")
TABLES = "\n".join(_lines_between(BASE, "二、主动公开政府信息情况", "五、存在的主要问题"))


def _tables(license_: tuple[int, int], services: tuple[int, int], carried_in: int, carried_over: int) -> str:
    """The sample's tables with the cells the cross-year checks read set to these values."""
    row = lambda v: "\t".join(str(x) for x in (v, 0, 0, 0, 0, 0, v))  # noqa: E731
    text = re.sub(r"^行政许可\t.*$", f"行政许可\t{license_[0]}\t{license_[1]:+d}\t1554", TABLES, flags=re.M)
    text = re.sub(r"^其他对外管理服务事项\t.*$", f"其他对外管理服务事项\t{services[0]}\t{services[1]:+d}\t328", text, flags=re.M)
    text = re.sub(r"^(行政处罚\t\d+\t)[+-]\d+", r"\g<1>+0", text, flags=re.M)
    text = re.sub(r"^(行政强制\t\d+\t)[+-]\d+", r"\g<1>+0", text, flags=re.M)
    text = re.sub(r"^(二、上年结转政府信息公开申请数量\t\t).*$", rf"\g<1>{row(carried_in)}\t", text, flags=re.M)
    return re.sub(r"^(四、结转下年度继续办理\t\t\t).*$", rf"\g<1>{row(carried_over)}", text, flags=re.M)


def _real_year(year: int, title: str, tables: str, numbers: dict[str, str]) -> str:
    text = BASE.replace("2020", str(year))
    text = text.replace(f"灵武市 {year} 年政府信息公开工作年度报告", title, 1)
    head = "\n".join(_lines_between(text, title, "二、主动公开政府信息情况"))
    tail = "\n".join(_lines_between(text, "五、存在的主要问题", None))
    for old, new in numbers.items():
        head = head.replace(old, new)
    return f"{head}\n{tables}\n{tail}\n"


def _written(title: str, overview: list[str], problems: list[str], tables: str = "") -> str:
    parts = [title, "一、总体情况", *overview, TEMPLATE]
    if tables:
        parts.append(tables)
    parts += ["五、存在的主要问题及改进情况" if tables else "二、存在的主要问题及改进情况", *problems]
    return "\n\n".join(parts) + "\n"


TITLE_2022 = "灵武市人民政府办公室2022年政府信息公开工作年度报告"
OVERVIEW_2022 = [OVERVIEW_2021[0].replace("2599", "3018"), *OVERVIEW_2021[1:]]
PROBLEMS_2022 = [*PROBLEMS_2021, NEW_PARAGRAPH]
OTHERS = {
    "永宁县财政局": _real_sentences("009_pingtanxian2011.txt")[3:5],
    "贺兰县教育局": _real_sentences("009_pingtanxian2011.txt")[6:8],
    "西吉县商务局": _real_sentences("017_pingtands2013.txt")[3:5],
    "隆德县民政局": _real_sentences("017_pingtands2013.txt")[6:8],
}


def write_series(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "lingwu2019.txt": _real_year(2019, "灵武市 2019 年政府信息公开工作年度报告", _tables((198, 699), (97, -1), 0, 0), {}),
        "lingwu2020.txt": _real_year(2020, "宁夏回族自治区灵武市2020年政府信息公开工作年度报告",
                                     _tables((897, 10), (96, -1), 0, 2), {"6285": "7001", "1212": "1500"}),
        "lingwu2021.txt": _written("灵武市2021年政府信息公开工作年度报告", OVERVIEW_2021, PROBLEMS_2021,
                                   _tables((907, 3), (95, 0), 5, 0)),
        "lingwu2022.txt": _written(TITLE_2022, OVERVIEW_2022, PROBLEMS_2022, _tables((910, 0), (97, 0), 0, 0)),
    }
    for name, sentences in OTHERS.items():
        files[f"{name}.txt"] = _written(f"{name}2020年政府信息公开工作年度报告", sentences[:1], sentences[1:])
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def series_index(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("series")
    write_series(folder / "reports")
    index_paths([folder / "reports"], folder / "index", embed=False)
    return folder / "index"


@pytest.fixture
def series_copy(series_index, tmp_path) -> Path:
    """A private copy, for tests that add aliases or re-index."""
    target = tmp_path / "index"
    shutil.copytree(series_index, target, ignore=shutil.ignore_patterns("index.lock"))
    return target


def _history(index_dir: Path, name: str) -> dict:
    with Store(index_dir, create=False) as store:
        return history(store, name)


def _by_year(found: dict) -> dict[int, dict]:
    return {y["year"]: y for y in found["years"]}


def _checks(year: dict) -> dict[str, dict]:
    return {c["check"]: c for c in year["cross_year_checks"]}


# --- agency identity ------------------------------------------------------------------


def _report(agency: str, adcode: str | None, province=None, city=None, county=None) -> dict:
    return {"agency": agency, "adcode": adcode, "region": {"province": province, "city": city, "county": county}}


def test_agency_keys_absorb_the_usual_variants():
    jining = [_report(name, "370800", "山东省", "济宁市") for name in
              ("济宁市人力资源和社会保障局", "山东省济宁市人力资源社会保障局", "济宁市人社局")]
    assert {agency_key(r) for r in jining} == {"370800:人力资源社会保障局"}
    yanbian = [_report(name, "222400", "吉林省", "延边朝鲜族自治州") for name in
               ("延边朝鲜族自治州人民政府办公室", "延边州政府办公室", "吉林省延边州人民政府办公室")]
    assert {agency_key(r) for r in yanbian} == {"222400:政府办公室"}
    lingwu = [_report(name, "640181", "宁夏回族自治区", "银川市", "灵武市") for name in
              ("灵武市人民政府", "宁夏回族自治区灵武市", "宁夏灵武市人民政府")]
    assert {agency_key(r) for r in lingwu} == {LINGWU}
    # different bodies of one place stay apart; an unknown region keeps the whole name
    assert agency_key(_report("灵武市人民政府办公室", "640181", "宁夏回族自治区", "银川市", "灵武市")) == LINGWU_OFFICE
    assert agency_key(_report("市商务局", None)) == "?:市商务局"
    assert agency_key(_report("", None)) is None
    assert place_forms("宁夏回族自治区") == ["宁夏回族自治区", "宁夏自治区", "宁夏"]
    assert "双江县" in place_forms("双江拉祜族佤族布朗族傣族自治县")


# --- history ------------------------------------------------------------------------


def test_history_rates_and_checks_by_hand(series_index):
    found = _history(series_index, "灵武市人民政府")
    assert found["agency"]["key"] == LINGWU
    years = _by_year(found)
    assert sorted(years) == [2019, 2020, 2021]  # 2022 is another agency until an alias joins it
    assert years[2019]["repeat_rate"] is None and years[2019]["sections"] == []
    assert years[2020]["repeat_rate"] == 1.0  # a copy: the numbers changed, the sentences did not
    assert years[2021]["repeat_rate"] == 0.0  # rewritten

    assert {c["status"] for c in years[2019]["cross_year_checks"]} == {"missing"}  # no 2018 report: never a mismatch
    checks_2020 = _checks(years[2020])
    assert checks_2020["carry_over"]["status"] == "ok"
    license_ = checks_2020["items.admin_license"]
    assert (license_["status"], license_["expected"], license_["found"]) == ("ok", 897, 897)  # 198 + 699
    assert checks_2020["items.other_services"]["status"] == "ok"
    carry = _checks(years[2021])["carry_over"]
    assert (carry["status"], carry["expected"], carry["found"]) == ("mismatch", 2, 5)
    assert "可能不一致" in carry["message"]
    assert [(c["key"], c["year"], c["value"]) for c in carry["cells"]] == [
        ("new.requests.carried_in.total", 2021, 5), ("new.requests.carried_over.total", 2020, 2)]
    assert _checks(years[2021])["items.admin_license"]["status"] == "ok"  # 897 + 10 = 907

    series = found["series"]["new.art20.admin_license.prev_items"]
    assert series["values"] == {"2019": 198, "2020": 897, "2021": 907}
    assert series["unit"] == "项"


def test_sections_count_same_added_and_removed_characters(series_index):
    years = _by_year(_history(series_index, LINGWU))
    sections_2021 = {s["kind"]: s for s in years[2021]["sections"]}
    assert sections_2021["problems"]["same_chars"] == 0
    assert sections_2021["problems"]["added_chars"] == sum(len(normalize(p)) for p in PROBLEMS_2021)
    sections_2020 = {s["kind"]: s for s in years[2020]["sections"]}
    assert all(s["added_chars"] == s["removed_chars"] == 0 for s in sections_2020.values())
    assert sections_2020["overview"]["same_chars"] > 1000


def test_an_alias_joins_a_renamed_agency_and_survives_reindexing(series_copy, tmp_path):
    runner = CliRunner()
    out = runner.invoke(cli, ["--index-dir", str(series_copy), "agency", "alias", "灵武市人民政府", TITLE_2022[:10]])
    assert out.exit_code == 0, out.output
    years = _by_year(_history(series_copy, LINGWU))
    assert sorted(years) == [2019, 2020, 2021, 2022]
    # by hand: 2022 keeps every 2021 sentence (one number changed), adds a paragraph, and its
    # title (first sentence) now names the office; the template sentence counts for neither.
    title = len(normalize(TITLE_2022))
    total = title + sum(len(normalize(p)) for p in OVERVIEW_2022 + PROBLEMS_2022)
    assert years[2022]["repeat_rate"] == round((total - title - len(normalize(NEW_PARAGRAPH))) / total, 4)
    checks = _checks(years[2022])
    assert checks["carry_over"]["status"] == "ok"
    assert (checks["items.other_services"]["status"], checks["items.other_services"]["expected"]) == ("mismatch", 95)

    # re-indexing (a file changed) keeps the alias
    reports = tmp_path / "reports"
    write_series(reports)
    (reports / "lingwu2019.txt").write_text((reports / "lingwu2019.txt").read_text(encoding="utf-8") + "\n特此报告。\n",
                                            encoding="utf-8")
    index_paths([reports], series_copy, embed=False)
    assert sorted(_by_year(_history(series_copy, LINGWU))) == [2019, 2020, 2021, 2022]
    listed = json.loads(runner.invoke(cli, ["--index-dir", str(series_copy), "agencies", "--json"]).output)
    lingwu = next(a for a in listed if a["key"] == LINGWU)
    assert lingwu["aliases"] == [LINGWU_OFFICE] and lingwu["years"] == [2019, 2020, 2021, 2022]

    out = runner.invoke(cli, ["--index-dir", str(series_copy), "agency", "unalias", LINGWU_OFFICE])
    assert out.exit_code == 0, out.output
    assert sorted(_by_year(_history(series_copy, LINGWU))) == [2019, 2020, 2021]


def test_diff_marks_changed_numbers_and_template_text(series_index):
    with Store(series_index, create=False) as store:
        ids = {y["year"]: y["report_id"] for y in history(store, LINGWU)["years"]}
        ids[2022] = history(store, LINGWU_OFFICE)["years"][0]["report_id"]
        copied = diff(store, ids[2019], ids[2020])
        renamed = diff(store, ids[2021], ids[2022])
    changed = [p for s in copied["sections"] for p in s["passages"] if "old_text" in p]
    assert any("6285" in p["old_text"] and "7001" in p["text"] for p in changed)
    assert all(p["op"] == "same" for s in copied["sections"] for p in s["passages"] if s["kind"] != "other")
    problems = next(s for s in renamed["sections"] if s["kind"] == "problems")
    assert [p["text"] for p in problems["passages"] if p["op"] == "added"] == \
        [normalize(s) for s in PINGTAN[19:21]]
    template = [p for s in renamed["sections"] for p in s["passages"] if p["template"]]
    assert [p["text"] for p in template] == [TEMPLATE]


def _gaoling(year: int, cells: list[str]) -> str:
    """The real 2021-edition excerpt with its year moved and its 规章 / 行政规范性文件 cells
    (制发, 废止, 现行有效, each row in turn) set to `cells`."""
    text = (Path(__file__).resolve().parent / "data" / "gaoling_2021_excerpt.txt").read_text(encoding="utf-8")
    lines = text.replace("2021", str(year)).splitlines()
    slots = iter(cells)
    first = lines.index("规章")
    for i in range(first, len(lines)):
        if lines[i].strip() == "/":
            lines[i] = next(slots, lines[i])
    return "\n".join(lines) + "\n"


def test_in_force_chains_in_the_2021_edition(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    years = {2021: ["2", "0", "10", "5", "1", "40"],
             2022: ["1", "1", "10", "3", "0", "45"],  # 规章 10 + 1 − 1 = 10; 规范性文件 40 + 3 − 0 = 43, not 45
             2024: ["0", "0", "10", "0", "0", "45"]}  # no 2023 report
    for year, cells in years.items():
        (folder / f"gaoling{year}.txt").write_text(_gaoling(year, cells + ["/"] * 10), encoding="utf-8")
    index_paths([folder], tmp_path / "index", embed=False)
    found = _by_year(_history(tmp_path / "index", "西安市高陵区行政审批服务局"))
    assert sorted(found) == [2021, 2022, 2024]
    checks = _checks(found[2022])
    rules, docs = checks["in_force.rules"], checks["in_force.normative_docs"]
    assert (rules["status"], rules["expected"], rules["found"]) == ("ok", 10, 10)
    assert (docs["status"], docs["expected"], docs["found"]) == ("mismatch", 43, 45)
    assert [(c["key"], c["year"]) for c in docs["cells"]] == [
        ("new.art20.normative_docs.in_force", 2022), ("new.art20.normative_docs.in_force", 2021),
        ("new.art20.normative_docs.issued", 2022), ("new.art20.normative_docs.repealed", 2022)]
    assert {c["status"] for c in found[2024]["cross_year_checks"]} == {"missing"}  # 2023 is missing, not wrong
    assert checks["carry_over"]["status"] == "missing"  # its cells print "/": unread, so not checked


# --- command line ---------------------------------------------------------------------


def test_cli_json_shapes(series_index):
    runner = CliRunner()
    base = ["--index-dir", str(series_index)]
    found = json.loads(runner.invoke(cli, base + ["history", "灵武市人民政府", "--json"]).output)
    assert set(found) >= {"agency", "years", "series"}
    assert set(found["agency"]) >= {"key", "name", "region"}
    year = found["years"][1]
    assert set(year) >= {"year", "report_id", "title", "repeat_rate", "sections", "cross_year_checks"}
    assert set(year["sections"][0]) >= {"kind", "same_chars", "added_chars", "removed_chars"}
    assert set(year["cross_year_checks"][0]) >= {"check", "label", "expected", "found", "cells", "status"}
    assert set(next(iter(found["series"].values()))) == {"label", "unit", "values"}
    # a report id names its agency too
    by_id = json.loads(runner.invoke(cli, base + ["history", year["report_id"][:8], "--json"]).output)
    assert by_id["agency"]["key"] == LINGWU

    listed = json.loads(runner.invoke(cli, base + ["repeats", "--min", "0.5", "--json"]).output)
    assert listed["min"] == 0.5
    assert [(r["agency_key"], r["year"], r["previous_year"], r["repeat_rate"]) for r in listed["results"]] == [
        (LINGWU, 2020, 2019, 1.0)]
    assert listed["results"][0]["agency"].startswith("宁夏回族自治区灵武市")
    assert set(listed["results"][0]) >= {"report_id", "agency", "year", "previous_report_id", "previous_year",
                                         "repeat_rate"}
    assert json.loads(runner.invoke(cli, base + ["repeats", "--min", "0.5", "--year", "2021", "--json"]).output)[
        "results"] == []

    text = runner.invoke(cli, base + ["history", "灵武市人民政府"]).output
    assert "可能不一致" in text and "100%" in text
    shown = runner.invoke(cli, base + ["yeardiff", year["previous_report_id"], year["report_id"]]).output
    assert "~ " in shown and "7001" in shown


def test_cli_errors_are_one_line(series_index, capsys, monkeypatch):
    for args in (["history", "no such agency"], ["history", " "], ["yeardiff", "zzzz", "yyyy"], ["agency", "alias", "灵武市人民政府", "灵武市人民政府"],
                 ["agency", "unalias", "1:x"]):
        monkeypatch.setattr(sys, "argv", ["nianbao", "--index-dir", str(series_index), *args])
        with pytest.raises(SystemExit) as exit_:
            main()
        err = capsys.readouterr().err
        assert exit_.value.code == 1, (args, err)
        assert err.startswith("nianbao: ") and err.count("\n") == 1, err


def test_repeats_leaves_template_text_out(series_index):
    with Store(series_index, create=False) as store:
        everything = repeats(store, 0.0)["results"]
    # every report with an earlier one of its agency is listed at --min 0; the four one-report agencies are not
    assert sorted((r["agency_key"], r["year"]) for r in everything) == [(LINGWU, 2020), (LINGWU, 2021)]


# --- app ------------------------------------------------------------------------------


def _open_agency_page(index_dir: Path, monkeypatch, **params: str) -> AppTest:
    monkeypatch.setenv("NIANBAO_HOME", str(index_dir))
    monkeypatch.delenv("NIANBAO_APP_REMOTE", raising=False)
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.run()
    at.switch_page("views/agency.py")
    at.query_params.update(params)
    return at.run()


def test_agency_page(series_index, monkeypatch):
    at = _open_agency_page(series_index, monkeypatch, agency=LINGWU)
    assert not at.exception
    assert at.selectbox(key="agency_pick").value == LINGWU
    timeline = at.dataframe[0].value
    assert list(timeline["年份"]) == [2019, 2020, 2021]
    assert list(timeline["与上一份重复"]) == ["—", "100%", "0%"]
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("2021 年") and "可能不一致" in w for w in warnings), warnings
    assert [s.value for s in at.selectbox if s.key == "agency_old"] == [history_ids(series_index)[2020]]
    assert not at.error


def test_agency_page_with_a_link_naming_no_agency(series_index, monkeypatch):
    at = _open_agency_page(series_index, monkeypatch, agency="不存在的机关")
    assert not at.exception and not at.dataframe
    assert any("找不到链接里的机关" in w.value for w in at.warning)
    assert at.selectbox(key="agency_pick").value is None


def test_agency_page_ranks_the_most_repetitive_reports(series_index, monkeypatch):
    at = _open_agency_page(series_index, monkeypatch)
    at.toggle(key="agency_ranking").set_value(True).run()
    assert not at.dataframe  # nothing is computed before it is asked for
    at.selectbox(key="repeats_province").set_value("宁夏回族自治区")
    at.button(key="repeats_go").click().run()
    assert not at.exception
    listed = at.dataframe[0].value
    assert list(zip(listed["重复率"], listed["年份"], listed["上一份"])) == [("100%", 2020, 2019)]
    assert list(listed["历年"]) == [f"agency?agency={quote(LINGWU)}"]
    at.slider(key="repeats_min").set_value(0.0).run()
    assert list(at.dataframe[0].value["年份"]) == [2020, 2021]


def history_ids(index_dir: Path) -> dict[int, str]:
    return {y["year"]: y["report_id"] for y in _history(index_dir, LINGWU)["years"]}


# --- bench ----------------------------------------------------------------------------


def test_history_bench_runs(tmp_path):
    """bench/history.py at a size the suite affords: its corpus gives agencies several years."""
    import subprocess

    proc = subprocess.run([sys.executable, str(MAIN.parent.parent / "bench" / "history.py"), "--reports", "30",
                           "--histories", "3", "--workdir", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "corpus: 30 reports, 5 per agency" in proc.stdout
    assert re.search(r"repeats --min 0\.5 \(cold.*\): [\d.]+ s, \d+ reports \(of (\d+) with a previous year", proc.stdout)
    assert int(re.search(r"of (\d+) with a previous year", proc.stdout).group(1)) >= 20  # 6 agencies × 4 successors, most parsed
    assert "history by key" in proc.stdout and "extrapolated to 20000 reports" in proc.stdout


def test_the_report_page_links_to_the_agencys_other_years(indexed, monkeypatch):
    monkeypatch.setenv("NIANBAO_HOME", str(indexed))
    from urllib.parse import parse_qs

    from indexer.agencies import agency_key
    from indexer.store import Store
    from tests.test_app import no_failure, open_page

    with Store(indexed) as store:
        report = next(r for r in store.reports() if r["agency"] == "灵武市人民政府")
    at = open_page("report", id=report["id"])
    no_failure(at)
    link = next(l for l in at.get("page_link") if l.proto.label == "本机关历年报告")
    assert link.proto.page == "agency"
    assert parse_qs(link.proto.query_string) == {"agency": [agency_key(report)]}


def test_the_statistics_page_groups_an_agencys_years(tmp_path, monkeypatch):
    folder = tmp_path / "reports"
    write_series(folder)
    shutil.copy(CORPUS / "001_c5ec5838828042f2.txt", folder)  # 固原 2019, with tables: sorts among 灵武's years
    index_paths([folder], tmp_path / "index", embed=False)
    monkeypatch.setenv("NIANBAO_HOME", str(tmp_path / "index"))
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.run()
    at.switch_page("views/stats.py").run()
    assert not at.exception and not at.error

    def lingwu_rows() -> list[int]:
        agencies = list(at.dataframe[0].value["机关"])
        return [i for i, name in enumerate(agencies) if "灵武" in name]

    before = lingwu_rows()
    assert before != list(range(before[0], before[0] + len(before)))  # by year first: others in between
    at.toggle(key="stats_by_agency").set_value(True).run()
    assert not at.exception and not at.error
    after = lingwu_rows()
    assert len(after) == len(before) >= 3
    assert after == list(range(after[0], after[0] + len(after)))  # one agency's years side by side
    years = list(at.dataframe[0].value["年份"])
    assert [years[i] for i in after] == sorted(years[i] for i in after)
