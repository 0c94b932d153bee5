"""Deflating what the index stores, zlib against ISA-L (and zstd where installed), in one process.

Why: the build's workers deflate every report's texts and its single writing process every gram
segment's arrays; a page's snippets and a first query inflate them again. `indexer.core.deflate`
picks ISA-L for zlib's own format. This indexes a synthetic corpus (`--no-embed`, reused when
present), then deflates and inflates the stored texts and the gram segments' arrays with each
codec in turn, best of `--repeat` rounds, and prints bytes (of the input) and milliseconds beside
zlib's fastest level, the reference. `--index` takes an index already built instead (every
visible report's texts, every gram segment).

    python bench/deflate.py --reports 500
    python bench/deflate.py --index /tmp/bs20k/index-new --repeat 1
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fulltext import ensure_corpus  # noqa: E402
from indexer.fulltext.grams import SEGMENT_PREFIX, _Arrays  # noqa: E402
from indexer.indexing import index_paths  # noqa: E402
from indexer.store import STORE_FILE, Store  # noqa: E402

Codec = tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]


def codecs() -> dict[str, Codec]:
    found: dict[str, Codec] = {"zlib 1 (reference)": (lambda b: zlib.compress(b, 1), zlib.decompress),
                               "zlib 6": (lambda b: zlib.compress(b, 6), zlib.decompress)}
    try:
        from isal import isal_zlib
    except ImportError:
        print("isal is not installed: no ISA-L rows")
    else:
        for level in (1, 3):
            found[f"ISA-L {level}"] = (lambda b, level=level: isal_zlib.compress(b, level), isal_zlib.decompress)
    try:
        import zstandard
    except ImportError:
        pass
    else:
        found["zstd 1 (another format)"] = (zstandard.ZstdCompressor(level=1).compress,
                                            zstandard.ZstdDecompressor().decompress)
    return found


def measure(blobs: list[bytes], codec: Codec, repeat: int) -> tuple[float, float, float]:
    """(bytes out of bytes in, seconds to deflate all, seconds to inflate all), best of `repeat`."""
    deflate, inflate = codec
    best_out = best_in = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        packed = [deflate(b) for b in blobs]
        best_out = min(best_out, time.process_time() - started)
        started = time.process_time()
        back = [inflate(p) for p in packed]
        best_in = min(best_in, time.process_time() - started)
    assert back == blobs
    return sum(map(len, packed)) / sum(map(len, blobs)), best_out, best_in


def report(title: str, unit: str, count: int, blobs: list[bytes], found: dict[str, Codec], repeat: int) -> None:
    print(f"{title}: {count} {unit}s, {sum(map(len, blobs)) / count / 1024:.1f} KB a {unit} before deflating")
    reference = None
    for name, codec in found.items():
        ratio, out_s, in_s = measure(blobs, codec, repeat)
        reference = reference or (out_s, in_s)
        print(f"  {name:24} bytes {ratio:.3f}  deflate {1000 * out_s / count:7.3f} ms a {unit} "
              f"({out_s / reference[0]:.2f}x)  inflate {1000 * in_s / count:7.3f} ms ({in_s / reference[1]:.2f}x)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/nb-deflate"))
    ap.add_argument("--index", type=Path, help="an index folder to read instead of building one")
    args = ap.parse_args()
    index_dir = args.index
    if index_dir is None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        corpus, _, _ = ensure_corpus(args.workdir, args.reports, args.seed)
        index_dir = args.workdir / "index"
        if not (index_dir / STORE_FILE).exists():
            index_paths([corpus], index_dir, embed=False)
    found = codecs()
    with Store(index_dir, create=False) as store, store.snapshot():
        texts = store.texts(store.report_ids())
    blobs = [t.encode() for pair in texts.values() for t in pair]
    report("stored texts (each report's text and normalised text)", "report", len(texts), blobs, found, args.repeat)
    segments = sorted(index_dir.rglob(f"{SEGMENT_PREFIX}*"))
    arrays = [_Arrays.read(path) for path in segments]
    blobs = [np.ascontiguousarray(array).tobytes() for a in arrays for array in a.everything().values()]
    report("gram segments' arrays", "segment", len(segments), blobs, found, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
