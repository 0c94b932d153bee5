"""`nianbao app`: run the Streamlit search desk (`search_app/main.py`) on one index directory.

Kept apart from the CLI so the command stays thin; the app itself indexes the bundled corpus
on an empty index, with a progress bar in the page.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import sys
from pathlib import Path

from .ingest import DEFAULT_MAX_BYTES


def app_script() -> Path:
    """`search_app/main.py`, found through the import system (works for editable and normal installs)."""
    spec = importlib.util.find_spec("search_app")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the search_app package is not installed next to indexer")
    return Path(list(spec.submodule_search_locations)[0]).resolve() / "main.py"


def is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def streamlit_command(address: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(app_script()),
        "--server.headless", "true",
        "--server.address", address,
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--server.maxUploadSize", str(DEFAULT_MAX_BYTES // (1024 * 1024)),
        "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "none",
        "--client.toolbarMode", "minimal",
    ]


def app_environment(index_dir: Path, address: str) -> dict[str, str]:
    """The app reads its index from NIANBAO_HOME; off loopback it must not read server folders."""
    env = dict(os.environ, NIANBAO_HOME=str(Path(index_dir).resolve()))
    env.pop("NIANBAO_APP_REMOTE", None)
    if not is_loopback(address):
        env["NIANBAO_APP_REMOTE"] = "1"
    return env


def launch(index_dir: Path, address: str, port: int) -> None:
    """Replace this process with Streamlit, so signals (Ctrl-C, a test's kill) reach it directly."""
    command = streamlit_command(address, port)
    os.execve(sys.executable, command, app_environment(index_dir, address))
