"""Corrections by hand (`nianbao edit`, fields.edit_report): shown everywhere a report is read,
marked as corrected, kept apart from derived values across re-indexing and re-deriving, and a bad
value is a one-line error that changes nothing."""

import json
import shutil

import pytest

from indexer import parse
from indexer.fields import FieldError, edit_report
from indexer.core.filters import SearchFilters
from indexer.fulltext.search import Searcher
from indexer.indexing import index_paths
from indexer.store import Store
from tests.conftest import CORPUS, SAMPLES
from tests.test_cli import run

HUAIBEI = SAMPLES["huaibei_2018"]  # 淮北市商务局, 2018


@pytest.fixture
def indexed_copy(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    index_dir = tmp_path / "index"
    index_paths([corpus], index_dir, embed=False)
    return corpus, index_dir


def _reports(capsys, index_dir) -> dict[str, dict]:
    code, out, _ = run(capsys, "--index-dir", str(index_dir), "reports", "--json")
    assert code == 0
    return {r["source"]: r for r in json.loads(out)}


def test_edit_on_the_command_line_shows_everywhere(capsys, indexed_copy):
    _, index_dir = indexed_copy
    d = str(index_dir)
    before = _reports(capsys, index_dir)[HUAIBEI]
    assert before["agency"] == "淮北市商务局" and before["corrected"] == []
    code, out, err = run(capsys, "--index-dir", d, "edit", before["id"][:6], "--agency", "淮北市商务局（更正）",
                         "--year", "2019", "--province", "安徽")
    assert code == 0 and err == "" and before["id"] in out

    after = _reports(capsys, index_dir)[HUAIBEI]
    assert (after["agency"], after["year"], after["region"]["province"]) == ("淮北市商务局（更正）", 2019, "安徽省")
    assert after["corrected"] == ["agency", "province", "year"]
    _, out, _ = run(capsys, "--index-dir", d, "show", after["id"], "--json")
    shown = json.loads(out)
    assert shown["corrected"] == after["corrected"] and shown["year"] == 2019
    assert shown["derived"]["year"] == 2018  # what the parser read is kept apart
    _, out, _ = run(capsys, "--index-dir", d, "reports")
    line = next(x for x in out.splitlines() if x.startswith(after["id"]))
    assert "2019*" in line and "淮北市商务局（更正）*" in line and "安徽省*" in line

    # filters and statistics read the corrected values
    _, out, _ = run(capsys, "--index-dir", d, "search", "政府信息", "--year", "2019", "--agency", "更正", "--json")
    assert [r["report_id"] for r in json.loads(out)["results"]] == [after["id"]]
    _, out, _ = run(capsys, "--index-dir", d, "stats", "--year", "2019", "--province", "安徽", "--json")
    assert [(r["report_id"], r["year"]) for r in json.loads(out)] == [(after["id"], 2019)]


def test_clear_marks_unknown_and_reset_brings_back_the_derived_value(capsys, indexed_copy):
    _, index_dir = indexed_copy
    report_id = _reports(capsys, index_dir)[HUAIBEI]["id"]
    run(capsys, "--index-dir", str(index_dir), "edit", report_id, "--clear", "city")
    after = _reports(capsys, index_dir)[HUAIBEI]
    assert after["region"]["city"] is None and after["corrected"] == ["city"]
    code, _, _ = run(capsys, "--index-dir", str(index_dir), "edit", report_id, "--reset", "city")
    assert code == 0
    after = _reports(capsys, index_dir)[HUAIBEI]
    assert after["region"]["city"] == "淮北市" and after["corrected"] == []


@pytest.mark.parametrize("args, field", [
    (["--year", "二〇一九"], "year"), (["--year", "1850"], "year"), (["--province", "火星"], "province"),
    (["--published", "2021-13-01"], "published"), (["--clear", "title"], "title"),
])
def test_a_bad_value_is_one_line_naming_the_field_and_changes_nothing(capsys, indexed_copy, args, field):
    _, index_dir = indexed_copy
    before = _reports(capsys, index_dir)
    report_id = before[HUAIBEI]["id"]
    code, out, err = run(capsys, "--index-dir", str(index_dir), "edit", report_id, "--agency", "改了", *args)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"nianbao: {field}")
    assert _reports(capsys, index_dir) == before  # the valid --agency was not written either


def test_an_unknown_id_is_one_line(capsys, indexed_copy):
    code, _, err = run(capsys, "--index-dir", str(indexed_copy[1]), "edit", "ffffff", "--year", "2019")
    assert code == 1 and err.count("\n") == 1 and "ffffff" in err


def test_library_edit_reloads_a_running_searcher(indexed_copy):
    _, index_dir = indexed_copy
    searcher = Searcher(index_dir)
    store = Store(index_dir)
    try:
        assert searcher.run("政府信息", SearchFilters(province="福建"))["total_reports"] == 0
        report_id = next(r["id"] for r in store.reports() if r["source"] == HUAIBEI)
        report = edit_report(store, report_id[:8], {"province": "福建省"})
        assert report["region"]["province"] == "福建省" and report["corrected"] == ["province"]
        found = searcher.run("政府信息", SearchFilters(province="福建"))
        assert [r["report_id"] for r in found["results"]] == [report_id]
        with pytest.raises(FieldError, match="^year"):
            edit_report(store, report_id, {"year": "20x9"})
    finally:
        searcher.close()
        store.close()


def test_corrections_survive_reindexing_and_rederiving(capsys, indexed_copy, monkeypatch):
    corpus, index_dir = indexed_copy
    d = str(index_dir)
    report_id = _reports(capsys, index_dir)[HUAIBEI]["id"]
    run(capsys, "--index-dir", d, "edit", report_id, "--county", "相山区", "--year", "2017")

    # the file goes and comes back: the same text is the same report, with its corrections
    moved = corpus.parent / HUAIBEI
    shutil.move(corpus / HUAIBEI, moved)
    run(capsys, "--index-dir", d, "index", "--no-embed", str(corpus))
    assert HUAIBEI not in _reports(capsys, index_dir)
    shutil.move(moved, corpus / HUAIBEI)
    _, out, _ = run(capsys, "--index-dir", d, "index", "--no-embed", str(corpus))
    assert out.startswith("1 added")
    back = _reports(capsys, index_dir)[HUAIBEI]
    assert (back["id"], back["year"], back["region"]["county"]) == (report_id, 2017, "相山区")

    # a newer parser derives every report again: the corrections stay, over the new derived values
    monkeypatch.setattr(parse, "PARSER_VERSION", parse.PARSER_VERSION + 1)
    _, out, _ = run(capsys, "--index-dir", d, "index", "--no-embed")
    assert out.startswith("5 derived again by this version")
    again = _reports(capsys, index_dir)[HUAIBEI]
    assert again == back


def test_the_report_page_shows_evidence_and_corrects_a_field(indexed, tmp_path, monkeypatch):
    import shutil

    from indexer.store import Store
    from tests.test_app import html_text, no_failure, open_page

    index = tmp_path / "index"
    shutil.copytree(indexed, index, ignore=shutil.ignore_patterns("index.lock"))
    monkeypatch.setenv("NIANBAO_HOME", str(index))
    with Store(index) as store:
        report = next(r for r in store.reports() if r["agency"] == "淮北市商务局")
    at = open_page("report", id=report["id"])
    no_failure(at)
    shown = html_text(at)
    assert "<td>年份</td><td>2018</td><td>第 " in shown and "淮北市商务局" in shown  # the line it was read from
    at.text_input(key="fix_year").input("2017")
    at.text_input(key="fix_province").input("浙江")
    next(b for b in at.button if b.label == "保存更正").click().run()
    no_failure(at)
    with Store(index) as store:
        fixed = store.report(report["id"])
    assert (fixed["year"], fixed["region"]["province"], fixed["corrected"]) == (2017, "浙江省", ["province", "year"])
    assert any(e.label == "字段与依据（已更正：年份、省份）" for e in at.expander)
    at.text_input(key="fix_year").input("公元前")
    next(b for b in at.button if b.label == "保存更正").click().run()
    assert [e.value for e in at.error] == ["更正没有保存：年份「公元前」不是 1990 年到今年之间的年份。"]
    with Store(index) as store:
        assert store.report(report["id"])["year"] == 2017  # nothing written
