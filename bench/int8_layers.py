"""Which MatMuls lose the precision when the default model's ONNX graph is quantised to int8.

Why: dynamic int8 with signed weights (u8s8, the native VNNI product) is faster than the
unsigned weights nianbao used to ship, but quantising every MatMul cost min cosine to fp32
below the 0.99 floor. This quantises one group of MatMuls at a time (the rest in fp32), or
all but the groups named, and prints each variant's min and mean cosine to the fp32 graph on
the 387 lines of ``corpus/`` and the 245 of ``tests/data/realworld_shared`` (bench/embed_speed.py's
texts, table rows included) and on the distinct texts ``nianbao index`` embeds for both folders
(passages with their heading, and windows), each with the index's ``query: `` prompt, so the
fewest groups can be kept in fp32.

    python bench/int8_layers.py --one-at-a-time            # each group alone in int8
    python bench/int8_layers.py --exclude ffn_out ffn_in.5  # all int8 but these groups
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from embed_speed import corpus_passages
from indexer.semantic.model import ensure_onnx_model
from indexer.semantic.model.backends.onnx import OnnxModel

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "query: "
KINDS = {  # group kind -> how its node is named in the fused graph
    "qkv": r"^Attention_(\d+)$",
    "attn_out": r"layer\.(\d+)/attention/output/dense/MatMul$",
    "ffn_in": r"layer\.(\d+)/intermediate/dense/MatMul$",
    "ffn_out": r"layer\.(\d+)/output/dense/MatMul$",
}


def groups(model: Path) -> dict[str, str]:
    """Node name -> group (``kind.layer``) for every MatMul and Attention of the fused graph."""
    import onnx

    out = {}
    for node in onnx.load(str(model), load_external_data=False).graph.node:
        for kind, pattern in KINDS.items():
            match = re.search(pattern, node.name)
            if match:
                out[node.name] = f"{kind}.{match.group(1)}"
    return out


def selected(names: dict[str, str], spec: list[str]) -> list[str]:
    """Nodes whose group is named in ``spec`` (``ffn_out`` for every layer, ``ffn_out.4`` for one)."""
    return [n for n, g in names.items() if g in spec or g.split(".")[0] in spec]


def index_texts(folders: list[Path]) -> list[str]:
    """The distinct texts ``nianbao index`` embeds for these folders: passages (heading in front)
    and their windows, as :func:`indexer.semantic.vectors._gather` makes them."""
    from indexer.indexing import index_paths
    from indexer.semantic.passages import iter_passages, windows
    from indexer.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        index_paths(folders, Path(tmp), embed=False)
        store = Store(Path(tmp), create=False)
        passages = list(iter_passages(store.paragraphs(), headings=store.section_headings()))
        store.close()
    return list(dict.fromkeys([p.embed_text for p in passages] + [w for p in passages for w in windows(p)]))


def quantize(fp32: Path, out: Path, nodes: list[str], signed: bool, asymmetric: bool = False) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)
    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8 if signed else QuantType.QUInt8,
                     per_channel=True, op_types_to_quantize=["MatMul", "Attention"], nodes_to_quantize=nodes,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT,
                                    **({"WeightSymmetric": False} if asymmetric else {})})
    logging.disable(logging.NOTSET)


def vectors(folder: Path, sets: dict[str, list[str]], batch: int) -> tuple[dict[str, np.ndarray], float]:
    """Each set's vectors as the index makes them (longest first, in batches), and texts/s."""
    model = OnnxModel(folder, 256)
    start = time.perf_counter()
    out = {}
    for name, texts in sets.items():
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out[name] = np.empty((len(texts), model.get_embedding_dimension()), dtype=np.float32)
        out[name][order] = model.encode([texts[i] for i in order], prompt=PROMPT, batch_size=batch)
    return out, sum(map(len, sets.values())) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one-at-a-time", action="store_true", help="each group alone in int8")
    parser.add_argument("--kinds", action="store_true", help="each kind (all layers) alone in int8")
    parser.add_argument("--exclude", nargs="*", action="append", default=[], help="all in int8 but these groups")
    parser.add_argument("--batch", type=int, default=8, help="texts per model call (the activations' int8 scale is the batch's)")
    parser.add_argument("--each", action="store_true",
                        help="with one --exclude: also keep each other group in fp32, one at a time")
    parser.add_argument("--sets", nargs="+", default=["corpus", "real", "indexed"], help="which texts to compare on")
    parser.add_argument("--asymmetric", action="store_true", help="signed weights with a zero point (all 256 steps)")
    parser.add_argument("--unsigned", action="store_true", help="u8u8 (unsigned weights) instead of u8s8")
    args = parser.parse_args()

    fp32 = ensure_onnx_model("fp32")
    names = groups(fp32 / "model.onnx")
    make = {"corpus": lambda: corpus_passages(ROOT / "corpus"),
            "real": lambda: corpus_passages(ROOT / "tests/data/realworld_shared"),
            "indexed": lambda: index_texts([ROOT / "corpus", ROOT / "tests/data/realworld_shared"])}
    sets = {name: make[name]() for name in args.sets}
    base, rate = vectors(fp32, sets, args.batch)
    print(" + ".join(f"{len(t)} {name}" for name, t in sets.items()) + f" texts; fp32 {rate:.0f}/s; weights {'u8' if args.unsigned else 's8'}"
          f"{' with zero points' if args.asymmetric else ''}, batch {args.batch}")

    variants: list[tuple[str, list[str]]] = []
    if args.kinds:
        variants += [(kind, selected(names, [kind])) for kind in KINDS]
    if args.one_at_a_time:
        for group in sorted(set(names.values()), key=lambda g: (g.split(".")[0], int(g.split(".")[1]))):
            variants.append((group, selected(names, [group])))
    for spec in args.exclude:
        keep = set(selected(names, spec))
        variants.append(("all but " + (" ".join(spec) or "nothing"), [n for n in names if n not in keep]))
    if args.each:
        spec = args.exclude[0] if args.exclude else []
        for group in sorted(set(names.values()), key=lambda g: (g.split(".")[0], int(g.split(".")[1]))):
            keep = set(selected(names, spec + [group]))
            if len(keep) > len(selected(names, spec)):
                variants.append((f"... and {group}", [n for n in names if n not in keep]))

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in ("tokenizer.json", "config.json"):
            shutil.copyfile(fp32 / name, folder / name)
        for label, nodes in variants:
            quantize(fp32 / "model.onnx", folder / "model.onnx", nodes, not args.unsigned, args.asymmetric)
            vecs, rate = vectors(folder, sets, args.batch)
            cos = {name: np.sum(vecs[name] * base[name], axis=1) for name in sets}
            worst = min(c.min() for c in cos.values())
            print(f"{label:>32}: {len(nodes):2d} nodes  min {worst:.5f} (" +
                  ", ".join(f"{name} {c.min():.5f}" for name, c in cos.items()) +
                  f")  mean {np.mean(np.concatenate(list(cos.values()))):.5f}  {rate:.0f}/s", flush=True)


if __name__ == "__main__":
    main()
