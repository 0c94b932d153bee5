"""The loaded model as the index uses it: which prefix for which text, batches, order and unit length."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .backends.base import BATCH_SIZES, Backend, EncoderModel
from .cpu import Precision


class Embedder:
    """A loaded sentence-embedding model with the prefixes and normalisation our index relies on."""

    def __init__(self, model: EncoderModel, model_id: str, precision: Precision, prompts: dict[str, str],
                 backend: Backend = "torch"):
        self.model = model
        self.model_id = model_id
        self.precision = precision
        self.prompts = prompts
        self.backend = backend
        self.batch_size = BATCH_SIZES[backend]
        self.dim: int = int(model.get_embedding_dimension())

    @property
    def max_seq_length(self) -> int | None:
        return self.model.max_seq_length

    def embed_passages(self, texts: Sequence[str], batch_size: int | None = None, progress: bool = False) -> np.ndarray:
        """Embed documents (``passage: `` prefix for e5): float32 rows of unit length, in input order."""
        return self._embed(texts, "passage", batch_size, progress)

    def embed_documents(self, texts: Sequence[str], batch_size: int | None = None, progress: bool = False) -> np.ndarray:
        """Embed texts for the index (passages, headings) with the ``index`` prompt: for e5 the
        symmetric ``query: ``, since our queries are paraphrases of passages, not questions.

        Measured on bench/eval_semantic.json (e5-small): ``passage: `` R@1 0.45 / R@5 0.71,
        ``query: `` on both sides 0.62 / 0.79 (the e5 card recommends it for symmetric tasks)."""
        return self._embed(texts, "index", batch_size, progress)

    def embed_queries(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Embed search queries (``query: `` prefix for e5): float32 rows of unit length, in input order."""
        return self._embed(texts, "query", batch_size, False)

    def _embed(self, texts: Sequence[str], kind: str, batch_size: int | None, progress: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("pass a list of texts, not a single string")
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Longest first, so each batch pads to similar lengths; the order is restored below.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        vectors = self.model.encode(
            [texts[i] for i in order],
            prompt=self.prompts[kind],
            batch_size=batch_size or self.batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=False,
        )
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        out[order] = np.asarray(vectors, dtype=np.float32)
        # bf16/fp16 output is only roughly unit length: normalise again in fp32.
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.maximum(norms, np.float32(1e-12))
        return out
