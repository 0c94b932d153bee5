"""Where an index lives: `--index-dir`, else `NIANBAO_HOME`, else the per-user data directory."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def index_dir(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("NIANBAO_HOME"):
        return Path(os.environ["NIANBAO_HOME"]).expanduser()
    return Path(platformdirs.user_data_dir("nianbao"))
