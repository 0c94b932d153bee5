"""The command line end to end: index summaries, re-runs, JSON shapes, one-line errors."""

import json
import shutil
import sys

import pytest

from indexer.cli import main
from tests.conftest import CORPUS


def run(capsys, *args: str) -> tuple[int, str, str]:
    old = sys.argv
    sys.argv = ["nianbao", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    return code, out, err


def test_index_rerun_update_remove(capsys, corpus_copy, index_dir):
    d = str(index_dir)
    code, out, _ = run(capsys, "--index-dir", d, "index", "--no-embed", str(corpus_copy))
    assert code == 0 and out.startswith("5 added, 0 updated, 0 unchanged, 0 duplicate, 0 removed, 0 skipped; 5 reports")
    code, out, _ = run(capsys, "--index-dir", d, "index", "--no-embed", str(corpus_copy))
    assert out.startswith("0 added, 0 updated, 5 unchanged, 0 duplicate, 0 removed, 0 skipped; 5 reports")

    changed = corpus_copy / "002_197c637067fde242.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n附记：新增政府开放日一次。\n", encoding="utf-8")
    (corpus_copy / "004_0f363eaae7a2256d.txt").unlink()
    (corpus_copy / "empty.txt").write_bytes(b"")
    code, out, err = run(capsys, "--index-dir", d, "index", "--no-embed", str(corpus_copy))
    assert code == 0
    assert out.startswith("0 added, 1 updated, 3 unchanged, 0 duplicate, 1 removed, 1 skipped; 4 reports")
    assert "empty.txt: empty file" in err
    _, out, _ = run(capsys, "--index-dir", d, "search", "政府开放日", "--json")
    assert {r["agency"] for r in json.loads(out)["results"]} == {"灵武市人民政府", "淮北市商务局"}
    _, out, _ = run(capsys, "--index-dir", d, "search", "机关事务局", "--json")
    assert json.loads(out)["total_reports"] == 0


def test_indexing_another_folder_keeps_the_first(capsys, tmp_path, index_dir):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    shutil.copy(CORPUS / "000_325a78626e0cba12.txt", a)
    shutil.copy(CORPUS / "003_b6c5992465737a46.txt", b)
    run(capsys, "--index-dir", str(index_dir), "index", "--no-embed", str(a))
    _, out, _ = run(capsys, "--index-dir", str(index_dir), "index", "--no-embed", str(b))
    assert "2 reports" in out


def test_duplicate_files_are_one_report_with_two_sources(capsys, tmp_path, index_dir):
    text = (CORPUS / "003_b6c5992465737a46.txt").read_text(encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(text, encoding="utf-8")
    (tmp_path / "docs" / "b 副本.txt").write_bytes(text.encode("gb18030"))
    _, out, err = run(capsys, "--index-dir", str(index_dir), "index", "--no-embed", str(tmp_path / "docs"))
    assert out.startswith("1 added, 0 updated, 0 unchanged, 1 duplicate") and "; 1 reports" in out
    assert "b 副本.txt: same text as a.txt (report " in err
    _, out, _ = run(capsys, "--index-dir", str(index_dir), "reports", "--json")
    (report,) = json.loads(out)
    _, out, _ = run(capsys, "--index-dir", str(index_dir), "show", report["id"], "--json")
    assert len(json.loads(out)["sources"]) == 2


def test_reports_and_show_json(capsys, indexed):
    _, out, _ = run(capsys, "--index-dir", str(indexed), "reports", "--json")
    reports = json.loads(out)
    assert len(reports) == 5
    for r in reports:
        assert set(r) >= {"id", "source", "title", "agency", "year", "region", "template",
                          "level", "edition", "published", "pages", "evidence", "corrected"}
        assert r["evidence"]["year"]["line"] >= 1 and str(r["year"]) in r["evidence"]["year"]["text"]
        assert set(r["region"]) == {"province", "city", "county"}
    lingwu = next(r for r in reports if r["agency"] == "灵武市人民政府")
    _, out, _ = run(capsys, "--index-dir", str(indexed), "show", lingwu["id"][:8], "--json")
    shown = json.loads(out)
    assert shown["id"] == lingwu["id"]
    assert [s["kind"] for s in shown["sections"]][1:] == ["overview", "proactive", "requests", "review_litigation",
                                                           "problems", "other"]
    assert all(set(s) == {"kind", "heading", "text"} for s in shown["sections"])


@pytest.mark.parametrize("args, code, message", [
    (["show", "nonexistent"], 1, "no report with id"),
    (["search", '"政府开放日'], 2, "bad query: unbalanced quote"),
    (["search", "政府", "--sort", "size"], 2, "Invalid value"),
    (["search"], 2, "give a QUERY or --batch FILE"),
    (["frobnicate"], 2, "No such command"),
    (["search", "政府", "--limit", "0"], 2, "Invalid value for '--limit'"),
    (["search", "政府 template:x"], 2, "bad query: template:x is not a template"),
    (["stats", "--section", "problems"], 2, "No such option '--section'"),  # statistics are per report
    (["check", "--section", "problems"], 2, "No such option '--section'"),
    (["compare"], 2, "Missing option '--section'. Choose from: overview,"),  # click lists choices on lines
])
def test_errors_are_one_line(capsys, indexed, args, code, message):
    got, out, err = run(capsys, "--index-dir", str(indexed), *args)
    assert got == code
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_no_index_yet(capsys, tmp_path):
    code, _, err = run(capsys, "--index-dir", str(tmp_path / "none"), "reports")
    assert code == 1 and "no index at" in err


def test_index_missing_path_and_unreadable_only(capsys, tmp_path, index_dir):
    code, _, err = run(capsys, "--index-dir", str(index_dir), "index", str(tmp_path / "missing"))
    assert code == 2 and "no such file or folder" in err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.txt").write_bytes(bytes(range(256)) * 10)
    code, out, err = run(capsys, "--index-dir", str(index_dir), "index", "--no-embed", str(tmp_path / "bad"))
    assert code == 1 and "none of the files could be read" in err and "binary" in err


def test_batch_search_table(capsys, indexed, tmp_path):
    terms = tmp_path / "terms.txt"
    terms.write_text("政府开放日\n不予公开\n行政复议\n", encoding="utf-8")
    out_csv = tmp_path / "counts.csv"
    code, out, _ = run(capsys, "--index-dir", str(indexed), "search", "--batch", str(terms), "--csv", str(out_csv))
    assert code == 0 and "5 reports × 3 queries" in out
    import csv

    rows = list(csv.DictReader(out_csv.open(encoding="utf-8-sig")))
    assert len(rows) == 5
    lingwu = next(r for r in rows if r["agency"] == "灵武市人民政府")
    assert lingwu["政府开放日"] == "2"
    assert sum(int(r["政府开放日"]) for r in rows) == 2


def test_a_filter_the_query_replaces_is_named(capsys, indexed):
    """year:2018 written in the query wins over --year 2020 (as in the app), and the user is told."""
    code, out, err = run(capsys, "--index-dir", str(indexed), "search", "依申请公开 year:2018", "--year", "2020", "--json")
    assert code == 0 and {r["year"] for r in json.loads(out)["results"]} == {2018}
    assert err.strip() == "note: the query's year:2018 replaces --year 2020"
    code, out, err = run(capsys, "--index-dir", str(indexed), "search", "依申请公开 year:2020", "--year", "2020", "--json")
    assert code == 0 and err == "" and {r["year"] for r in json.loads(out)["results"]} == {2020}


def test_keyword_mode_names_what_exact_mode_finds_inside_longer_words(capsys, indexed):
    """开放 is only inside 政府开放日 in the samples: keyword mode finds no word, and says the text holds it."""
    code, out, _ = run(capsys, "--index-dir", str(indexed), "search", "开放", "--mode", "exact")
    exact = int(out.split(" reports")[0])
    code, out, _ = run(capsys, "--index-dir", str(indexed), "search", "开放", "--mode", "keyword")
    assert code == 0 and exact > 0
    assert out.splitlines() == ["0 reports, 0 occurrences",
                                f"note: keyword mode counts whole words; the text holds the query in {exact} reports "
                                "(inside longer words too): --mode exact lists them all"]
    code, out, _ = run(capsys, "--index-dir", str(indexed), "search", "申请", "--mode", "keyword")
    assert code == 0 and "note: keyword mode" not in out


def test_second_writer_fails_with_a_clear_message(capsys, corpus_copy, index_dir):
    from indexer.indexing import WriteLock

    with WriteLock(index_dir):
        code, _, err = run(capsys, "--index-dir", str(index_dir), "index", "--no-embed", str(corpus_copy))
    assert code == 1 and "another `nianbao index`" in err and "is writing to" in err
    code, out, _ = run(capsys, "--index-dir", str(index_dir), "index", "--no-embed", str(corpus_copy))
    assert code == 0 and "5 reports" in out


@pytest.mark.parametrize("items", [[], [{"a": 1}], [{"a": [1, {}], "b": "中文\n  x"}, 3, "y", []]])
def test_json_arrays_are_written_item_by_item_as_one_dump_writes_them(capsys, items):
    from indexer.cli import _echo_json_items

    assert _echo_json_items(iter(items)) == len(items)
    assert capsys.readouterr().out == json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def test_stats_and_check_commands(capsys, indexed, tmp_path):
    code, out, _ = run(capsys, "--index-dir", str(indexed), "check", "--json")
    failures = json.loads(out)
    assert code == 0 and [(f["source"], f["check"]) for f in failures] == [("004_0f363eaae7a2256d.txt", "old.staff.sum")]
    assert {c["value"] for c in failures[0]["cells"]} == {0, 1}
    code, out, _ = run(capsys, "--index-dir", str(indexed), "check")
    assert out.splitlines()[-1] == "1 failed checks" and "[old.staff.sum]" in out.splitlines()[0]
    _, out, _ = run(capsys, "--index-dir", str(indexed), "check", "--json", "--year", "2019")
    assert json.loads(out) == []
    _, out, _ = run(capsys, "--index-dir", str(indexed), "stats", "--json", "--year", "2020")
    (lingwu,) = json.loads(out)
    values = {i["key"]: i["value"] for i in lingwu["indicators"]}
    assert lingwu["agency"] == "灵武市人民政府" and lingwu["template"] == "new"
    assert values["new.requests.new.total"] == 7 and values["new.requests.total.total"] == 7
    assert values["new.art20.procurement.amount"] == 24063
    assert all(set(i) == {"key", "label", "unit", "value", "note"} for i in lingwu["indicators"])
    csv_path, xlsx_path = tmp_path / "s.csv", tmp_path / "s.xlsx"
    code, out, _ = run(capsys, "--index-dir", str(indexed), "stats", "--csv", str(csv_path), "--xlsx", str(xlsx_path))
    assert code == 0 and "5 reports written" in out
    import openpyxl

    assert openpyxl.load_workbook(xlsx_path).active.max_row == 6
    lines = csv_path.read_text(encoding="utf-8-sig").splitlines()
    about = [line for line in lines if line.startswith("# ")]  # when, how many, which filters, which nianbao
    assert [line.split("：")[0] for line in about] == ["# 导出时间", "# 导出的报告数", "# 筛选条件", "# nianbao 版本"]
    assert len(lines) == len(about) + 2 + 5  # Chinese header, keys, five reports
    assert "省份" in lines[len(about)] and lines[len(about) + 1].startswith("report_id,")


def test_output_cut_short_by_the_reader_ends_quietly(indexed):
    """`nianbao stats --json | head -1`: no traceback, no complaint from a generator or at exit."""
    import subprocess

    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "--index-dir", str(indexed), "stats", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline() == b"[\n"
    proc.stdout.close()  # far more than a pipe's buffer is still to come
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert err == ""


def test_a_model_that_does_not_load_is_named_in_one_line(capsys, tmp_path, index_dir):
    """Not an 'internal error': the full text is indexed, and the message names the model."""
    missing = tmp_path / "no-such-model"
    code, out, err = run(capsys, "--index-dir", str(index_dir), "index", "-q", str(CORPUS), "--model", str(missing))
    assert code == 1
    assert err.startswith(f"nianbao: cannot load the model '{missing}': ") and err.count("\n") == 1
    code, out, _ = run(capsys, "--index-dir", str(index_dir), "search", "政府开放日")
    assert code == 0 and out.startswith("1 reports")
