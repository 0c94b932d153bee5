"""The engines that run a model: torch (sentence-transformers) and ONNX Runtime, behind :mod:`.base`."""

from .base import BATCH_SIZES, Backend, EncoderModel

__all__ = ["BATCH_SIZES", "Backend", "EncoderModel"]
