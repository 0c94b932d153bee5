"""Shared fixtures: the bundled sample reports, indexed once per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"

# Keep every test's caches (jieba, the converted model) out of the user's home.
os.environ.setdefault("NIANBAO_CACHE", str(Path(os.environ.get("NIANBAO_TEST_CACHE", ROOT / ".nianbao" / "test-cache"))))

SAMPLES = {
    "lingwu_commerce_2018": "000_325a78626e0cba12.txt",
    "guyuan_2019": "001_c5ec5838828042f2.txt",
    "huaibei_2018": "002_197c637067fde242.txt",
    "lingwu_gov_2020": "003_b6c5992465737a46.txt",
    "shapotou_2018": "004_0f363eaae7a2256d.txt",
}


def sample_text(key: str) -> str:
    return (CORPUS / SAMPLES[key]).read_text(encoding="utf-8")


@pytest.fixture(autouse=True, scope="session")
def desk_on_loopback():
    """The desk refuses an unset `server.address` (Streamlit then listens everywhere); AppTest serves nothing."""
    from streamlit import config

    config.set_option("server.address", "127.0.0.1")


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def indexed(tmp_path_factory) -> Path:
    """An index directory holding the five samples (full text and store; no embeddings)."""
    from indexer.indexing import index_paths

    index_dir = tmp_path_factory.mktemp("index")
    summary = index_paths([CORPUS], index_dir, embed=False)
    assert summary.counts()["added"] == 5
    return index_dir


@pytest.fixture(scope="session")
def stand_in_engine(tmp_path_factory):
    """An `Engine` over the five samples with the stand-in model's vectors (every mode, no real model)."""
    from indexer.indexing import index_paths
    from indexer.query import Engine
    from tests import fake_model

    root = tmp_path_factory.mktemp("stand-in")
    shutil.copytree(CORPUS, root / "corpus")
    model = fake_model.install()
    index_paths([root / "corpus"], root / "index", embed=True, model=model)
    engine = Engine(root / "index", model=model)
    yield engine
    engine.close()


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the samples for tests that change files."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def index_dir(tmp_path) -> Path:
    return tmp_path / "index"
