"""`nianbao doctor`: finds what a killed run or a damaged disk leaves, repairs it from the store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from indexer.doctor import check, repair
from indexer.fulltext.grams import SEGMENT_PREFIX, SEGMENT_SUFFIX
from indexer.fulltext.index import FULLTEXT_DIR, FulltextIndex
from indexer.fulltext.search import Searcher
from indexer.indexing import LOCK_FILE, WriteLock
from indexer.normalize import normalize
from indexer.store import Store
from tests import fake_model
from tests.conftest import CORPUS
from tests.test_cli import run


def visible_texts(index_dir: Path) -> tuple[set[str], dict[str, str]]:
    """The published report ids and their normalised texts."""
    store = Store(index_dir, create=False)
    try:
        with store.snapshot():
            ids = set(store.report_ids())
            return ids, {i: norm for i, (_, norm) in store.texts(ids).items()}
    finally:
        store.close()


def assert_search_agrees(index_dir: Path, texts: dict[str, str], terms: list[str]) -> None:
    """Exact search over the published reports equals substring counting over their stored text."""
    searcher = Searcher(index_dir)
    try:
        for term in terms:
            got = {r["report_id"]: r["count"] for r in searcher.run(f'"{term}"', limit=None, snippets=False)["results"]}
            needle = normalize(term)
            assert got == {i: t.count(needle) for i, t in texts.items() if needle in t}, term
    finally:
        searcher.close()


def _copy(indexed: Path, tmp_path: Path) -> Path:
    index_dir = tmp_path / "index"
    shutil.copytree(indexed, index_dir)
    return index_dir


def _segments(index_dir: Path) -> list[Path]:
    return sorted((index_dir / FULLTEXT_DIR).glob(f"{SEGMENT_PREFIX}*{SEGMENT_SUFFIX}"))


@pytest.fixture
def damaged(indexed, tmp_path) -> Path:
    """A copy of the sample index with every kind of damage a killed `index` leaves."""
    index_dir = _copy(indexed, tmp_path)
    store = Store(index_dir)
    ids = store.report_ids()
    with store.transaction() as db:  # a report written under the next generation, never published
        db.execute("INSERT INTO reports (id, gen, source, sha256, text, norm_text, added_at)"
                   " SELECT 'ffffffffffffffff', gen + 100, source, sha256, text, norm_text, added_at FROM reports WHERE id = ?",
                   (ids[1],))
    store.close()
    FulltextIndex(index_dir).delete([ids[0]])
    fulltext = index_dir / FULLTEXT_DIR
    (fulltext / f"{SEGMENT_PREFIX}0123{SEGMENT_SUFFIX}.tmp").write_bytes(b"half a segment")
    (fulltext / "grams.json.4567.tmp").write_text('{"gen": ')
    shutil.copy(_segments(index_dir)[0], fulltext / f"{SEGMENT_PREFIX}orphan{SEGMENT_SUFFIX}")
    (fulltext / f"{SEGMENT_PREFIX}orphan.npz").write_bytes(b"a segment of an earlier version")
    (index_dir / LOCK_FILE).write_text("999999")
    return index_dir


def test_doctor_on_a_healthy_index(capsys, indexed):
    assert check(indexed) == []
    code, out, err = run(capsys, "--index-dir", str(indexed), "doctor")
    assert code == 0 and err == ""  # `indexed` has no vectors, and the line must not claim they agree
    assert out == f"ok: store and full-text index agree; no vectors (indexed with --no-embed: meaning search needs them) ({indexed})\n"
    code, out, _ = run(capsys, "--index-dir", str(indexed), "doctor", "--json")
    assert code == 0 and json.loads(out) == {"ok": True, "repaired": [], "problems": []}


def test_doctor_finds_and_repairs_what_a_killed_run_leaves(capsys, damaged):
    visible, texts = visible_texts(damaged)
    problems = {p.kind: p for p in check(damaged)}
    assert set(problems) == {"unpublished", "temp_files", "fulltext_missing"}
    assert problems["fulltext_missing"].ids == [sorted(visible)[0]]
    assert problems["unpublished"].ids == ["ffffffffffffffff"]
    assert problems["temp_files"].ids == sorted([f"grams-0123{SEGMENT_SUFFIX}.tmp", "grams.json.4567.tmp",
                                                 f"grams-orphan{SEGMENT_SUFFIX}", "grams-orphan.npz"])
    assert all(p.repairable for p in problems.values())

    code, out, err = run(capsys, "--index-dir", str(damaged), "doctor")
    assert code == 1 and len(out.splitlines()) == 3
    assert err.count("\n") == 1 and "3 problem(s)" in err and "doctor --repair" in err
    (damaged / LOCK_FILE).write_text("999999")

    code, out, err = run(capsys, "--index-dir", str(damaged), "doctor", "--repair", "--json")
    result = json.loads(out)
    assert code == 0 and result["ok"] and result["problems"] == [] and err == ""
    assert any("added 1 reports" in line for line in result["repaired"])
    assert any("removed 4 temporary" in line for line in result["repaired"])
    assert any("stale index.lock of killed pid 999999" in line for line in result["repaired"])
    assert (damaged / LOCK_FILE).read_text() == ""
    assert not list((damaged / FULLTEXT_DIR).glob("grams-orphan*"))
    assert check(damaged) == []
    assert visible_texts(damaged) == (visible, texts)
    assert_search_agrees(damaged, texts, ["政府信息公开", "依申请公开", "机关事务局"])


@pytest.mark.parametrize("damage", ["words segments deleted", "gram segment truncated", "gram toc garbled"])
def test_doctor_rebuilds_an_unreadable_fulltext_index(capsys, indexed, tmp_path, damage):
    index_dir = _copy(indexed, tmp_path)
    fulltext = index_dir / FULLTEXT_DIR
    if damage == "words segments deleted":
        for segment in fulltext.glob("*.seg"):
            segment.unlink()
    elif damage == "gram segment truncated":
        segment = _segments(index_dir)[0]
        segment.write_bytes(segment.read_bytes()[:100])
    else:
        (fulltext / "grams.json").write_text("{not json")
    (kind,) = [p.kind for p in check(index_dir)]
    assert kind == "fulltext_unreadable"
    actions = repair(index_dir)
    assert any("unreadable" in a for a in actions) and any("added 5 reports" in a for a in actions)
    assert check(index_dir) == []
    _, texts = visible_texts(index_dir)
    assert_search_agrees(index_dir, texts, ["政府信息公开", "灵武防疫"])


def test_doctor_finds_reports_whose_sections_differ(indexed, tmp_path):
    """A report whose words documents are gone (keyword mode would miss it) is re-derived."""
    from whoosh.query import Term

    index_dir = _copy(indexed, tmp_path)
    victim = sorted(visible_texts(index_dir)[0])[2]
    writer = FulltextIndex(index_dir).open("words").writer()
    writer.delete_by_query(Term("report_id", victim))
    writer.commit()
    (problem,) = check(index_dir)
    assert problem.kind == "fulltext_outdated" and problem.ids == [victim]
    repair(index_dir)
    assert check(index_dir) == []


def test_doctor_leaves_a_damaged_store_alone(capsys, indexed, tmp_path):
    index_dir = _copy(indexed, tmp_path)
    (index_dir / "store.sqlite").write_bytes(b"this is not a database" * 100)
    (problem,) = check(index_dir)
    assert problem.kind == "store_unreadable" and not problem.repairable
    before = sorted(p.name for p in (index_dir / FULLTEXT_DIR).iterdir())
    code, out, err = run(capsys, "--index-dir", str(index_dir), "doctor", "--repair")
    assert code == 1 and "cannot be repaired automatically" in out and "restore" in out
    assert err.count("\n") == 1
    assert sorted(p.name for p in (index_dir / FULLTEXT_DIR).iterdir()) == before


def test_doctor_forgets_files_whose_report_is_missing(indexed, tmp_path):
    """A file record pointing at a report the store lost is forgotten, so `index` reads it again."""
    index_dir = _copy(indexed, tmp_path)
    store = Store(index_dir)
    victim = store.report_ids()[0]
    with store.transaction() as db:
        db.execute("PRAGMA foreign_keys=OFF")
        db.execute("DELETE FROM reports WHERE id=?", (victim,))
    store.close()
    kinds = {p.kind for p in check(index_dir)}
    assert "dangling_files" in kinds and "fulltext_extra" in kinds
    actions = repair(index_dir)
    assert any("forgot 1 file records" in a for a in actions)
    assert check(index_dir) == []


def test_doctor_waits_for_a_running_index_or_says_so(capsys, indexed):
    with WriteLock(indexed):
        code, out, err = run(capsys, "--index-dir", str(indexed), "doctor", "--repair")
    assert code == 1 and out == ""
    assert err.startswith("nianbao: another `nianbao index`") and err.count("\n") == 1


def test_doctor_without_an_index(capsys, tmp_path):
    code, _, err = run(capsys, "--index-dir", str(tmp_path / "none"), "doctor")
    assert code == 1 and "no index at" in err and err.count("\n") == 1


# --- vectors (the optional third component), with a stand-in model -------------------------


@pytest.fixture
def embedded(tmp_path) -> tuple[Path, Path]:
    """(corpus folder, index) of the samples with vectors from the fake model."""
    from indexer.indexing import index_paths

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    index_dir = tmp_path / "index"
    index_paths([corpus], index_dir, embed=True, model=fake_model.install())
    return corpus, index_dir


def test_doctor_checks_vectors_against_the_store(capsys, embedded):
    from indexer.indexing import index_paths

    corpus, index_dir = embedded
    assert check(index_dir) == []
    assert run(capsys, "--index-dir", str(index_dir), "doctor")[1] == f"ok: store, full-text index and vectors agree ({index_dir})\n"
    before = set(visible_texts(index_dir)[0])
    (corpus / "000_325a78626e0cba12.txt").unlink()
    (corpus / "new.txt").write_text((CORPUS / "001_c5ec5838828042f2.txt").read_text(encoding="utf-8") + "\n附记。\n",
                                    encoding="utf-8")
    index_paths([corpus], index_dir, embed=False)  # --no-embed leaves the vectors behind the store
    after = set(visible_texts(index_dir)[0])
    problems = {p.kind: p for p in check(index_dir)}
    assert set(problems) == {"vectors_missing", "vectors_extra"}
    assert problems["vectors_missing"].ids == sorted(after - before)
    assert problems["vectors_extra"].ids == sorted(before - after)
    (index_dir / "vectors" / ".tmp-killed").mkdir()
    assert "vectors_temp_files" in {p.kind for p in check(index_dir)}

    actions = repair(index_dir)
    assert any("temporary vector folders" in a for a in actions)
    assert any("rebuilt the vectors" in a for a in actions), actions
    assert check(index_dir) == []


def test_doctor_rebuilds_unreadable_vectors_from_the_cache(embedded):
    from indexer.semantic import vectors

    _, index_dir = embedded
    current = (index_dir / "vectors" / "CURRENT").read_text(encoding="utf-8").strip()
    vectors._LOADED.clear()  # as in a fresh `nianbao doctor` process
    (index_dir / "vectors" / current / "vectors.npy").write_bytes(b"\x93NUMPY garbage")
    (problem,) = check(index_dir)
    assert problem.kind == "vectors_unreadable" and problem.repairable
    actions = repair(index_dir)
    assert any("rebuilt the vectors" in a and " 0 embedded" in a for a in actions), actions
    assert check(index_dir) == []
