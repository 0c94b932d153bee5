"""Settings live in one place (`indexer/core/settings.py`), and nianbao's folders are private."""

from __future__ import annotations

import ast
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from indexer.core import settings
from tests.conftest import ROOT, SAMPLES

ENV_NAME = re.compile(r"NIANBAO_[A-Z_]+")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_environment_variables_are_named_only_in_settings():
    """A `NIANBAO_*` name as a string anywhere else would be a second place that reads a setting."""
    elsewhere = []
    for path in sorted((ROOT / "indexer").rglob("*.py")) + sorted((ROOT / "search_app").rglob("*.py")):
        if path == ROOT / "indexer" / "core" / "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ENV_NAME.fullmatch(node.value):
                elsewhere.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
    assert not elsewhere, elsewhere
    names = {value for name, value in vars(settings).items() if name.endswith("_ENV")}
    assert names == set(settings.ENVIRONMENT)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert not [name for name in names if f"`{name}`" not in readme], "the README's table of variables is missing some"


def test_index_dir_and_model_name_follow_the_argument_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(settings.HOME_ENV, raising=False)
    monkeypatch.delenv(settings.MODEL_ENV, raising=False)
    assert settings.index_dir() == Path(platformdirs.user_data_dir("nianbao"))
    assert settings.model_name() == settings.DEFAULT_MODEL == "multilingual-e5-small"
    monkeypatch.setenv(settings.HOME_ENV, str(tmp_path / "env"))
    monkeypatch.setenv(settings.MODEL_ENV, "some/model")
    assert settings.index_dir() == tmp_path / "env" and settings.model_name() == "some/model"
    assert settings.index_dir(tmp_path / "arg") == tmp_path / "arg" and settings.model_name("other") == "other"
    assert not (tmp_path / "env").exists(), "asking where the index is must not create it"


def test_cache_folders_are_created_private_and_a_world_writable_cache_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "cache"))
    jieba = settings.cache_dir("jieba")
    assert jieba == tmp_path / "cache" / "jieba"
    assert _mode(tmp_path / "cache") == _mode(jieba) == 0o700
    assert settings.cache_dir(root=tmp_path / "other") == tmp_path / "other" and _mode(tmp_path / "other") == 0o700
    (tmp_path / "cache").chmod(0o777)
    with pytest.raises(settings.UnsafeDirError, match="cache is writable by every user"):
        settings.cache_dir("models")
    (tmp_path / "cache").chmod(0o700)
    jieba.chmod(0o777)
    with pytest.raises(settings.UnsafeDirError, match="jieba is writable by every user"):
        settings.cache_dir("jieba")


def _index(tmp_path: Path, cache: Path) -> subprocess.CompletedProcess:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / "report.txt").write_text((ROOT / "corpus" / SAMPLES["huaibei_2018"]).read_text(encoding="utf-8"),
                                       encoding="utf-8")
    env = {**os.environ, settings.CACHE_ENV: str(cache), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "indexer.cli", "--index-dir", str(tmp_path / "index"),
                           "index", "--no-embed", "--quiet", str(corpus)],
                          capture_output=True, text=True, env=env, timeout=600)


def test_nianbao_index_makes_its_cache_private(tmp_path):
    result = _index(tmp_path, tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert "1 added" in result.stdout
    assert _mode(tmp_path / "cache") == _mode(tmp_path / "cache" / "jieba") == _mode(tmp_path / "index") == 0o700
    assert any((tmp_path / "cache" / "jieba").iterdir()), "jieba's dictionary cache is written there"


def test_nianbao_index_refuses_a_world_writable_cache(tmp_path):
    shared = tmp_path / "shared-cache"
    shared.mkdir()
    shared.chmod(0o777)
    result = _index(tmp_path, shared)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"nianbao: {shared} is writable by every user") and result.stderr.count("\n") == 1
    assert not (tmp_path / "index" / "store.sqlite").exists() and not (shared / "jieba").exists()
