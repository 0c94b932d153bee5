"""The store speaks all of nianbao's SQL: no other module under indexer/ does, the visibility
rule is the store's, and long id lists are read in chunks that give what one statement gives."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

from indexer import store as store_mod
from indexer.store import Store

ROOT = Path(__file__).resolve().parent.parent
SQL_CALLS = {"execute", "executemany", "executescript"}
SQL_TEXT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|BEGIN|COMMIT|ROLLBACK)\b")


def sql_outside_the_store(package: Path) -> list[str]:
    """`path:line: what` for each place under `package` other than store.py that imports sqlite3,
    calls a connection's execute, reaches into a store's `db`, or writes an SQL statement."""
    found: list[tuple[str, int, str]] = []
    for path in sorted(package.rglob("*.py")):
        if path == package / "store.py":
            continue
        name = str(path.relative_to(package.parent))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "sqlite3" for a in node.names):
                found.append((name, node.lineno, "imports sqlite3"))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlite3":
                found.append((name, node.lineno, "imports from sqlite3"))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
                found.append((name, node.lineno, f"calls .{node.func.attr}()"))
            elif isinstance(node, ast.Attribute) and node.attr == "db":
                found.append((name, node.lineno, "reaches into .db"))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_TEXT.match(node.value):
                found.append((name, node.lineno, f"writes SQL ({node.value.strip()[:40]!r})"))
    return [f"{name}:{line}: {what}" for name, line, what in sorted(found)]


def test_only_the_store_speaks_sql():
    """search_app/ is outside indexer/ and not checked: the desk reads through the store too, but
    this rule is about the library."""
    assert sql_outside_the_store(ROOT / "indexer") == []


def test_the_sql_check_finds_each_way_of_speaking_sql(tmp_path):
    package = tmp_path / "indexer"
    package.mkdir()
    (package / "store.py").write_text("import sqlite3\ndb = sqlite3.connect(':memory:')\ndb.execute('SELECT 1')\n")
    (package / "reader.py").write_text(
        "import sqlite3\n"
        "from sqlite3 import Row\n"
        "def rows(store, ids):\n"
        "    store.db.execute(f'SELECT id FROM reports WHERE id IN ({ids})')\n"
        "    store.transaction().executemany('DELETE FROM files WHERE path=?', [])\n"
        "    sql = 'UPDATE meta SET value = 1'\n"
        "    return 'Select the reports you want'\n")
    assert sql_outside_the_store(package) == [
        "indexer/reader.py:1: imports sqlite3",
        "indexer/reader.py:2: imports from sqlite3",
        "indexer/reader.py:4: calls .execute()",
        "indexer/reader.py:4: reaches into .db",
        "indexer/reader.py:4: writes SQL ('SELECT id FROM reports WHERE id IN (')",
        "indexer/reader.py:5: calls .executemany()",
        "indexer/reader.py:5: writes SQL ('DELETE FROM files WHERE path=?')",
        "indexer/reader.py:6: writes SQL ('UPDATE meta SET value = 1')",
    ]


@pytest.fixture
def store(indexed, tmp_path):
    """A writable copy of the indexed samples."""
    index_dir = tmp_path / "index"
    shutil.copytree(indexed, index_dir, ignore=shutil.ignore_patterns("index.lock"))
    s = Store(index_dir, create=False)
    yield s
    s.close()


def _reads(store: Store) -> dict:
    """What every chunked read returns for all the samples' ids (and one unknown id)."""
    ids = store.report_ids() + ["0" * 16]
    runs = [(r, s["ord"], 0, 3) for r in ids[:-1] for s in store.sections(r)]
    return {
        "reports": store.reports(ids),
        "extras": store.report_extras(ids),
        "pages": store.page_starts(ids),
        "sources": store.report_sources(ids),
        "texts": store.texts(ids),
        "originals": store.original_texts(ids),
        "norms": sorted(tuple(r) for r in store.norm_texts(ids)),
        "bounds": store.section_bounds(ids),
        "paragraphs": [tuple(p) for p in store.paragraphs(list(reversed(ids)))],
        "prose": [tuple(r) for r in store.prose_rows(list(reversed(ids)))],
        "runs": store.paragraph_runs(runs),
        "provenance": store.provenance(ids),
    }


def test_chunked_reads_give_what_one_statement_gives(store, monkeypatch):
    whole = _reads(store)
    assert len(whole["reports"]) == 5 and len(whole["runs"]) > 100 and whole["paragraphs"] and whole["prose"]
    monkeypatch.setattr(store_mod, "MAX_VARIABLES", 4)  # one id a statement; one paragraph run (4 values)
    assert _reads(store) == whole


def test_listings_show_the_published_generation_and_lookups_any(store):
    hidden, *shown = store.report_ids()
    before = {"counts": store.section_counts(), "headings": store.section_headings(), "overview":
              store.report_ids_with_section("overview")}
    assert hidden in before["counts"] and hidden in before["overview"]
    with store.transaction() as db:  # as a killed `index` leaves a report: written, never published
        db.execute("UPDATE reports SET gen = gen + 1 WHERE id = ?", (hidden,))

    assert store.report_ids() == shown and store.unpublished_ids() == [hidden]
    assert hidden not in store.section_counts() and hidden not in store.report_ids_with_section("overview")
    assert {r for r, _ in store.section_headings()} == set(shown)
    assert hidden not in {p["report_id"] for p in store.paragraphs()}
    assert store.orphan_report_ids() == []  # only published reports can be orphans
    assert hidden in store.texts([hidden]) and store.report_paragraphs(hidden)  # a lookup by id reads it


def test_failed_checks_are_check_failures_without_cells_of_visible_reports(store):
    failures = [(r["report_id"], r["check_key"], r["message"]) for r in store.check_failures()]
    assert failures and store.failed_checks() == failures
    with store.transaction() as db:  # the report with failures written, never published
        db.execute("UPDATE reports SET gen = gen + 1 WHERE id = ?", (failures[0][0],))
    assert store.failed_checks() == [f for f in failures if f[0] != failures[0][0]]


def test_doctor_reads_dangling_files_and_orphans_and_forgets_them(store):
    first, second, *_ = store.report_ids()
    paths = [f.path for f in store.source_files(first)]
    with store.transaction() as db:
        db.execute("PRAGMA foreign_keys=OFF")  # ignored inside a transaction: delete by hand as a damaged store has
        db.execute("DELETE FROM reports WHERE id = ?", (first,))
        db.execute("DELETE FROM files WHERE report_id = ?", (second,))
    assert store.integrity_check() == ["ok"]
    assert store.dangling_file_paths() == paths and store.orphan_report_ids() == [second]
    store.forget(store.dangling_file_paths(), store.orphan_report_ids())
    assert store.dangling_file_paths() == [] and store.orphan_report_ids() == []
    assert first not in store.report_ids() and second not in store.report_ids()
    assert not store.section_counts().get(second) and not store.report_paragraphs(second)


def test_a_damaged_store_file_is_reported_not_raised(store):
    path = store.path
    store.close()
    pages = path.stat().st_size // 4096
    assert pages > 8
    with open(path, "r+b") as f:  # a damaged disk: garbage over pages in the middle of the file
        f.seek(4096 * (pages // 2))
        f.write(b"\xff" * 4096 * 4)
    damaged = Store(path.parent, create=False)
    try:
        verdict = damaged.integrity_check()
    finally:
        damaged.close()
    assert verdict != ["ok"] and verdict[0]


def test_paragraphs_kept_as_spans_read_back_as_the_parser_wrote_them(tmp_path):
    """A paragraph is stored as a span of its report's text, or as the spans between the line
    breaks the parser joined (with the space it put between two Latin words); text no span gives
    is stored whole. Each reads back as it was written, and so do a repeated indicator key (the
    later wins, where it came) and check failures."""
    from indexer.parse.sections import split_paragraphs

    text = "一、概述\n本机关认真贯彻落实\n《条例》，推进 open\ndata 工作。\n主动公开\t10\t件\n"
    parsed = [(p.kind, p.text, p.start, p.end) for p in split_paragraphs(text)]
    assert any(t != text[a:b] and "open data" in t for _, t, a, b in parsed)
    written = [("r1", 0, n, kind, t, a, b) for n, (kind, t, a, b) in enumerate(parsed)]
    written.append(("r1", 0, len(written), "prose", "没有出现在原文里的一段", 0, 4))
    indicators = [("r1", "a", "甲", "件", 1.0, None), ("r1", "b", "乙", None, None, "未填"), ("r1", "a", "甲二", "件", 2.0, None)]
    failures = [("r1", "sum", '[{"key": "a", "label": "甲", "value": 1}]', "甲 1 ≠ 2"), ("r1", "sum", "[]", "第二项")]
    rows = store_mod.ReportRows.of({"id": "r1", "source": "r1.txt", "sha256": "0" * 64, "text": text, "norm_text": text},
                                   [("r1", 0, "overview", "一、概述", 1, 0, len(text), 0, len(text))],
                                   written, indicators, failures)
    assert [(p[-2] is not None, p[-1] is not None) for p in rows.paragraphs] == [(False, True), (False, False), (True, False)]
    with Store(tmp_path) as store:
        store.add_reports([rows], gen=0)
        assert [tuple(p) for p in store.report_paragraphs("r1")] == [(0, n, kind, t) for _, _, n, kind, t, _, _ in written]
        assert [tuple(r) for r in store.indicators("r1")] == [indicators[1], indicators[2]]
        assert [tuple(r) for r in store.check_failures("r1")] == failures
        assert store.texts(["r1"]) == {"r1": (text, text)}
