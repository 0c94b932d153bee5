"""Saved searches across two `index` runs: `watch run` lists only what is new since it last ran."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from indexer.cli import cli
from tests.gov_site import REALWORLD


def run(index_dir, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--index-dir", str(index_dir), *args])
    return result.exit_code, result.output + (str(result.exception) if result.exception else "")


def watches(index_dir) -> dict:
    code, out = run(index_dir, "watch", "run", "--json")
    assert code == 0, out
    return {w["name"]: w for w in json.loads(out)["watches"]}


def test_watches_report_new_reports_and_occurrences_across_index_runs(tmp_path):
    folder, index_dir = tmp_path / "reports", tmp_path / "index"
    folder.mkdir()
    shutil.copy(REALWORLD / "047_jingwei2022.txt", folder)
    shutil.copy(REALWORLD / "027_guiyang2018.txt", folder)
    assert run(index_dir, "index", str(folder), "--no-embed", "-q")[0] == 0

    code, out = run(index_dir, "watch", "add", "政府信息公开", "--name", "公开")
    assert code == 0 and "2 reports match now" in out
    assert run(index_dir, "watch", "add", "行政复议", "--year", "2024", "--name", "复议2024")[0] == 0
    assert run(index_dir, "watch", "add", "政府信息公开", "--name", "公开")[0] == 1  # the name is taken
    assert watches(index_dir) == {  # nothing is new right after adding
        "公开": {"name": "公开", "query": "政府信息公开", "new": []},
        "复议2024": {"name": "复议2024", "query": "行政复议", "new": []}}

    shutil.copy(REALWORLD / "061_hunansthjt2024.txt", folder)
    shutil.copy(REALWORLD / "021_miyun2015.txt", folder)
    code, out = run(index_dir, "index", str(folder), "--no-embed", "-q")
    assert code == 0 and "watch '公开': 2 new report(s)" in out  # `index` announces news, as `collect` does
    code, out = run(index_dir, "search", "政府信息公开", "--json", "--limit", "100")
    counts = {r["source"]: (r["report_id"], r["count"]) for r in json.loads(out)["results"]}
    found = watches(index_dir)
    assert sorted(found["公开"]["new"], key=lambda n: n["report_id"]) == sorted(
        [{"report_id": counts[name][0], "count": counts[name][1]}
         for name in ("061_hunansthjt2024.txt", "021_miyun2015.txt")], key=lambda n: n["report_id"])
    hunan_2024 = counts["061_hunansthjt2024.txt"][0]
    assert [n["report_id"] for n in found["复议2024"]["new"]] == [hunan_2024]  # the year filter holds
    assert watches(index_dir)["公开"]["new"] == []  # seen once, not news again


def test_watch_list_remove_and_errors(tmp_path):
    folder, index_dir = tmp_path / "reports", tmp_path / "index"
    folder.mkdir()
    shutil.copy(REALWORLD / "047_jingwei2022.txt", folder)
    assert run(index_dir, "index", str(folder), "--no-embed", "-q")[0] == 0
    assert run(index_dir, "watch", "add", "年度报告")[0] == 0
    code, out = run(index_dir, "watch", "list", "--json")
    assert [(w["name"], w["reports"]) for w in json.loads(out)["watches"]] == [("年度报告", 1)]
    assert run(index_dir, "watch", "remove", "年度报告")[0] == 0
    code, out = run(index_dir, "watch", "remove", "年度报告")
    assert code == 1 and "no watch named '年度报告'" in out
    assert run(index_dir, "watch", "list", "--json")[1].strip() == '{\n  "watches": []\n}'


def test_watch_page_marks_new_hits(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.test_app import MAIN

    folder, index_dir = tmp_path / "reports", tmp_path / "index"
    folder.mkdir()
    shutil.copy(REALWORLD / "047_jingwei2022.txt", folder)
    assert run(index_dir, "index", str(folder), "--no-embed", "-q")[0] == 0
    assert run(index_dir, "watch", "add", "政府信息公开", "--name", "公开")[0] == 0
    shutil.copy(REALWORLD / "061_hunansthjt2024.txt", folder)
    assert run(index_dir, "index", str(folder), "--no-embed", "-q")[0] == 0
    monkeypatch.setenv("NIANBAO_HOME", str(index_dir))
    at = AppTest.from_file(str(MAIN), default_timeout=60).run()
    at.switch_page("views/watch.py").run()
    assert not at.exception and not at.error
    assert "新 1" in at.expander[0].label
    assert at.dataframe[0].value["新增出现次数"].tolist()[0] > 0
    at.button(key="FormSubmitter:watch-add-关注")  # the add form is there
    next(b for b in at.button if b.label == "全部标记为已读").click().run()
    assert "无新命中" in at.expander[0].label


def test_the_search_page_saves_the_current_search_as_a_watch(tmp_path, monkeypatch):
    from tests.test_app import no_failure, open_page

    folder, index_dir = tmp_path / "reports", tmp_path / "index"
    folder.mkdir()
    shutil.copy(REALWORLD / "047_jingwei2022.txt", folder)
    assert run(index_dir, "index", str(folder), "--no-embed", "-q")[0] == 0
    monkeypatch.setenv("NIANBAO_HOME", str(index_dir))
    at = open_page(None, q="政府信息公开")
    no_failure(at)
    next(b for b in at.button if b.label == "关注此检索").click().run()
    no_failure(at)
    code, out = run(index_dir, "watch", "list", "--json")
    assert code == 0 and [w["query"] for w in json.loads(out)["watches"]] == ["政府信息公开"]
