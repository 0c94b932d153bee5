"""`nianbao index` killed with SIGKILL at random moments.

After every kill the store, the full-text index and the vectors must open and agree on
every published report (leftovers of the killed run aside, which `index` and `doctor
--repair` clear), readers must see the last published corpus, the killed run's workers
must not linger holding the lock, and the next plain `index` must finish the work and
clean up. Vectors come from a stand-in model (tests/fake_model.py) that costs a few
milliseconds a passage: the real one would spend the test's time loading and embedding,
while what a kill can break is the bookkeeping, which is the same for any model.
"""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from indexer.doctor import check, repair
from indexer.fulltext.index import FULLTEXT_DIR, FulltextIndex
from indexer.indexing import LOCK_FILE, report_id_for
from indexer.ingest import read_report_file
from tests.conftest import ROOT
from tests.fake_model import FAKE_MODEL
from tests.test_doctor import assert_search_agrees, visible_texts

# What a killed run may leave behind; the next `index` (or `doctor --repair`) removes all of it.
CRASH_LEFTOVERS = {"unpublished", "temp_files", "fulltext_extra", "vectors_missing", "vectors_extra",
                   "vectors_temp_files"}
# A finished run leaves nothing behind: it removes what the killed runs left.
AFTER_A_FINISHED_RUN: set[str] = set()
KILLS = 20
# Killed runs write in batches this small, so one run commits several times and kills land
# between and inside commits, not only while files are parsed.
BATCH = 4
INITIAL, ADDED, REVISED, DELETED = 40, 3, 1, 1  # the first runs parse in worker processes (>= 40 files)
_RUNNER = ("import sys; import indexer.indexing as ix; ix.BATCH_REPORTS = int(sys.argv.pop(1)); "
           "from tests import fake_model; fake_model.install(delay=0.003); from indexer.cli import main; main()")
SEED = int(os.environ.get("NIANBAO_CRASH_SEED", "20261125"))


def synthetic_reports(out_dir: Path, n: int, seed: int = 7) -> list[Path]:
    """n distinct, realistic reports from bench/synth.py's generator (deterministic from the seed)."""
    spec = importlib.util.spec_from_file_location("nianbao_bench_synth", ROOT / "bench" / "synth.py")
    module = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    module.generate(out_dir, n, seed, workers=1)
    return sorted(out_dir.glob("*.txt"))


def _index_command(index_dir: Path, corpus: Path) -> list[str]:
    return [sys.executable, "-c", _RUNNER, str(BATCH), "--index-dir", str(index_dir), "index", "--embed",
            "--model", FAKE_MODEL, "-q", str(corpus)]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _plain_run(index_dir: Path, corpus: Path) -> float:
    started = time.monotonic()
    done = subprocess.run(_index_command(index_dir, corpus), capture_output=True, text=True, env=_env(),
                          cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - started


class _Moment:
    """When to kill: `delay` seconds after `event` is first seen (None: after the start).

    Killing at a uniformly random time mostly lands while files are parsed; the write steps
    (a batch committed to the gram index, the publish, the vectors written) are short, so
    most kills wait for one of them and strike within the next instant."""

    def __init__(self, index_dir: Path, event: str | None, delay: float) -> None:
        self.index_dir, self.event, self.delay = index_dir, event, delay
        self.toc = index_dir / FULLTEXT_DIR / "grams.json"
        self.base = (self._toc_stamp(), self._gen())

    def _toc_stamp(self) -> int | None:
        try:
            return self.toc.stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def _gen(self) -> int | None:
        try:
            db = sqlite3.connect(f"file:{self.index_dir / 'store.sqlite'}?mode=ro", uri=True, timeout=1)
            try:
                return int(db.execute("SELECT value FROM meta WHERE key='visible_gen'").fetchone()[0])
            finally:
                db.close()
        except (sqlite3.Error, TypeError):
            return None

    def seen(self) -> bool:
        if self.event is None:
            return True
        if self.event == "commit":
            return self._toc_stamp() != self.base[0]
        if self.event == "publish":
            return self._gen() != self.base[1]
        return any((self.index_dir / "vectors").glob(".tmp-*"))


def _killed_run(index_dir: Path, corpus: Path, moment: _Moment) -> tuple[bool, float]:
    """Start `index`, SIGKILL it at `moment`; (finished first, seconds). Its workers must exit too."""
    started = time.monotonic()
    proc = subprocess.Popen(_index_command(index_dir, corpus), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=_env(), cwd=ROOT)
    deadline = None
    children: dict[int, psutil.Process] = {}
    while proc.poll() is None and (deadline is None or time.monotonic() < deadline):
        if deadline is None and moment.seen():
            deadline = time.monotonic() + moment.delay
        try:
            children.update({c.pid: c for c in psutil.Process(proc.pid).children(recursive=True)})
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.005)
    finished = proc.poll() is not None
    if not finished:
        proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    seconds = time.monotonic() - started
    assert not finished or proc.returncode == 0, err.decode()
    _, alive = psutil.wait_procs(list(children.values()), timeout=5)
    for orphan in alive:
        orphan.kill()
    assert not alive, f"workers of the killed index outlived it: {[p.pid for p in alive]}"
    return finished, seconds


def _expected_ids(corpus: Path) -> set[str]:
    return {report_id_for(read_report_file(p)[1]) for p in corpus.glob("*.txt")}


def _mutate(corpus: Path, pool: list[Path], rng: random.Random, step: int) -> None:
    """Add reports from the pool, revise some (a revision is a new report id), delete some."""
    present = sorted(corpus.glob("*.txt"))
    for path in [p for p in pool if not (corpus / p.name).exists()][:ADDED]:
        shutil.copy(path, corpus / path.name)
    for path in rng.sample(present, REVISED):
        with path.open("a", encoding="utf-8") as f:
            f.write(f"\n修订标记{step}：本报告已更正。\n")
    for path in rng.sample(present, DELETED):
        path.unlink()


def _startup_seconds() -> float:
    """How long the index command takes to import before it touches the index."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import indexer.cli, indexer.indexing, indexer.fulltext.search"],
                   check=True, env=_env(), cwd=ROOT)
    return time.monotonic() - started


@pytest.mark.slow
def test_index_killed_at_random_moments_recovers(tmp_path):
    rng = random.Random(SEED)
    pool = synthetic_reports(tmp_path / "pool", INITIAL + 40 * ADDED, seed=5)
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    for path in pool[:INITIAL]:
        shutil.copy(path, corpus / path.name)

    # Kills are spread over a whole run: startup, then parsing and writing the pending files.
    startup = _startup_seconds()
    per_file = 0.15  # refined from every run that finishes
    published: set[str] = set()
    pending = INITIAL
    kills = step = 0
    terms = ["政府信息公开", "依申请公开", "修订标记"]
    while kills < KILLS:
        step += 1
        if step > 1:
            _mutate(corpus, pool, rng, step)
            pending += ADDED + REVISED
            terms.append(f"修订标记{step}")
        target = _expected_ids(corpus)
        if step % 5 == 0:
            seconds, finished = _plain_run(index_dir, corpus), True
        else:
            event = rng.choice([None, None, "commit", "publish", "vectors"])
            if event is None:
                moment = _Moment(index_dir, None, rng.uniform(0.7 * startup, startup + 1.2 * per_file * pending))
            else:
                moment = _Moment(index_dir, event, rng.uniform(0.0, 0.15))
            finished, seconds = _killed_run(index_dir, corpus, moment)
            kills += not finished
        if finished:
            per_file = max((seconds - startup) / max(pending, 1), 0.01)
        if not (index_dir / "store.sqlite").exists():
            assert not finished and not published
            continue
        problems = check(index_dir)
        visible, texts = visible_texts(index_dir)
        if finished:
            assert visible == target
            assert {p.kind for p in problems} <= AFTER_A_FINISHED_RUN, problems
            assert list((index_dir / FULLTEXT_DIR).glob("*.tmp")) == []
            assert (index_dir / LOCK_FILE).read_text() == ""
        else:
            assert {p.kind for p in problems} <= CRASH_LEFTOVERS, problems
            assert visible in (published, target)
        if visible == target:
            published, pending = visible, 0
        assert_search_agrees(index_dir, texts, terms[:3] + terms[-2:])

    _plain_run(index_dir, corpus)
    visible, texts = visible_texts(index_dir)
    assert visible == _expected_ids(corpus)
    assert {p.kind for p in check(index_dir)} <= AFTER_A_FINISHED_RUN
    repair(index_dir)
    assert check(index_dir) == []
    assert FulltextIndex(index_dir).report_ids() == visible
    assert not list((index_dir / "vectors").glob(".tmp-*"))
    assert (index_dir / LOCK_FILE).read_text() == ""
    assert_search_agrees(index_dir, texts, terms)


class _Killed(BaseException):
    """Stands for the kill: nothing after it in the run happens."""


def test_a_kill_between_the_two_full_text_commits_is_repaired_by_the_next_run(tmp_path, monkeypatch):
    """`FulltextIndex.add` commits two indexes, words (Whoosh) and grams; a kill between the
    commits leaves one report in one of them. Whichever comes second is made to die here, and the
    file is removed before the next plain run, which must leave no full-text problem (repair reconciles by the gram index's ids, so the
    orphan must be there, not in the words index)."""
    from indexer.fulltext import index as fulltext_index
    from indexer.indexing import index_paths

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    pool = synthetic_reports(tmp_path / "pool", 4, seed=11)
    for path in pool[:3]:
        shutil.copy(path, corpus / path.name)
    index_paths([corpus], index_dir, workers=1)
    shutil.copy(pool[3], corpus / pool[3].name)

    calls: list[str] = []

    def second_dies(name: str, original):
        def wrapped(*args, **kwargs):
            calls.append(name)
            if len(calls) == 2:
                raise _Killed
            return original(*args, **kwargs)
        return wrapped

    with monkeypatch.context() as patched:
        patched.setattr(fulltext_index.GramIndex, "add", second_dies("grams", fulltext_index.GramIndex.add))
        patched.setattr(fulltext_index.SectionWriter, "commit", second_dies("words", fulltext_index.SectionWriter.commit))
        with pytest.raises(_Killed):
            index_paths([corpus], index_dir, workers=1)
    assert len(calls) == 2, calls
    assert {p.kind for p in check(index_dir)} <= CRASH_LEFTOVERS

    (corpus / pool[3].name).unlink()  # gone before the next run: nothing re-adds (and so replaces) it
    index_paths([corpus], index_dir, workers=1)
    assert check(index_dir) == []
    visible, texts = visible_texts(index_dir)
    assert visible == _expected_ids(corpus)
    assert_search_agrees(index_dir, texts, ["政府信息公开", "依申请公开"])
