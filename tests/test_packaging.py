"""A wheel, installed outside the checkout, carries the sample corpus and indexes it.

`nianbao app` indexes the bundled samples into an empty index; an install from a wheel (not
editable) has no checkout beside it, so the samples must be package data. The test builds the
wheel from a copy of the project's packaged files, installs it without dependencies into a
fresh venv that sees this interpreter's site-packages (for numpy, whoosh, streamlit...), and
runs its `nianbao` from a folder where the checkout is not importable.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PACKAGED = ["pyproject.toml", "README.md", "LICENSE", "indexer", "search_app"]
SAMPLES = sorted(p.name for p in (ROOT / "corpus").glob("*.txt"))


def run(*args: str | Path, cwd: Path) -> str:
    """Run a command outside the checkout: no PYTHONPATH (a worktree run sets it to the checkout)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv holding only the nianbao wheel; the dependencies come from this interpreter's site-packages."""
    pytest.importorskip("setuptools", minversion="77", reason="the build backend needs setuptools>=77 (PEP 639 license)")
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"
    source.mkdir()
    for name in PACKAGED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp / "wheel", source, cwd=tmp)
    [wheel] = (tmp / "wheel").glob("nianbao-*.whl")
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp)
    [venv_site] = venv.glob("lib/python*/site-packages")
    # A plain path line: the dependencies are importable, but this venv's editable install of
    # the checkout (a .pth hook in that folder) is not run, so `indexer` can only be the wheel's.
    (venv_site / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps", "-q", wheel, cwd=tmp)
    return venv


def test_wheel_installs_the_sample_corpus_and_indexes_it(installed, tmp_path):
    python = installed / "bin" / "python"
    where = run(python, "-c", "import indexer; from search_app.state import BUNDLED_CORPUS; "
                "print(indexer.__file__); print(BUNDLED_CORPUS)", cwd=tmp_path).splitlines()
    package, corpus = Path(where[0]), Path(where[1])
    assert package.is_relative_to(installed), f"indexer imported from {package}, not from the installed wheel"
    assert corpus.is_relative_to(installed)
    assert sorted(p.name for p in corpus.glob("*.txt")) == SAMPLES

    index = tmp_path / "index"
    out = run(installed / "bin" / "nianbao", "--index-dir", index, "index", "--no-embed", corpus, cwd=tmp_path)
    assert out.startswith(f"{len(SAMPLES)} added, 0 updated, 0 unchanged, 0 duplicate, 0 removed, 0 skipped; {len(SAMPLES)} reports")
    found = run(installed / "bin" / "nianbao", "--index-dir", index, "search", "政府开放日", cwd=tmp_path)
    assert "政府开放日" in found


def test_wheel_carries_the_license_and_a_build_floor_that_reads_it(installed):
    [metadata] = installed.glob("lib/python*/site-packages/nianbao-*.dist-info/METADATA")
    text = metadata.read_text(encoding="utf-8")
    assert "License-Expression: MIT" in text
    assert "License-File: LICENSE" in text
