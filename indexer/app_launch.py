"""`nianbao app`: run the Streamlit search desk (`search_app/main.py`) on one index directory.

Kept apart from the CLI so the command stays thin; the app itself indexes the bundled corpus
on an empty index, with a progress bar in the page.

What the desk may do is decided here and handed to it in the environment: which folder it may
index (none unless `--allow-folders`), and the password file. Beyond loopback it refuses to
start without a way to authenticate; the app checks the same itself (`search_app/gate.py`), so
`streamlit run` directly is held to it too.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import sys
import tomllib
from pathlib import Path

from .core.settings import ALLOW_FOLDERS_ENV, HOME_ENV, PASSWORD_FILE_ENV
from .ingest import DEFAULT_MAX_BYTES


def app_script() -> Path:
    """`search_app/main.py`, found through the import system (works for editable and normal installs)."""
    spec = importlib.util.find_spec("search_app")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the search_app package is not installed next to indexer")
    return Path(list(spec.submodule_search_locations)[0]).resolve() / "main.py"


# Where Streamlit looks for secrets by default (its `secrets.files` option), in the working directory and home.
SECRETS_FILES = (Path(".streamlit") / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml")


# Streamlit's own upload limit, above the desk's (DEFAULT_MAX_BYTES): a file over the desk's limit
# still reaches the page, which lists it as skipped with the reason in Chinese; one over this
# limit is refused by Streamlit in the browser, with a message the page replaces
# (`search_app/render.py`, `uploader_errors`).
UPLOAD_TRANSPORT_MB = 10 * DEFAULT_MAX_BYTES // (1024 * 1024)


class LaunchError(Exception):
    """Why the desk will not start, in one line."""


def is_loopback(address: str | None) -> bool:
    """Whether only this machine can reach `address`; unset (Streamlit then listens everywhere) is not."""
    if not address:
        return False
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
        "--server.maxUploadSize", str(UPLOAD_TRANSPORT_MB),
        "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "none",
        "--client.toolbarMode", "minimal",
    ]


def oidc_configured(auth: object) -> bool:
    """Whether Streamlit's `[auth]` secrets hold what `st.login` needs in every case."""
    return isinstance(auth, dict) and bool(auth.get("redirect_uri")) and bool(auth.get("cookie_secret"))


def secrets_have_oidc() -> bool:
    """`oidc_configured` for Streamlit's default secrets files, read before Streamlit starts."""
    for path in SECRETS_FILES:
        try:
            with path.open("rb") as fh:
                if oidc_configured(tomllib.load(fh).get("auth")):
                    return True
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return False


def check_serving(address: str, password_file: Path | None) -> None:
    """`LaunchError` when `address` reaches beyond this machine and nobody would be asked who they are."""
    if is_loopback(address) or password_file is not None or secrets_have_oidc():
        return
    raise LaunchError(f"refusing to serve on {address} without authentication: pass --password-file FILE "
                      f"(made with --set-password) or configure [auth] for st.login in .streamlit/secrets.toml")


def app_environment(index_dir: Path, allow_folders: Path | None = None,
                    password_file: Path | None = None) -> dict[str, str]:
    """The app reads its index from NIANBAO_HOME, the folder it may index and its password file."""
    env = dict(os.environ, **{HOME_ENV: str(Path(index_dir).resolve())})
    for name, value in ((ALLOW_FOLDERS_ENV, allow_folders), (PASSWORD_FILE_ENV, password_file)):
        env.pop(name, None)
        if value is not None:
            env[name] = str(Path(value).resolve())
    return env


def launch(index_dir: Path, address: str, port: int, allow_folders: Path | None = None,
           password_file: Path | None = None) -> None:
    """Replace this process with Streamlit, so signals (Ctrl-C, a test's kill) reach it directly.

    Raises `LaunchError` (nothing started) for an address beyond loopback without authentication.
    """
    check_serving(address, password_file)
    command = streamlit_command(address, port)
    os.execve(sys.executable, command, app_environment(index_dir, allow_folders, password_file))
