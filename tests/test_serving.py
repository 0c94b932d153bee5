"""Serving the desk safely: who may start it where, who may use it, what it may read and write.

`nianbao app` refuses an address beyond loopback without authentication, and so does the app
itself when started with `streamlit run`; the password is kept hashed; folders are indexed only
below `--allow-folders`; uploads never replace one another; nianbao's folders are private.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from conftest import CORPUS, SAMPLES
from indexer.core import settings
from indexer.passwords import PasswordFileError, hash_password, read_password_file, verify_password

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "search_app" / "main.py"


@pytest.fixture
def desk(indexed, tmp_path, monkeypatch) -> Path:
    """A private copy of the indexed samples, no folders allowed and no password, with no secrets around."""
    target = tmp_path / "index"
    shutil.copytree(indexed, target, ignore=shutil.ignore_patterns("index.lock"))
    monkeypatch.setenv("NIANBAO_HOME", str(target))
    for name in ("NIANBAO_ALLOW_FOLDERS", "NIANBAO_PASSWORD_FILE"):
        monkeypatch.delenv(name, raising=False)
    return target


@pytest.fixture
def served_on(monkeypatch):
    """Run the app as if Streamlit listened on the given address (restored afterwards)."""
    def serve(address: str | None) -> None:
        config.set_option("server.address", address)

    yield serve
    config.set_option("server.address", "127.0.0.1")


def start(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(MAIN), default_timeout=60).run()
    if page:
        at.switch_page(f"views/{page}.py").run()
    return at


def page_text(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "title", "subheader") for e in at.get(kind))


# --- starting beyond loopback --------------------------------------------------------------


def run_cli(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOME=str(cwd), PYTHONPATH=str(ROOT))  # no ~/.streamlit/secrets.toml
    return subprocess.run([sys.executable, "-m", "indexer.cli", "--index-dir", str(cwd / "index"), "app", *args],
                          cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=120)


def test_launcher_refuses_every_interface_without_authentication(tmp_path):
    result = run_cli("--address", "0.0.0.0", "--port", "8765", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "refusing to serve on 0.0.0.0 without authentication" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_launcher_accepts_oidc_secrets_or_a_password_file(tmp_path, monkeypatch):
    from indexer import app_launch
    from indexer.app_launch import LaunchError, check_serving

    secrets = tmp_path / "secrets.toml"
    monkeypatch.setattr(app_launch, "SECRETS_FILES", (tmp_path / "none.toml", secrets))
    secrets.write_text('[auth]\nredirect_uri = "http://h:8501/oauth2callback"\n', encoding="utf-8")
    with pytest.raises(LaunchError, match="refusing to serve on 192.168.1.5"):
        check_serving("192.168.1.5", None)  # st.login needs cookie_secret as well
    secrets.write_text('[auth]\nredirect_uri = "http://h:8501/oauth2callback"\ncookie_secret = "x"\n', encoding="utf-8")
    check_serving("192.168.1.5", None)
    secrets.unlink()
    check_serving("0.0.0.0", tmp_path / "password")  # a password file is authentication
    check_serving("::1", None)
    with pytest.raises(LaunchError):
        check_serving("", None)  # unset: every interface


def test_app_refuses_every_interface_without_authentication(desk, served_on):
    for address in ("0.0.0.0", None):  # unset: Streamlit listens on every interface
        served_on(address)
        at = start()
        assert not at.exception
        assert [e.value for e in at.error] and at.error[0].value.startswith("检索台对网络开放却没有设置登录")
        assert not at.text_input, "nothing of the desk is drawn"
    served_on("127.0.0.1")
    at = start()
    assert not at.error and at.text_input


# --- the password --------------------------------------------------------------------------


def test_password_hash_round_trip_and_file(tmp_path):
    stored = hash_password("年报 secret")
    assert "年报" not in stored and stored.startswith("scrypt$")
    assert verify_password("年报 secret", stored) and not verify_password("年报 secreT", stored)
    assert hash_password("年报 secret") != stored, "salted"
    result = run_cli("--password-file", str(tmp_path / "pw"), "--set-password", cwd=tmp_path, stdin="s3cret\ns3cret\n")
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((tmp_path / "pw").stat().st_mode) == 0o600
    assert verify_password("s3cret", read_password_file(tmp_path / "pw"))
    (tmp_path / "bad").write_text("s3cret\n", encoding="utf-8")
    with pytest.raises(PasswordFileError, match="bad: not a password hash"):
        read_password_file(tmp_path / "bad")
    result = run_cli("--address", "0.0.0.0", "--password-file", str(tmp_path / "bad"), cwd=tmp_path)
    assert result.returncode == 1 and "not a password hash" in result.stderr


def test_password_gate_refuses_a_wrong_password(desk, tmp_path, monkeypatch, served_on):
    from indexer.passwords import write_password_file

    write_password_file(tmp_path / "pw", "s3cret")
    monkeypatch.setenv("NIANBAO_PASSWORD_FILE", str(tmp_path / "pw"))
    monkeypatch.setattr("search_app.gate.WRONG_PASSWORD_PAUSE", 0)
    served_on("0.0.0.0")
    at = start()
    assert [t.label for t in at.text_input] == ["密码"]
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["密码不对。"]
    assert [t.label for t in at.text_input] == ["密码"], "still only the password form"
    at.text_input[0].input("s3cret")
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "密码" not in [t.label for t in at.text_input], "the desk itself is drawn"
    at.switch_page("views/corpus.py").run()
    assert at.metric and at.metric[0].value == "5", "signed in for the session, page after page"


# --- folders ---------------------------------------------------------------------------------


def test_folder_form_only_with_allow_folders(desk):
    at = start("corpus")
    assert not at.exception and not any(h.value == "索引本机文件夹" for h in at.subheader)


def test_allow_folders_limits_what_the_page_reaches(desk, tmp_path, monkeypatch):
    from search_app import render

    allowed = tmp_path / "allowed"
    (allowed / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(CORPUS / SAMPLES["guyuan_2019"], outside / "secret.txt")
    monkeypatch.setenv("NIANBAO_ALLOW_FOLDERS", str(allowed))
    refused = {str(outside): "不在允许索引的文件夹", "../outside": "不在允许索引的文件夹",
               "sub/../../outside": "不在允许索引的文件夹", "/": "不在允许索引的文件夹"}
    (allowed / "escape").symlink_to(outside, target_is_directory=True)
    refused["escape"] = "不在允许索引的文件夹"  # a link to a folder outside, resolved first
    (allowed / "sub" / "leak.txt").symlink_to(outside / "secret.txt")
    refused["sub"] = f"「{render.md('leak.txt')}」链接到允许索引的文件夹之外"  # a file linked from outside
    for typed, reason in refused.items():
        at = start("corpus")
        at.text_input[0].input(typed)
        at.button[1].click().run()
        assert not at.exception
        assert len(at.error) == 1 and reason in at.error[0].value, (typed, [e.value for e in at.error])
    from indexer.store import Store

    with Store(desk, create=False) as store:
        assert store.count_reports() == 5, "nothing outside was indexed"
    (allowed / "sub" / "leak.txt").unlink()
    own = (CORPUS / SAMPLES["guyuan_2019"]).read_text(encoding="utf-8").replace("2019", "2021")  # not yet indexed
    (allowed / "sub" / "own.txt").write_text(own, encoding="utf-8")
    at = start("corpus")
    at.text_input[0].input("sub")
    at.button[1].click().run()
    assert not at.exception and not at.error
    assert dict(zip(at.dataframe[0].value["文件"], at.dataframe[0].value["结果"])) == {"own.txt": "新增"}


# --- uploads -------------------------------------------------------------------------------


def test_same_named_uploads_are_both_kept_and_same_content_once(desk):
    first = (CORPUS / SAMPLES["lingwu_gov_2020"]).read_text(encoding="utf-8").replace("灵武市", "青铜峡市")
    second = (CORPUS / SAMPLES["guyuan_2019"]).read_text(encoding="utf-8").replace("固原市", "平罗县")
    at = start("corpus")
    at.file_uploader[0].set_value([("年报.txt", first.encode("utf-8"), "text/plain")])
    at.button[0].click().run()
    at.file_uploader[0].set_value([("年报.txt", second.encode("utf-8"), "text/plain"),
                                   ("副本.txt", first.encode("utf-8"), "text/plain")])
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert dict(zip(at.dataframe[0].value["文件"], at.dataframe[0].value["结果"])) == {"年报.txt": "新增", "副本.txt": "重复"}
    stored = sorted(p.relative_to(desk / "uploads") for p in (desk / "uploads").rglob("*") if p.is_file())
    assert [p.name for p in stored] == ["年报.txt", "年报.txt"] and stored[0].parent != stored[1].parent
    assert {p.read_bytes() for p in (desk / "uploads").rglob("*.txt")} == {first.encode(), second.encode()}
    assert at.metric[0].value == "7"


# --- private folders -------------------------------------------------------------------------


def test_private_dir_is_created_private_and_a_world_writable_one_refused(tmp_path):
    made = settings.private_dir(tmp_path / "a" / "cache")
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(settings.UnsafeDirError, match="writable by every user .*chmod 700"):
        settings.private_dir(shared)


def test_a_world_writable_cache_stops_the_launcher_and_the_app(desk, tmp_path, monkeypatch):
    shared = tmp_path / "shared-cache"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("NIANBAO_CACHE", str(shared))
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "shared-cache is writable by every user" in result.stderr
    at = start()
    assert not at.exception and at.error[0].value.startswith("检索台不能打开：")
    assert not at.text_input
