"""sentence-transformers' own ONNX backend against nianbao's hand-written export, on real report text.

Why: sentence-transformers offers ``SentenceTransformer(..., backend="onnx")`` and
``export_dynamic_quantized_onnx_model``; nianbao would drop its own ONNX export
(indexer/semantic/model/backends/onnx.py) for them if they gave the same vectors at least as fast.
Both need optimum-onnx, whose releases (0.1.0 at most) require transformers < 4.58 while
sentence-transformers 6 requires transformers >= 5, so this script cannot run in nianbao's own
environment. Run it in a separate venv that sees nianbao's packages but overrides those four:

    python -m venv /tmp/st5 && echo "$VIRTUAL_ENV/lib/python3.11/site-packages" \\
        > /tmp/st5/lib/python3.11/site-packages/zz_nianbao.pth
    /tmp/st5/bin/pip install "optimum-onnx[onnxruntime]==0.1.0" "sentence-transformers<6" "transformers<4.58"
    PYTHONPATH=$PWD /tmp/st5/bin/python bench/st_onnx_backend.py

Every variant embeds the same passages (lines of tests/data/realworld_shared cut to 300
characters, with the ``query: `` prompt the index uses) in the same process; cosines are per
row against sentence-transformers' torch fp32.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "query: "
MAX_SEQ_LENGTH = 256


def passages(corpus: Path) -> list[str]:
    """The passages bench/embed_speed.py embeds (its imports load no model, so any version serves)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("embed_speed", ROOT / "bench" / "embed_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.corpus_passages(corpus)


def timed(encode, texts: list[str], batch_size: int, repeat: int) -> tuple[float, np.ndarray]:
    """Best passages/s over ``repeat`` runs after a warm-up batch; texts sorted longest first, as nianbao does."""
    order = np.argsort([-len(t) for t in texts], kind="stable")
    ordered = [texts[i] for i in order]
    encode(ordered[:batch_size], batch_size)
    best, vectors = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        vectors = encode(ordered, batch_size)
        best = min(best, time.perf_counter() - start)
    out = np.empty_like(vectors)
    out[order] = vectors
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return len(texts) / best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "tests" / "data" / "realworld_shared")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-sizes", default="8,32")
    args = parser.parse_args()

    import onnxruntime
    import sentence_transformers
    import transformers
    from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model
    from sentence_transformers import export_optimized_onnx_model

    from indexer.semantic.model.backends.onnx import OnnxModel, ensure_onnx_model
    from indexer.semantic.model.source import ensure_default_model

    texts = passages(args.corpus)
    print(f"{len(texts)} passages from {args.corpus}; sentence-transformers {sentence_transformers.__version__}, "
          f"transformers {transformers.__version__}, onnxruntime {onnxruntime.__version__}, {os.cpu_count()} CPUs")
    work = Path(tempfile.mkdtemp(prefix="st-onnx-"))
    folder = work / "model"
    shutil.copytree(ensure_default_model(), folder)
    # Written by sentence-transformers 6 and transformers 5: name the same tokenizer.json and
    # modules as the older versions do.
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    modules = json.loads((folder / "modules.json").read_text())
    for module in modules:
        module["type"] = module["type"].replace("base.modules.normalize", "sentence_transformer.modules.normalize")
    (folder / "modules.json").write_text(json.dumps(modules))
    kwargs = {"add_pooling_layer": False}

    def st_encoder(model):
        model.max_seq_length = MAX_SEQ_LENGTH
        return lambda batch, size: model.encode(batch, prompt=PROMPT, batch_size=size, convert_to_numpy=True,
                                                normalize_embeddings=False)

    start = time.perf_counter()
    st_torch = SentenceTransformer(str(folder), device="cpu", model_kwargs={**kwargs, "torch_dtype": "float32"})
    # optimum exports last_hidden_state; add_pooling_layer is not an option it takes.
    st_onnx = SentenceTransformer(str(folder), device="cpu", backend="onnx")
    st_onnx.save_pretrained(str(folder))  # writes onnx/model.onnx, the export the next two start from
    export_optimized_onnx_model(st_onnx, "O2", str(folder))
    export_dynamic_quantized_onnx_model(st_onnx, "avx512_vnni", str(folder))
    print(f"exports made in {time.perf_counter() - start:.0f} s")
    variants = {
        "st torch fp32": st_encoder(st_torch),
        "st onnx fp32": st_encoder(st_onnx),
        "st onnx O2": st_encoder(SentenceTransformer(str(folder), device="cpu", backend="onnx",
                                                     model_kwargs={"file_name": "onnx/model_O2.onnx"})),
        "st onnx qint8": st_encoder(SentenceTransformer(
            str(folder), device="cpu", backend="onnx",
            model_kwargs={"file_name": "onnx/model_qint8_avx512_vnni.onnx"})),
    }
    for variant in ("fp32", "int8"):
        ours = OnnxModel(ensure_onnx_model(variant), MAX_SEQ_LENGTH)
        variants[f"nianbao onnx {variant}"] = (
            lambda m: lambda batch, size: m.encode(batch, prompt=PROMPT, batch_size=size))(ours)

    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        reference = None
        for label, encode in variants.items():
            load = os.getloadavg()[0]
            rate, vectors = timed(encode, texts, batch_size, args.repeat)
            if reference is None:
                reference = (rate, vectors)
            cosines = np.sum(vectors * reference[1], axis=1)
            print(f"batch {batch_size:>2} {label:>18}: {rate:6.1f} passages/s ({rate / reference[0]:.2f}x st torch fp32)"
                  f"  cosine min {cosines.min():.6f} (1 - min {1 - cosines.min():.1e}) mean {cosines.mean():.6f}"
                  f"  load {load:.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
