"""Where nianbao keeps its files, and that those folders are this user's alone.

The index: `--index-dir`, else `NIANBAO_HOME`, else the per-user data directory. The cache
(jieba's dictionary, the converted model): `NIANBAO_CACHE`, else the per-user cache directory.
A folder others may write into could have its model or index swapped under us, so
`private_dir` creates folders readable by this user only and refuses a world-writable one.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs


class UnsafeDirError(Exception):
    """A folder nianbao will not use: the reason in one line, naming it."""


def index_dir(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("NIANBAO_HOME"):
        return Path(os.environ["NIANBAO_HOME"]).expanduser()
    return Path(platformdirs.user_data_dir("nianbao"))


def cache_dir() -> Path:
    if os.environ.get("NIANBAO_CACHE"):
        return Path(os.environ["NIANBAO_CACHE"]).expanduser()
    return Path(platformdirs.user_cache_dir("nianbao"))


def private_dir(path: str | os.PathLike) -> Path:
    """`path`, created with mode 0700 if missing; `UnsafeDirError` if every user may write to it.

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
