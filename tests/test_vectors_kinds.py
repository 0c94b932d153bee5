"""Vectors know their section kinds by name: a generation written with another order of kinds
is read by name, one that names none is rebuilt from the embedding cache, never mislabelled.

The samples are embedded by the stand-in model (tests/fake_model.py): these tests are about the
labels of passage rows, which come from the store, not about meaning."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from indexer.core.filters import SearchFilters
from indexer.indexing import index_paths
from indexer.query import Engine
from indexer.semantic import vectors as vectors_mod
from indexer.semantic.vectors import KINDS, VectorsError, load_vectors, update_vectors, vectors_status
from indexer.store import Store
from tests import fake_model
from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def embedded(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kinds")
    index_dir = root / "index"
    index_paths([CORPUS], index_dir, embed=True, model=fake_model.install())
    return index_dir


@pytest.fixture
def index_dir(embedded, tmp_path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(embedded, target, ignore=shutil.ignore_patterns("index.lock"))
    return target


def store_kinds(index_dir: Path) -> dict[tuple[str, int], str]:
    """(report id, section ord) → its kind as the store holds it."""
    with Store(index_dir, create=False) as store:
        return {(r, s["ord"]): s["kind"] for r in store.report_ids() for s in store.sections(r)}


def row_kinds(index_dir: Path) -> dict[tuple[str, int], set[str]]:
    """(report id, section ord) → the kinds its passage rows and its section row are read as."""
    vs = load_vectors(index_dir)
    out: dict[tuple[str, int], set[str]] = {}
    for table in (vs.passages, vs.sections):
        for report, section, kind in zip(table["report"].tolist(), table["section"].tolist(), table["kind"].tolist()):
            out.setdefault((vs.report_ids[report], section), set()).add(KINDS[kind])
    return out


def assert_labels_agree_with_the_store(index_dir: Path) -> None:
    truth = store_kinds(index_dir)
    labels = row_kinds(index_dir)
    assert len(labels) > 20 and len(set(truth.values())) > 5
    assert labels == {key: {truth[key]} for key in labels}


def test_the_samples_are_labelled_as_the_store_says(index_dir):
    assert load_vectors(index_dir).meta["kinds"] == list(KINDS)
    assert_labels_agree_with_the_store(index_dir)


def test_a_generation_written_with_reordered_kinds_is_read_by_name(index_dir, monkeypatch):
    older = tuple(reversed(KINDS))  # what a release with another order of kinds wrote
    monkeypatch.setattr(vectors_mod, "KINDS", older)
    with Store(index_dir, create=False) as store:
        assert update_vectors(index_dir, store, model=fake_model.FAKE_MODEL).written
    monkeypatch.undo()

    vs = load_vectors(index_dir)
    assert vs.meta["kinds"] == list(older)
    stored = np.load(vs.path / "passages.npy")["kind"]
    assert not np.array_equal(stored, vs.passages["kind"])  # read by position, the labels would be wrong
    assert_labels_agree_with_the_store(index_dir)

    engine = Engine(index_dir, model=fake_model.FAKE_MODEL)
    try:
        found = engine.search("存在的主要问题", SearchFilters(sections=["problems"]), mode="semantic", limit=50)
    finally:
        engine.close()
    assert found["results"] and {r["section_kind"] for r in found["results"]} == {"problems"}

    with Store(index_dir, create=False) as store:  # the next update writes it again with today's codes
        update = update_vectors(index_dir, store, model=fake_model.FAKE_MODEL)
        assert update.written and update.reused == update.passages and update.embedded == 0
        assert load_vectors(index_dir).meta["kinds"] == list(KINDS)
        assert not update_vectors(index_dir, store, model=fake_model.FAKE_MODEL).written
    assert_labels_agree_with_the_store(index_dir)


def test_a_kind_today_does_not_know_is_read_as_other(index_dir):
    gen = load_vectors(index_dir).path
    meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
    meta["kinds"] = [("retired" if kind == "fees" else kind) for kind in meta["kinds"]]
    (gen / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    vectors_mod._LOADED.clear()
    truth = store_kinds(index_dir)
    labels = row_kinds(index_dir)
    fees = [key for key, kind in truth.items() if kind == "fees" and key in labels]
    assert fees and all(labels[key] == {"other"} for key in fees)
    assert all(labels[key] == {truth[key]} for key in labels if key not in fees)


def test_a_generation_naming_no_kinds_is_refused_and_rebuilt_from_the_cache(index_dir):
    gen = load_vectors(index_dir).path
    meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
    del meta["kinds"]  # the layout of a generation that stored kinds by position only
    (gen / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    vectors_mod._LOADED.clear()

    with pytest.raises(VectorsError, match="do not name their section kinds"):
        load_vectors(index_dir)
    with Store(index_dir, create=False) as store:
        status = vectors_status(index_dir, store)
        assert status["present"] and "do not name their section kinds" in status["error"]
        update = update_vectors(index_dir, store, model=fake_model.FAKE_MODEL)
    assert update.written and update.embedded == 0 and update.cached == update.passages > 0
    assert load_vectors(index_dir).path != gen
    assert_labels_agree_with_the_store(index_dir)
