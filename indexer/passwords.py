"""The desk's password, kept only as a salted scrypt hash (`nianbao app --set-password`).

scrypt is in hashlib (OpenSSL), so no extra dependency; the cost parameters are stored with
the hash, so a file written today still verifies if the defaults are raised later.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1  # ~16 MB and ~50 ms per guess: OWASP's minimum for scrypt
SALT_BYTES = 16
KEY_BYTES = 32


class PasswordFileError(Exception):
    """A password file that is missing or not written by `--set-password`; the reason in words."""


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=128 * n * r * p + 1024 * 1024, dklen=KEY_BYTES)


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$key`, salt and key in hex."""
    salt = secrets.token_bytes(SALT_BYTES)
    return f"{SCHEME}${N}${R}${P}${salt.hex()}${_derive(password, salt, N, R, P).hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`; compared in constant time."""
    _, n, r, p, salt, key = parse_hash(stored)
    return hmac.compare_digest(_derive(password, salt, n, r, p), key)


def parse_hash(stored: str) -> tuple[str, int, int, int, bytes, bytes]:
    try:
        scheme, n, r, p, salt, key = stored.strip().split("$")
        parsed = scheme, int(n), int(r), int(p), bytes.fromhex(salt), bytes.fromhex(key)
    except ValueError:
        raise PasswordFileError("not a password hash written by `nianbao app --set-password`") from None
    if scheme != SCHEME or min(parsed[1:4]) < 1 or not parsed[4] or not parsed[5]:
        raise PasswordFileError("not a password hash written by `nianbao app --set-password`")
    return parsed


def read_password_file(path: Path) -> str:
    """The stored hash; `PasswordFileError` naming the file when it is missing or malformed."""
    try:
        stored = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise PasswordFileError(f"{path}: cannot read the password file ({exc.strerror or exc})") from None
    try:
        parse_hash(stored)
    except PasswordFileError as exc:
        raise PasswordFileError(f"{path}: {exc}") from None
    return stored


def write_password_file(path: Path, password: str) -> None:
    """Store the hash of `password`, readable by this user only (written beside, then renamed)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(hash_password(password) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise PasswordFileError(f"{path}: cannot write the password file ({exc.strerror or exc})") from None
