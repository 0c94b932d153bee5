"""Any sentence-transformers model in torch: the default model in bf16 or fp16, or fp32 where ONNX Runtime is not used."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..source import ModelUnavailableError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def open_model(path: str, name: str, precision: str, device: str, default_model: bool) -> SentenceTransformer:
    """``path`` (a folder or a sentence-transformers name) loaded in ``precision`` on ``device``;
    ``name`` is what the user asked for, for the error message."""
    import torch  # the package, not this module: imports are absolute
    from sentence_transformers import SentenceTransformer

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    model_kwargs: dict[str, Any] = {"dtype": dtype}
    if default_model:
        model_kwargs["add_pooling_layer"] = False
    try:
        return SentenceTransformer(path, device=device, model_kwargs=model_kwargs)
    except (OSError, ValueError) as exc:  # no such folder, no such name on a reachable hub, or no hub
        raise ModelUnavailableError(f"cannot load the model {name!r}: {' '.join(str(exc).split())}") from exc
