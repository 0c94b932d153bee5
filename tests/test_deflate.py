"""The store's texts and the gram segments are deflated by ISA-L where it installs, in zlib's own
format: an index written by either library reads back with the other, so nothing migrates."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import zlib

from indexer.core import deflate
from indexer.fulltext.search import Searcher
from indexer.indexing import index_paths
from tests.conftest import CORPUS, ROOT, sample_text

PHRASES = ["政府信息公开", "依申请公开", "行政复议", "不予公开"]


def test_isal_writes_zlibs_format_at_zlibs_size():
    data = sample_text("guyuan_2019").encode()
    assert deflate._codec.__name__ == "isal.isal_zlib"  # a dependency: the fast path is the one tested
    assert zlib.decompress(deflate.deflate(data)) == data
    for level in (1, 6):
        assert deflate.inflate(zlib.compress(data, level)) == data
    assert len(deflate.deflate(data)) <= 1.05 * len(zlib.compress(data, 1))


def test_without_isal_zlib_does_the_job():
    code = ("import sys; sys.modules['isal'] = None\n"
            "from indexer.core import deflate\n"
            "data = '政府信息公开工作年度报告'.encode() * 50\n"
            "assert deflate._codec.__name__ == 'zlib' and deflate.LEVEL == 1\n"
            "assert deflate.inflate(deflate.deflate(data)) == data\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_an_index_deflated_by_zlib_reads_back_the_same(tmp_path, monkeypatch, indexed):
    """An index written before ISA-L (zlib's level 1 for grams, 6 then 1 for texts) finds what
    today's finds, counts and snippets alike."""
    import indexer.fulltext.grams as grams
    import indexer.store as store

    with monkeypatch.context() as patched:
        patched.setattr(store, "deflate", lambda data: zlib.compress(data, 6))
        patched.setattr(grams, "deflate", lambda data: zlib.compress(data, 1))
        index_paths([CORPUS], tmp_path / "old", embed=False)
    db = sqlite3.connect(tmp_path / "old" / store.STORE_FILE)
    headers = {bytes(text[:2]) for (text,) in db.execute("SELECT text FROM reports")}
    db.close()
    assert headers == {zlib.compress(b"", 6)[:2]}  # written by zlib, as the old code did
    old, new = Searcher(tmp_path / "old"), Searcher(indexed)
    try:
        for phrase in PHRASES:
            was, now = old.run(phrase, limit=None), new.run(phrase, limit=None)
            assert was["total_occurrences"] == now["total_occurrences"] > 0
            assert [(r["report_id"], r["snippets"]) for r in was["results"]] == \
                   [(r["report_id"], r["snippets"]) for r in now["results"]]
    finally:
        old.close()
        new.close()
