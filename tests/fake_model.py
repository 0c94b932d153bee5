"""A stand-in embedding model for tests about vectors' bookkeeping, not their meaning.

Loading the real model takes seconds and embedding a report about as long; tests that
kill `index` twenty times or repair vectors need the write path, not the semantics. The
fake is registered in the semantic layer's model cache under FAKE_MODEL, so `--model
fake-model` (or `model="fake-model"`) uses it in this process without loading anything.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

import numpy as np

FAKE_MODEL = "fake-model"
DIM = 16


class FakeEmbedder:
    """Unit vectors drawn from each text's hash; `delay` seconds per text imitate the model's cost."""

    def __init__(self, delay: float = 0.0) -> None:
        self.model_id = FAKE_MODEL
        self.dim = DIM
        self.delay = delay

    def embed_passages(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return self._embed(texts)

    def embed_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._embed(texts)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(self.delay * len(texts))
        rows = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            rows[i] = np.random.default_rng(seed).standard_normal(DIM)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def install(delay: float = 0.0) -> str:
    """Register the fake model for this process; returns the name to pass as `model`."""
    from indexer.semantic import vectors

    vectors._MODELS[FAKE_MODEL] = FakeEmbedder(delay)
    return FAKE_MODEL


def dask_setup(worker: object) -> None:
    """Dask's hook for a worker preload (``LocalCluster(preload=[this file])``): the fake model
    in every worker process, as in the test's own."""
    install()
