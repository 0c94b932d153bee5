"""How close embedding runs to what this CPU can do at all: the model's arithmetic a text against
a plain matrix product's speed, measured in the same process.

Why: issue 25 asks for every synthetic report embedded in 15 minutes on a 2-core CPU. The time is
texts × arithmetic a text ÷ arithmetic a second. This prints the middle term from the model's
shape and the texts' real token counts, and the last twice, per second of CPU time (so a loaded
machine does not skew them): what the index's embedding achieves, and what one matrix product of
the model's own shapes achieves in the same precision (the ceiling for a transformer whose work is
almost all such products). Their ratio says how much a faster backend could still win; the floor
says how long the texts take on every core even at the ceiling.

    python bench/embed_bound.py                                  # the samples and the 30 real reports
    python bench/embed_bound.py --indexed /tmp/s1k --texts 376000   # synthetic texts; the floor for 376,000
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from indexer.semantic.model import load_model

ROOT = Path(__file__).resolve().parents[1]


def flops_a_token(config, tokens: float) -> float:
    """Multiply-adds ×2 for one token through the encoder: the four attention projections and
    the two feed-forward products of every layer, plus attention's scores and mixing over a
    text of `tokens` tokens. Embeddings, norms and activations are left out (a few per cent)."""
    hidden, inner, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    return 2.0 * layers * (4 * hidden * hidden + 2 * hidden * inner + 2 * tokens * hidden)


def gemm_rate(dtype, rows: int, hidden: int, inner: int, threads: int, rounds: int = 10) -> float:
    """FLOP a second of CPU time (all threads' CPU time summed, so other work on the machine does not
    skew it) of the feed-forward products alone (rows × hidden · hidden × inner and back) in `dtype`."""
    import torch

    torch.set_num_threads(threads)
    a, up = torch.randn(rows, hidden, dtype=dtype), torch.randn(hidden, inner, dtype=dtype)
    down = torch.randn(inner, hidden, dtype=dtype)
    for _ in range(2):
        (a @ up) @ down
    cpu = time.process_time()
    for _ in range(rounds):
        (a @ up) @ down
    return rounds * 4.0 * rows * hidden * inner / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indexed", nargs="+", type=Path, metavar="DIR",
                        default=[ROOT / "corpus", ROOT / "tests" / "data" / "realworld_shared"],
                        help="folders whose distinct index texts are embedded (default: samples + 30 real reports)")
    parser.add_argument("--sample", type=int, default=2000, help="at most this many texts, evenly spread")
    parser.add_argument("--texts", type=int, default=376_000,
                        help="texts the floor is printed for (default: 20,000 synthetic reports' distinct texts)")
    parser.add_argument("--minutes", type=float, default=15.0, help="the target to compare the floor with")
    args = parser.parse_args()

    from int8_layers import index_texts

    texts = index_texts(args.indexed)
    if len(texts) > args.sample:
        texts = [texts[i] for i in np.linspace(0, len(texts) - 1, args.sample).astype(int)]
    embedder = load_model(device="cpu")
    st = embedder.model
    tokenizer, config = st.tokenizer, st[0].auto_model.config
    prompt = embedder.prompts["index"]
    limit = embedder.max_seq_length or 512
    tokens = np.array([min(len(ids), limit) for ids in tokenizer([prompt + t for t in texts])["input_ids"]])
    flops = float(sum(flops_a_token(config, n) * n for n in tokens.tolist()))
    import torch  # loaded by the model already

    threads = torch.get_num_threads()
    print(f"{len(texts)} texts from {' '.join(map(str, args.indexed))}: tokens a text mean {tokens.mean():.1f}, "
          f"max {tokens.max()}; {flops / len(texts) / 1e9:.2f} GFLOP a text ({embedder.model_id}, "
          f"{embedder.precision}, {threads} threads, {os.cpu_count()} CPUs)")

    embedder.embed_documents(texts[:64])
    dtype = torch.bfloat16 if embedder.precision == "bf16" else torch.float32
    batch_rows = int(embedder.batch_size * tokens.mean())
    for round_ in range(2):
        peak = gemm_rate(dtype, batch_rows, config.hidden_size, config.intermediate_size, threads)
        start, cpu = time.perf_counter(), time.process_time()
        embedder.embed_documents(texts)
        seconds = time.perf_counter() - start
        cpu_ms = 1000 * (time.process_time() - cpu) / len(texts)
        achieved = flops / len(texts) / (cpu_ms / 1000)
        cores = os.cpu_count() or 1
        floor = args.texts * flops / len(texts) / peak / cores
        print(f"round {round_ + 1} (load {os.getloadavg()[0]:.1f}): embedding {len(texts) / seconds:.1f} texts/s, "
              f"{cpu_ms:.1f} ms CPU a text = {achieved / 1e9:.0f} GFLOP a CPU-second; a "
              f"{str(dtype).split('.')[-1]} matrix product of the model's shape {peak / 1e9:.0f}; ratio {achieved / peak:.2f}")
        print(f"  {args.texts:,} texts on {cores} free cores: {args.texts * cpu_ms / 1000 / cores / 60:.1f} min at "
              f"this CPU a text, {floor / 60:.1f} min at the matrix product's rate (target {args.minutes:g} min: "
              f"{'within reach' if floor / 60 <= args.minutes else 'below the floor on this CPU'})")


if __name__ == "__main__":
    main()
