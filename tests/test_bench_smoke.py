"""The benchmarks still run: CI times bench/fulltext.py at 2,000 reports, these keep it honest
at a size the test suite can afford, and pin the synthetic corpus to its seed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from synth import generate, report_text  # noqa: E402


def test_fulltext_bench_runs_and_engines_agree(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fulltext.py"), "--reports", "200", "--repeat", "1",
         "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "build: 200 reports" in proc.stdout
    assert "agreement: nianbao, scan" in proc.stdout
    assert "phrase_common" in proc.stdout and "keyword" in proc.stdout


def test_normalize_bench_runs_beside_the_oracle(tmp_path):
    before = tmp_path / "normalize_before.py"
    before.write_text((ROOT / "indexer" / "normalize.py").read_text(encoding="utf-8"), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "normalize.py"), "--synthetic", "3", "--repeat", "1",
                           "--against", str(before)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for line in ("normalize, whole texts             library", "normalize, lines not seen before   against",
                 "source_map of the stored text      library", "normalize_with_map, whole texts    oracle"):
        assert line in proc.stdout, proc.stdout


def test_deflate_bench_runs_with_zlib_as_the_reference(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "deflate.py"), "--reports", "30", "--repeat", "1",
                           "--workdir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "stored texts (each report's text and normalised text): 30 reports" in proc.stdout
    assert "gram segments' arrays: 1 segments" in proc.stdout
    assert proc.stdout.count("zlib 1 (reference)") == 2 and "ISA-L 3" in proc.stdout


def _without_path(info: object) -> dict:
    return {k: v for k, v in vars(info).items() if k != "path"}


def test_synth_is_deterministic_from_its_seed(tmp_path):
    first = generate(tmp_path / "a", 30, seed=11, workers=1)
    second = generate(tmp_path / "b", 30, seed=11, workers=1)
    assert [_without_path(i) for i in first] == [_without_path(i) for i in second]
    files_a = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files_a == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in files_a:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert report_text(5, 11) == report_text(5, 11)
    assert report_text(5, 11)[0] != report_text(5, 12)[0]
    # a bigger corpus holds every report of a smaller one with the same seed
    bigger = generate(tmp_path / "c", 40, seed=11, workers=1)
    assert [_without_path(i) for i in bigger[:30]] == [_without_path(i) for i in first]
