"""Embedding on a Dask cluster gives the index a single-machine run gives (issue #25).

The tests start a local cluster of worker processes. The first two use the stand-in model
(each worker loads it through Dask's preload hook), so they check the bookkeeping: which text
lands in which row, the cache, the generation. The last runs the real model on the workers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from distributed import LocalCluster

from tests import fake_model
from indexer.indexing import index_paths
from indexer.semantic import cluster as cluster_mod
from indexer.semantic import vectors as vectors_mod
from indexer.semantic.vectors import load_vectors
from indexer.store import Store

from tests.conftest import CORPUS, SAMPLES
from tests.test_cli import run

DATA = Path(__file__).parent / "data"
REAL = ["005_shczj2009.txt", "013_shanxi2012.txt", "035_guihuaping2020.txt"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """The five samples and three real excerpts."""
    root = tmp_path_factory.mktemp("reports")
    for path in CORPUS.glob("*.txt"):
        shutil.copy(path, root)
    for name in REAL:
        shutil.copy(DATA / "realworld_shared" / name, root)
    return root


@pytest.fixture(scope="module")
def fake_cluster():
    """Two worker processes, each with the stand-in model."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      preload=[fake_model.__file__]) as local:
        yield local.scheduler_address


def same_vectors(a: Path, b: Path, atol: float = 0, min_cosine: float | None = None) -> None:
    """The same index: identical rows, and vectors equal within `atol` or, for a real model whose
    batches differ, pointing the same way (each row's cosine at least `min_cosine`)."""
    va, vb = load_vectors(a), load_vectors(b)
    assert va.model_id == vb.model_id and va.report_ids == vb.report_ids
    assert np.array_equal(va.passages, vb.passages) and np.array_equal(va.window_owner, vb.window_owner)
    for x, y in ((va.matrix, vb.matrix), (va.window_matrix, vb.window_matrix), (va.report_vectors, vb.report_vectors)):
        if min_cosine is None:
            np.testing.assert_allclose(x, y, atol=atol, rtol=0)
            continue
        x, y = x.astype(np.float32), y.astype(np.float32)
        cosine = (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
        assert x.shape == y.shape and cosine.min() >= min_cosine, cosine.min()


def test_cluster_run_writes_the_single_machine_index(folder, fake_cluster, tmp_path, monkeypatch):
    model = fake_model.install()
    here, there = tmp_path / "here", tmp_path / "there"
    summary = index_paths([folder], here, embed=True, model=model, force=True)
    assert summary.reports == len(SAMPLES) + len(REAL)

    def refuse(*args, **kwargs):
        raise AssertionError("a cluster run embedded in this process")

    monkeypatch.setattr(vectors_mod, "_embed_here", refuse)
    monkeypatch.setattr(cluster_mod, "CLUSTER_BATCH", 50)  # many batches, finishing out of order on 2 workers
    index_paths([folder], there, embed=True, model=model, force=True, cluster=fake_cluster)
    same_vectors(here, there, atol=0)
    first = load_vectors(there)
    assert first.count > 100 and first.meta["embedded"] > first.count  # passages and their windows
    # The workers' vectors are in the cache: the same reports in a fresh generation embed nothing.
    (there / "vectors" / "CURRENT").unlink()
    with Store(there, create=False) as store:
        update = vectors_mod.update_vectors(there, store, model=model, cluster="tcp://127.0.0.1:1")
    assert update.embedded == 0 and update.cached == first.count


def test_unreachable_cluster_is_one_line_and_keeps_the_reports(folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cluster_mod, "CONNECT_TIMEOUT", 2)
    model = fake_model.install()
    index_dir = tmp_path / "index"
    code, out, err = run(capsys, "--index-dir", str(index_dir), "index", "-q", "--force", "--model", model,
                         "--cluster", "tcp://127.0.0.1:1", str(folder))
    assert code == 1 and not out
    assert err.startswith("nianbao: cannot reach the Dask scheduler at tcp://127.0.0.1:1") and err.count("\n") == 1
    with Store(index_dir, create=False) as store:
        assert len(store.report_ids()) == len(SAMPLES) + len(REAL)
    assert not vectors_mod.has_vectors(index_dir)


def test_real_model_on_a_worker_gives_the_local_vectors(tmp_path, monkeypatch):
    """fp32 on both sides (the workers inherit the setting): bf16 results move with the batch's
    other texts, so the two runs would agree to cosine 0.9997; in fp32 to 0.9999 and better (an
    element can still differ by a float16 step where the batches were padded differently)."""
    monkeypatch.setenv("NIANBAO_PRECISION", "fp32")
    reports = tmp_path / "reports"
    reports.mkdir()
    shutil.copy(CORPUS / SAMPLES["huaibei_2018"], reports)
    shutil.copy(DATA / "realworld_shared" / REAL[1], reports)
    here, there = tmp_path / "here", tmp_path / "there"
    index_paths([reports], here, embed=True, force=True)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as local:
        index_paths([reports], there, embed=True, force=True, cluster=local.scheduler_address)
    same_vectors(here, there, min_cosine=0.9999)
