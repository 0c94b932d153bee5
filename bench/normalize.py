"""Normalisation speed: the library against the rule written plainly, in one process.

Why: every report's lines and text, and every query, go through `normalize`; snippets and
section bounds need its offset map. This times them on real report texts (the samples and
tests/data/realworld*) and synthetic whole reports, beside tests/normalize_oracle.py, which
computes the same rule a character at a time; `--against` adds another version of
indexer/normalize.py (say the last commit's) to compare before and after on a loaded machine:

    git show main:indexer/normalize.py > /tmp/normalize_main.py
    python bench/normalize.py --against /tmp/normalize_main.py

Each figure is the best CPU time (process time) of `--repeat` rounds, the engines taking turns within a round; lines
are timed with the line cache emptied first, as for lines never seen before.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from indexer import normalize as library  # noqa: E402
from synth import report_text  # noqa: E402
from tests import normalize_oracle as oracle  # noqa: E402


def texts(synthetic: int) -> list[str]:
    found = [p.read_text(encoding="utf-8") for d in ("corpus", "tests/data/realworld", "tests/data/realworld_shared")
             for p in sorted((ROOT / d).glob("*.txt"))]
    return found + [report_text(i, 7)[0] for i in range(synthetic)]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location("normalize_against", path)
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _time(run) -> float:
    gc.collect()
    start = time.process_time()
    run()
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=150, help="synthetic whole reports besides the real texts")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another indexer/normalize.py to time beside this one")
    args = parser.parse_args(argv)

    whole = texts(args.synthetic)
    lines = [line for text in whole for line in text.splitlines()]
    print(f"{len(whole)} texts, {sum(map(len, whole)):,} characters, {len(lines):,} lines")
    engines = {"library": library}
    if args.against:
        engines["against"] = _load(args.against)

    def lines_of(module):
        def run():
            module._normalize_line.cache_clear()
            for line in lines:
                module.normalize(line)
        return run

    tasks = {}
    for name, module in engines.items():
        tasks[(name, "normalize, whole texts")] = lambda m=module: [m.normalize(t) for t in whole]
        tasks[(name, "normalize, lines not seen before")] = lines_of(module)
        tasks[(name, "normalize_with_map, whole texts")] = lambda m=module: [m.normalize_with_map(t) for t in whole]
    norms = [library.normalize(t) for t in whole]
    tasks[("library", "source_map of the stored text")] = lambda: [library.source_map(t, n) for t, n in zip(whole, norms)]
    best = dict.fromkeys(tasks, float("inf"))
    for _ in range(args.repeat):
        for key, run in tasks.items():
            best[key] = min(best[key], _time(run))
    best[("oracle", "normalize_with_map, whole texts")] = _time(lambda: [oracle.normalize_with_map(t) for t in whole])

    for (name, task), seconds in best.items():
        print(f"{task:34} {name:8} {seconds * 1000:9.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
