"""A generation does not depend on how much of the corpus is in memory at once.

`update_vectors` reads the store a few reports at a time (`READ_REPORTS`), writes and reads the
matrices a few rows at a time (`ROW_BLOCK`), and sums sections piece by piece; the model must
still see the same texts in the same order (the real model's vectors depend on its batches),
and every file written must be the same bytes, the ANN index included. The samples are
embedded by the stand-in model (tests/fake_model.py): this is about bookkeeping, not meaning.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from indexer.indexing import index_paths
from indexer.semantic import vectors as vectors_mod
from indexer.semantic.vectors import load_vectors, update_vectors
from indexer.store import Store
from tests import fake_model
from tests.conftest import CORPUS, SAMPLES


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("memory") / "index"
    index_paths([CORPUS], index_dir, embed=False)
    return index_dir


class Recording(fake_model.FakeEmbedder):
    """The stand-in model, keeping the batches of texts it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def embed_passages(self, texts, batch_size: int = 32, progress: bool = False):  # noqa: ANN001, ANN201
        self.batches.append(list(texts))
        return super().embed_passages(texts)


def embed(source: Path, target: Path, monkeypatch: pytest.MonkeyPatch, **sizes: int) -> tuple[dict, list[list[str]]]:
    """Embed a copy of ``source`` from nothing with the module's sizes set to ``sizes``: each
    generation file's hash, and the batches of texts the model was given."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("index.lock"))
    model = Recording()
    with monkeypatch.context() as patch:
        patch.setitem(vectors_mod._MODELS, fake_model.FAKE_MODEL, model)
        for name, value in sizes.items():
            patch.setattr(vectors_mod, name, value)
        with Store(target, create=False) as store:
            update = update_vectors(target, store, model=fake_model.FAKE_MODEL)
    assert update.written and update.embedded > update.passages > 100
    gen = load_vectors(target).path
    files = {f.name: hashlib.blake2b(f.read_bytes()).hexdigest() for f in gen.iterdir() if f.name != "meta.json"}
    return files, model.batches


def test_reports_and_rows_a_few_at_a_time_give_the_same_generation(indexed, tmp_path, monkeypatch):
    # Sections summed 50 rows at a time in both, so that pieces of 7 rows split groups and blocks.
    same = {"ANN_THRESHOLD": 100, "SUM_BLOCK": 50, "EMBED_BATCH": 16}
    whole, seen_whole = embed(indexed, tmp_path / "whole", monkeypatch, **same)
    pieces, seen_pieces = embed(indexed, tmp_path / "pieces", monkeypatch, **same, READ_REPORTS=1, ROW_BLOCK=7)
    assert {"vectors.npy", "windows.npy", "section_vectors.npy", "ann.faiss"} <= set(whole)
    assert pieces == whole
    assert seen_pieces == seen_whole and len(seen_whole) > 5
    # Longest first across all batches, each distinct text once.
    texts = [t for batch in seen_whole for t in batch]
    assert len(set(texts)) == len(texts) and [len(t) for t in texts] == sorted(map(len, texts), reverse=True)


def test_unchanged_reports_keep_their_rows_read_from_the_previous_file(indexed, tmp_path, monkeypatch):
    """A report added to an embedded index: the others' rows come from the previous
    generation's file (a few rows at a time), the same bytes as embedding all from nothing."""
    monkeypatch.setattr(vectors_mod, "ROW_BLOCK", 5)
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    late = corpus / SAMPLES["huaibei_2018"]
    late.rename(tmp_path / late.name)
    index_dir = tmp_path / "index"
    model = fake_model.install()
    index_paths([corpus], index_dir, embed=True, model=model)
    (tmp_path / late.name).rename(late)
    index_paths([corpus], index_dir, embed=True, model=model)
    with Store(index_dir, create=False) as store:
        again = update_vectors(index_dir, store, model=model)
    assert not again.written
    after = load_vectors(index_dir)
    fresh = tmp_path / "fresh"
    shutil.copytree(index_dir, fresh, ignore=shutil.ignore_patterns("index.lock", "vectors"))
    with Store(fresh, create=False) as store:
        update_vectors(fresh, store, model=model)
    rebuilt = load_vectors(fresh)
    assert len(after.report_ids) == 5 and after.report_ids == rebuilt.report_ids
    assert after.matrix.tobytes() == rebuilt.matrix.tobytes()
    assert after.window_matrix.tobytes() == rebuilt.window_matrix.tobytes()


def test_an_update_forgets_a_model_it_loaded_itself_and_keeps_one_loaded_before(indexed, tmp_path, monkeypatch):
    """`nianbao index` loads the model for itself and drops it before writing the generation (~0.5 GB
    of a 20,000-report run's peak); a model loaded before the update (the desk's) stays loaded."""
    from indexer.semantic import model as model_package

    loads = []

    def load_model(name=None, **options):  # noqa: ANN001, ANN003, ANN202 - load_model's stand-in
        loads.append(name)
        return fake_model.FakeEmbedder()

    monkeypatch.setattr(model_package, "load_model", load_model)
    monkeypatch.delitem(vectors_mod._MODELS, fake_model.FAKE_MODEL, raising=False)
    for name, loaded_before in (("own", False), ("desk", True)):
        target = tmp_path / name
        shutil.copytree(indexed, target, ignore=shutil.ignore_patterns("index.lock"))
        if loaded_before:
            monkeypatch.setitem(vectors_mod._MODELS, fake_model.FAKE_MODEL, fake_model.FakeEmbedder())
        with Store(target, create=False) as store:
            update = update_vectors(target, store, model=fake_model.FAKE_MODEL)
        assert update.written and update.embedded > 100
        assert (fake_model.FAKE_MODEL in vectors_mod._MODELS) is loaded_before
    assert loads == [fake_model.FAKE_MODEL], "only the update without a loaded model loads one"
