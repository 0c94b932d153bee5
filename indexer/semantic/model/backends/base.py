"""What :class:`~indexer.semantic.model.embedder.Embedder` needs of a backend: the part of
sentence-transformers' ``SentenceTransformer`` it calls, which the torch backend is and the ONNX
backend imitates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

import numpy as np

Backend = Literal["torch", "onnx"]

BATCH_SIZES: dict[Backend, int] = {"onnx": 8, "torch": 32}
"""Texts per model call, measured with bench/embed_speed.py on 2 AVX2 cores: ONNX Runtime gave
73/78/77/71/67/58 passages/s in batches of 4/8/12/16/24/32, torch 54/60/60 in batches of 8/16/32."""


class EncoderModel(Protocol):
    prompts: dict[str, str]
    max_seq_length: int | None

    def get_embedding_dimension(self) -> int: ...

    def encode(self, sentences: Sequence[str], *, prompt: str, batch_size: int, show_progress_bar: bool,
               convert_to_numpy: bool, normalize_embeddings: bool) -> np.ndarray | Any:
        """Vectors for ``prompt + text``, one row per text, in the order given."""
