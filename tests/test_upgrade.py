"""Upgrades: a store written by the first release (schema 1, ids hashed from the normalised text)
opens and is migrated in place; a newer parser derives every report again from its stored text,
with the files gone; ids never change; duplicates are still found across the two id rules."""

import hashlib
import shutil
import sqlite3

import pytest

from indexer import parse
from indexer.doctor import check
from indexer.fulltext.search import search
from indexer.indexing import REDERIVE, index_paths, versions
from indexer.normalize import normalize
from indexer.parse import ParsedReport
from indexer.store import _SCHEMA, SCHEMA_VERSION, STORE_FILE, Store
from tests.conftest import CORPUS, ROOT

DATA = ROOT / "tests" / "data"

# The first release's rows of each table, read from a store of today (through its connection,
# which inflates texts and rebuilds paragraphs, see `m006_compact`).
V1_ROWS = {
    "reports": "SELECT id, gen, source, sha256, title, agency, year, province, city, county, adcode, template,"
               " unpack(text), unpack(norm_text), added_at FROM reports",
    "sections": "SELECT * FROM sections",
    "paragraphs": "SELECT p.report_id, p.section_ord, p.ord, p.kind,"
                  " paragraph_text(p.text, p.pieces, reports.text, p.start, p.end), p.start, p.end"
                  " FROM paragraphs p JOIN reports ON reports.id = p.report_id",
    "indicators": "SELECT i.report_id, k.name, l.name, i.unit, i.value, i.note FROM indicators i"
                  " JOIN names k ON k.id = i.key_id JOIN names l ON l.id = i.label_id ORDER BY i.report_id, i.ord",
    "check_failures": "SELECT c.report_id, json_extract(f.value, '$[0]'), json_extract(f.value, '$[1]'),"
                      " json_extract(f.value, '$[2]') FROM check_failures c, json_each(unpack(c.failures)) f"
                      " ORDER BY c.report_id, f.key",
    "files": "SELECT path, name, size, mtime_ns, sha256, report_id, reason FROM files",
}


def _legacy_id(text: str) -> str:
    return hashlib.sha256(normalize(text).encode()).hexdigest()[:16]


def _write_schema1(built, index_dir):
    """A store as the first release wrote it (its schema text), in `index_dir`, holding the rows of
    the store of today in `built`."""
    db = sqlite3.connect(index_dir / STORE_FILE)
    db.executescript(_SCHEMA)
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    with Store(built) as store:
        db.execute("INSERT INTO meta VALUES ('visible_gen', ?)", (str(store.visible_gen()),))
        for table, select in V1_ROWS.items():
            rows = [tuple(r) for r in store.db.execute(select)]
            db.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(rows[0]))})", rows)
    db.commit()
    return db


@pytest.fixture
def schema1(tmp_path):
    """An index whose store is as the first release wrote it (its schema text, its id rule),
    with the full-text index of today's build beside it; returns (index dir, corpus copy)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    built = tmp_path / "built"
    index_paths([corpus], built, embed=False)
    index_dir = tmp_path / "index"
    shutil.copytree(built, index_dir)
    (index_dir / STORE_FILE).unlink()
    for extra in index_dir.glob(STORE_FILE + "-*"):
        extra.unlink()
    db = _write_schema1(built, index_dir)
    db.create_function("legacy_id", 1, _legacy_id)
    renames = db.execute("SELECT id, legacy_id(text) FROM reports").fetchall()
    db.execute("PRAGMA foreign_keys=OFF")
    for table, column in [("reports", "id"), ("sections", "report_id"), ("paragraphs", "report_id"),
                          ("indicators", "report_id"), ("check_failures", "report_id"), ("files", "report_id")]:
        db.executemany(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", [(new, old) for old, new in renames])
    db.commit()
    db.close()
    return index_dir, corpus, sorted(new for _, new in renames)


def _derived_reads(store: Store) -> dict:
    """Everything the store derived from reports' texts, as its public reads give it."""
    ids = store.report_ids()
    return {
        "texts": store.texts(ids), "sources": store.report_sources(ids), "originals": store.original_texts(ids),
        "norms": sorted(tuple(r) for r in store.norm_texts()),
        "sections": [tuple(s) for i in ids for s in store.sections(i)], "bounds": store.section_bounds(),
        "paragraphs": [dict(p) for kind in ("prose", "table") for p in store.paragraphs(kind=kind)],
        "each": [dict(p) for i in ids for p in store.report_paragraphs(i)],
        "prose": [tuple(r) for r in store.prose_rows()],
        "runs": store.paragraph_runs([(i, s["ord"], 0, 2) for i in ids for s in store.sections(i)]),
        "indicators": [dict(r) for i in ids for r in store.indicators(i)],
        "values": [tuple(r) for r in store.indicator_values()],
        "failures": [dict(r) for r in store.check_failures()], "failed": [tuple(r) for r in store.failed_checks()],
    }


def test_a_store_migrated_to_the_compact_layout_reads_as_it_did(tmp_path, corpus_dir):
    """Migration 6 converts texts, paragraphs, indicators and check failures in place: every read
    gives what the same reports indexed today give, and the room freed goes back to the disk."""
    built = tmp_path / "built"
    index_paths([corpus_dir, DATA / "realworld"], built, embed=False)
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    _write_schema1(built, index_dir).close()
    stored = "SELECT count(pieces), count(text) FROM paragraphs"
    with Store(built) as store:
        want = _derived_reads(store)
        written = store.db.execute(stored).fetchone()
    assert want["failures"] and any(p["kind"] == "prose" for p in want["paragraphs"]) and want["indicators"]
    with Store(index_dir) as store:
        assert _derived_reads(store) == want
        assert store.db.execute("PRAGMA freelist_count").fetchone()[0] == 0  # vacuumed
        # prose whose lines the parser joined is rebuilt from spans of the text, as today's writer
        # keeps it; only where the spans are no shorter (a table's cells one per line, joined) whole
        pieces, whole = store.db.execute(stored).fetchone()
        assert pieces > 10 * whole and (pieces, whole) == tuple(written)


def test_a_schema1_store_opens_and_is_migrated_in_place(schema1):
    index_dir, _, legacy_ids = schema1
    with Store(index_dir) as store:
        assert store.report_ids() == legacy_ids
        assert store.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
        assert store.reports()[0]["level"] is None and store.corrections() == {}
        assert store.stale_report_ids(versions()) == legacy_ids  # derived before versions were kept
    assert [p.kind for p in check(index_dir) if p.part == "store"] == ["stale_reports"]


def test_index_derives_stale_reports_from_stored_text_keeping_ids(schema1, monkeypatch):
    index_dir, corpus, legacy_ids = schema1
    shutil.rmtree(corpus)  # re-deriving needs no files
    stages = []
    summary = index_paths([], index_dir, embed=False, progress=lambda stage, done, total: stages.append((stage, done, total)))
    assert summary.rederived == 5 and (REDERIVE, 5, 5) in stages
    with Store(index_dir) as store:
        assert store.report_ids() == legacy_ids and store.stale_report_ids(versions()) == []
        assert all(store.sections(i) for i in legacy_ids)
    assert check(index_dir) == []  # the full-text index holds the legacy ids, no others
    assert search(index_dir, "政府信息公开")["total_reports"] == 5

    # a newer parser: every report is derived again, here into a single section
    real_parse = parse.parse_report

    def one_section(text: str) -> ParsedReport:
        parsed = real_parse(text)
        parsed.sections = parsed.sections[:1]
        return parsed

    monkeypatch.setattr("indexer.indexing.parse_report", one_section)
    monkeypatch.setattr(parse, "PARSER_VERSION", parse.PARSER_VERSION + 1)
    assert [p.kind for p in check(index_dir)] == ["stale_reports"]
    assert index_paths([], index_dir, embed=False).rederived == 5
    with Store(index_dir) as store:
        assert store.report_ids() == legacy_ids
        assert [len(store.sections(i)) for i in legacy_ids] == [1] * 5
        kinds = {store.sections(i)[0]["kind"] for i in legacy_ids}
    assert check(index_dir) == []  # store and full-text index agree on the new sections
    # the full-text index places matches in the new sections: the gram index's cells are derived again too
    found = search(index_dir, "政府信息公开", limit=None, snippets=False)  # kinds from the gram index
    assert found["total_reports"] == 5 and "proactive" not in kinds
    assert {k for r in found["results"] for k in r["sections"]} <= kinds | {"other"}


def test_a_new_file_with_a_legacy_reports_text_is_that_report(schema1, tmp_path):
    index_dir, corpus, legacy_ids = schema1
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    name = sorted(p.name for p in corpus.iterdir())[0]
    text = (corpus / name).read_text(encoding="utf-8")
    (elsewhere / "副本.txt").write_text(text.replace("\n", "\r\n"), encoding="gb18030")
    summary = index_paths([elsewhere], index_dir, embed=False)
    assert summary.counts()["added"] == 1 and summary.reports == 5
    assert summary.files[0].report_id == _legacy_id(text) and _legacy_id(text) in legacy_ids
    with Store(index_dir) as store:
        assert len(store.report(_legacy_id(text))["sources"]) == 2


def test_a_report_the_new_parser_fails_on_costs_that_report_not_the_run(schema1, monkeypatch):
    index_dir, _, legacy_ids = schema1
    real_parse = parse.parse_report
    with Store(index_dir) as store:
        doomed = store.texts([legacy_ids[0]])[legacy_ids[0]][0]

    def failing(text: str) -> ParsedReport:
        if text == doomed:
            raise ValueError("a parser bug")
        return real_parse(text)

    monkeypatch.setattr("indexer.indexing.parse_report", failing)
    summary = index_paths([], index_dir, embed=False)
    assert summary.rederived == 4 and summary.rederive_failed == [f"{legacy_ids[0]}: ValueError: a parser bug"]
    again = index_paths([], index_dir, embed=False)  # the next run starts, tries again, and goes on
    assert again.rederived == 0 and len(again.rederive_failed) == 1
    with Store(index_dir) as store:
        assert store.report_ids() == legacy_ids and store.stale_report_ids(versions()) == [legacy_ids[0]]
    monkeypatch.setattr("indexer.indexing.parse_report", real_parse)  # the fixed parser
    assert index_paths([], index_dir, embed=False).rederived == 1
    assert check(index_dir) == []
