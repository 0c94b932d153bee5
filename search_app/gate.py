"""Who may use the desk: checked at the top of every page run, before anything is read.

Off loopback (an unset `server.address` counts: Streamlit then listens on every interface)
the desk needs a way to ask who is there: the password file `nianbao app --password-file`
names, or Streamlit's `st.login` with OIDC configured under `[auth]` in its secrets. Without
one it shows one line and stops, so `streamlit run search_app/main.py` directly is covered too.
A password file, once given, is asked for on loopback as well.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import streamlit as st

from indexer.app_launch import is_loopback, oidc_configured
from indexer.core import settings
from indexer.passwords import PasswordFileError, read_password_file, verify_password
from search_app import render

SIGNED_IN = "nianbao_signed_in"
WRONG_PASSWORD_PAUSE = 1.0  # seconds: slows guessing down without bothering a person


def _oidc() -> bool:
    try:
        return oidc_configured(st.secrets.to_dict().get("auth"))
    except FileNotFoundError:  # no secrets file (Streamlit's StreamlitSecretNotFoundError)
        return False


def _stop(message: str) -> None:
    st.error(message)
    st.stop()


def _ask_password(path: Path) -> None:
    """The password form; returns only once this session has given the right password."""
    if st.session_state.get(SIGNED_IN):
        return
    try:
        stored = read_password_file(path)
    except PasswordFileError:
        _stop(f"无法读取密码文件「{render.md(str(path))}」，检索台不能打开；请在服务器上重新运行 `nianbao app --set-password`。")
    st.title("年报检索 nianbao")
    with st.form("nianbao_password"):
        password = st.text_input("密码", type="password")
        submitted = st.form_submit_button("进入")
    if submitted and verify_password(password, stored):
        st.session_state[SIGNED_IN] = True
        st.rerun()
    if submitted:
        time.sleep(WRONG_PASSWORD_PAUSE)
        st.error("密码不对。")
    st.stop()


def _ask_login() -> None:
    if st.user.is_logged_in:
        return
    st.title("年报检索 nianbao")
    st.button("登录", on_click=st.login, icon=":material/login:")
    st.stop()


def require_access() -> None:
    """Stop the page unless this visitor may use the desk, and the folders it writes are private."""
    try:
        settings.private_dir(settings.index_dir())
        settings.cache_dir()
    except settings.UnsafeDirError as exc:
        _stop(f"检索台不能打开：{render.md(str(exc))}")
    password_file = os.environ.get(settings.PASSWORD_FILE_ENV)
    if password_file:
        _ask_password(Path(password_file))
    elif _oidc():
        _ask_login()
    elif not is_loopback(st.get_option("server.address")):
        _stop("检索台对网络开放却没有设置登录，已停止：请用 `nianbao app --password-file 文件` 启动，"
              "或在 .streamlit/secrets.toml 里配置 [auth]，或只在本机访问（--server.address 127.0.0.1）。")
