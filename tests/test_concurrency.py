"""Searches during `index`: every answer comes from the old corpus or the new one, never a mix.

Readers run in their own processes (like the app or a second terminal) while real
`nianbao index` processes switch the corpus between two states, back and forth; every
observation must equal what a quiet index of one of the two states answers.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.fulltext.search import Searcher
from indexer.indexing import index_paths
from indexer.query import run_search
from tests.conftest import CORPUS, ROOT
from tests.test_crash_recovery import synthetic_reports

MARK_OLD, MARK_NEW = "甲乙丙丁", "戊己庚辛"
QUERIES = [
    ("exact", f"{MARK_OLD} OR {MARK_NEW}"),
    ("exact", "政府信息公开"),
    ("exact", "依申请公开 -政府开放日"),
    ("exact", f'"修订 说明" OR {MARK_NEW}'),
    ("exact", "审计局 year:2019-2021"),
    ("keyword", f"{MARK_OLD} {MARK_NEW}"),
]
KEYS = [f"{mode}:{query}" for mode, query in QUERIES] + ["reports"]


def _signature(result: dict) -> tuple:
    rows = tuple(sorted((r["report_id"], r["count"], r["score"]) for r in result["results"]))
    return result["total_reports"], result["total_occurrences"], rows


def _keyword_signature(result: dict) -> tuple:
    """Keyword BM25 statistics come from Whoosh, which counts a running index's unpublished documents;
    which reports match may not change, their scores may."""
    return result["total_reports"], tuple(sorted((r["report_id"], r["count"]) for r in result["results"]))


def _answer(searcher: Searcher, index_dir: Path, key: str, fresh: bool) -> tuple:
    """One search (one snapshot), or the report list, as a comparable signature."""
    if key == "reports":
        with searcher.store.snapshot():
            return tuple(searcher.store.report_ids())
    mode, _, query = key.partition(":")
    if fresh:
        result = run_search(index_dir, query, mode=mode, limit=None)
    else:
        result = searcher.run(query, mode=mode, limit=None, snippets=False)
    return _keyword_signature(result) if mode == "keyword" else _signature(result)


def _observe(searcher: Searcher, index_dir: Path, fresh: bool) -> dict[str, tuple]:
    return {key: _answer(searcher, index_dir, key, fresh) for key in KEYS}


def _reader(index_dir: str, fresh: bool, ready, stop, results) -> None:
    """Loop searches until told to stop; report every (key, answer) and every exception.

    Each search is its own snapshot, so each answer (not a round of them) must come from one
    corpus: an `index` may publish between two searches of a round."""
    seen: list[tuple[str, tuple]] = []
    errors: list[str] = []
    searcher = Searcher(Path(index_dir))
    while not stop.is_set():
        for key in KEYS:
            try:
                seen.append((key, _answer(searcher, Path(index_dir), key, fresh)))
            except Exception as exc:  # the test's point: nothing may escape
                errors.append(f"{key}: {type(exc).__name__}: {exc}")
        ready.set()  # a first round is done: the writers may start
    searcher.close()
    results.put((seen, errors))


def _write_state(folder: Path, state: dict[str, str]) -> None:
    for path in folder.glob("*.txt"):
        if path.name not in state:
            path.unlink()
    for name, text in state.items():
        target = folder / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")


def _states(tmp_path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Old: samples + 20 synthetic reports + a marked one. New: 4 removed, 4 revised, 16 added, marks swapped."""
    pool = synthetic_reports(tmp_path / "pool", 36, seed=11)
    texts = {p.name: p.read_text(encoding="utf-8") for p in pool}
    names = sorted(texts)
    old = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.txt")}
    old.update({n: texts[n] for n in names[:20]})
    old["marked.txt"] = old["000_325a78626e0cba12.txt"] + f"\n附记：{MARK_OLD}。\n"
    new = {n: t for n, t in old.items() if n not in names[:4] and n != "marked.txt"}
    for n in names[4:8]:
        new[n] = texts[n] + "\n修订说明：本报告于次年修订。\n"
    new.update({n: texts[n] for n in names[20:36]})
    new["marked-new.txt"] = old["003_b6c5992465737a46.txt"] + f"\n附记：{MARK_NEW}。\n"
    return old, new


def _expected(tmp_path: Path, name: str, state: dict[str, str]) -> dict[str, tuple]:
    folder = tmp_path / f"quiet-{name}"
    folder.mkdir()
    _write_state(folder, state)
    index_paths([folder], tmp_path / f"quiet-{name}-index", embed=False)
    searcher = Searcher(tmp_path / f"quiet-{name}-index")
    try:
        return _observe(searcher, tmp_path / f"quiet-{name}-index", fresh=False)
    finally:
        searcher.close()


@pytest.mark.slow
def test_searches_during_index_see_the_old_or_the_new_corpus(tmp_path):
    old, new = _states(tmp_path)
    expected = {"old": _expected(tmp_path, "old", old), "new": _expected(tmp_path, "new", new)}
    assert expected["old"] != expected["new"]
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    _write_state(corpus, old)
    index_paths([corpus], index_dir, embed=False)

    ctx = multiprocessing.get_context("spawn")
    stop, results = ctx.Event(), ctx.Queue()
    ready = [ctx.Event() for _ in range(2)]
    readers = [ctx.Process(target=_reader, args=(str(index_dir), fresh, is_ready, stop, results))
               for fresh, is_ready in zip((False, True), ready)]
    for reader in readers:
        reader.start()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        # Index runs once took longer than the readers' imports and first round; now they may not.
        assert all(is_ready.wait(timeout=120) for is_ready in ready), "a reader never finished a round"
        for state in (new, old, new):
            _write_state(corpus, state)
            run = subprocess.run([sys.executable, "-m", "indexer.cli", "--index-dir", str(index_dir), "index",
                                  "--no-embed", "-q", str(corpus)], capture_output=True, text=True, env=env,
                                 timeout=300)
            assert run.returncode == 0, run.stderr
            time.sleep(0.5)
    finally:
        stop.set()
        outcomes = [results.get(timeout=120) for _ in readers]
        for reader in readers:
            reader.join(timeout=30)

    for seen, errors in outcomes:
        assert errors == []
        # A reader that opens a fresh Engine per search is slow on a loaded machine: two rounds suffice.
        assert len(seen) >= 2 * len(KEYS), f"only {len(seen)} answers"
        corpora = []
        for key, answer in seen:
            matches = [name for name, state in expected.items() if state[key] == answer]
            assert matches, _diff(key, answer, expected)
            if len(matches) == 1:
                corpora.append(matches[0])
        assert {"old", "new"} <= set(corpora), f"{len(seen)} answers, from: {sorted(set(corpora))}"


def _diff(key: str, answer: tuple, expected: dict) -> str:
    return (f"{key} answered from neither corpus: got {answer!r:.400}, old {expected['old'][key]!r:.400}, "
            f"new {expected['new'][key]!r:.400}")


def test_a_search_that_overlaps_a_publish_answers_from_one_corpus(tmp_path, monkeypatch):
    """Deterministic race: `index` publishes and deletes the replaced documents between a search's
    snapshot and its reading the gram index; the search must still answer from one corpus."""
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    base = (CORPUS / "000_325a78626e0cba12.txt").read_text(encoding="utf-8")
    for path in CORPUS.glob("*.txt"):
        shutil.copy(path, corpus)
    (corpus / "a.txt").write_text(base + f"\n附记：{MARK_OLD}。\n", encoding="utf-8")
    index_paths([corpus], index_dir, embed=False)
    searcher = Searcher(index_dir)
    query = f"{MARK_OLD} OR {MARK_NEW}"
    (old,) = searcher.run(query, limit=None)["results"]
    original = searcher.corpus

    def corpus_then_index():
        state = original()
        monkeypatch.setattr(searcher, "corpus", original)
        (corpus / "a.txt").unlink()
        (corpus / "b.txt").write_text(base + f"\n附记：{MARK_NEW}。\n", encoding="utf-8")
        index_paths([corpus], index_dir, embed=False)
        return state

    monkeypatch.setattr(searcher, "corpus", corpus_then_index)
    during = searcher.run(query, limit=None)["results"]
    after = searcher.run(query, limit=None)["results"]
    searcher.close()
    assert len(after) == 1 and after[0]["report_id"] != old["report_id"]
    assert [r["report_id"] for r in during] in ([old["report_id"]], [after[0]["report_id"]])


def test_opening_the_index_does_not_read_a_table_of_contents_a_commit_may_delete(indexed, monkeypatch):
    """A new searcher (every CLI search) opened Whoosh's newest table of contents just to learn that
    the index exists; an `index` committing in another process deleted it in between now and then."""
    def deleted_meanwhile(*args, **kwargs):
        raise FileNotFoundError("_words_6.toc")

    monkeypatch.setattr("whoosh.index.open_dir", deleted_meanwhile)
    assert run_search(indexed, "政府信息公开", limit=1)["total_reports"] == 5
