"""The index's write lock (`indexing.WriteLock`, on filelock): one writer, its pid named to the
next one, given up by the OS when the holder dies, never inherited by a forked worker."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from indexer.indexing import LOCK_FILE, IndexLockedError, WriteLock


def test_a_second_writer_is_refused_with_the_holders_pid(tmp_path):
    with WriteLock(tmp_path):
        assert (tmp_path / LOCK_FILE).read_text() == str(os.getpid())
        started = time.monotonic()
        with pytest.raises(IndexLockedError, match=rf"\(pid {os.getpid()}\) is writing to {tmp_path}"):
            with WriteLock(tmp_path):
                pass
        assert time.monotonic() - started < 1.0, "wait=0 must not wait"
    assert (tmp_path / LOCK_FILE).read_text() == "", "a released lock names no holder"
    with WriteLock(tmp_path):
        pass


def test_a_waiting_writer_gets_the_lock_once_it_is_released(tmp_path):
    first = WriteLock(tmp_path).__enter__()
    threading.Timer(0.5, first.__exit__).start()
    started = time.monotonic()
    with WriteLock(tmp_path, wait=10):
        waited = time.monotonic() - started
    assert 0.3 < waited < 5


# The forked child says it runs before the holder says "held": a child not yet scheduled has not
# run filelock's at-fork handler (which closes the lock in it), and on a loaded machine the test
# could kill the holder inside that moment (seen once in CI), which is not the case it is about.
HOLDER = """
import multiprocessing, sys, time
from pathlib import Path
from indexer.indexing import WriteLock

def work(running):
    running.set()
    time.sleep(60)

with WriteLock(Path(sys.argv[1])):
    if sys.argv[2] == "fork":
        fork = multiprocessing.get_context("fork")
        running = fork.Event()
        child = fork.Process(target=work, args=(running,), daemon=False)
        child.start()
        running.wait(60)
        print(child.pid, flush=True)
    print("held", flush=True)
    time.sleep(60)
"""


def _hold(index_dir, fork: bool) -> tuple[subprocess.Popen, int | None]:
    """A process holding the lock (with a forked child, like `index` with its parsing workers)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(index_dir), "fork" if fork else "-"],
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    child = int(holder.stdout.readline()) if fork else None
    assert holder.stdout.readline().strip() == "held"
    return holder, child


def test_a_killed_holders_forked_child_does_not_keep_the_lock(tmp_path):
    """A worker orphaned by `kill -9` of `index` lives on; the next `index` must still get the lock."""
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    holder, child = _hold(tmp_path, fork=True)
    try:
        holder.kill()
        holder.wait()
        os.kill(child, 0)  # the orphan is alive
        with WriteLock(tmp_path):
            pass
    finally:
        os.kill(child, signal.SIGKILL)


def test_a_killed_holder_leaves_the_index_unlocked(tmp_path):
    holder, _ = _hold(tmp_path, fork=False)
    try:
        with pytest.raises(IndexLockedError, match=f"pid {holder.pid}"):
            with WriteLock(tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait()
    with WriteLock(tmp_path):
        pass
