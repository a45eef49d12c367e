"""Secret values at rest: authenticated encryption with a key kept in the user's config folder
or, for a PostgreSQL workspace, in the workspace's database (``Store.secret_key``).

The user's key is 32 random bytes in ``<config dir>/secret.key`` (mode 0600; created on first use,
written aside and renamed). Each value is sealed as::

    wac1:<base64url(nonce[16] || ciphertext || tag[32])>

with ``enc_key = HMAC-SHA256(key, "wac enc")`` and ``mac_key = HMAC-SHA256(key, "wac mac")``;
the ciphertext is the UTF-8 text XOR a keystream of HMAC-SHA256(enc_key, nonce || counter)
blocks (a PRF in counter mode), and the tag is HMAC-SHA256(mac_key, nonce || ciphertext)
(encrypt-then-MAC). Standard library only: no new dependency for a round process.
Stdlib only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from wac.errors import SecretKeyError

PREFIX = "wac1:"
KEY_FILE = "secret.key"
_NONCE = 16
_TAG = 32


def key_path() -> Path:
    from wac.workspaces import config_dir

    return config_dir() / KEY_FILE


def load_key(create: bool) -> bytes | None:
    """The user's secret key; with ``create`` it is made when missing. None: missing (no create)."""
    path = key_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if not create:
            return None
        return _create(path)
    except OSError as exc:
        raise SecretKeyError(f"cannot read the secret key {path}: {exc.strerror}") from exc
    if len(data) != 32:
        raise SecretKeyError(f"the secret key {path} is damaged (expected 32 bytes, found {len(data)})",
                             hint="restore it from a backup; secrets sealed with it cannot be read without it")
    return data


def _create(path: Path) -> bytes:
    key = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # never replaces a key another process made meanwhile
        except FileExistsError:
            os.unlink(tmp)
            return load_key(create=False) or key
        os.unlink(tmp)
    except OSError as exc:
        raise SecretKeyError(f"cannot create the secret key {path}: {exc.strerror}") from exc
    return key


def _keys(key: bytes) -> tuple[bytes, bytes]:
    return (hmac.new(key, b"wac enc", hashlib.sha256).digest(), hmac.new(key, b"wac mac", hashlib.sha256).digest())


def _stream(enc_key: bytes, nonce: bytes, n: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hmac.new(enc_key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
    return bytes(out[:n])


def seal(text: str, key: bytes | None = None) -> str:
    """Encrypt ``text`` with ``key``, or the user's key (created on first use)."""
    key = key or load_key(create=True)
    assert key is not None
    enc_key, mac_key = _keys(key)
    nonce = secrets.token_bytes(_NONCE)
    plain = text.encode("utf-8", errors="surrogatepass")
    cipher = bytes(a ^ b for a, b in zip(plain, _stream(enc_key, nonce, len(plain)), strict=True))
    tag = hmac.new(mac_key, nonce + cipher, hashlib.sha256).digest()
    return PREFIX + base64.urlsafe_b64encode(nonce + cipher + tag).decode("ascii")


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def unseal(sealed: str, what: str = "a secret", key: bytes | None = None, *,
           workspace_key: bytes | None = None) -> str:
    """Decrypt a value made by :func:`seal`.

    ``key``: that key only. ``workspace_key``: the workspace's own key (a PostgreSQL workspace
    keeps one in its database); a value it does not open is tried with the user's key file, which
    sealed the secrets set before the workspace had a key of its own. Neither: the user's key.

    Raises:
        SecretKeyError: no key, or the value was sealed with another key or was altered.
    """
    raw = _decode(sealed, what)
    if workspace_key is not None:
        plain = _open(raw, workspace_key)
        fallback = None if plain is not None else load_key(create=False)
        if plain is None and fallback is not None and fallback != workspace_key:
            plain = _open(raw, fallback)
        if plain is None:
            raise SecretKeyError(
                f"cannot read {what}: it opens neither with the workspace's key nor with {key_path()}",
                hint="it was set before the workspace kept its own key: read it on the machine that set it, "
                     "or set the secret again (it is then sealed with the workspace's key)")
        return plain
    key = key or load_key(create=False)
    if key is None:
        raise SecretKeyError(f"cannot read {what}: no secret key at {key_path()}",
                             hint="secrets are sealed with the key of the user who set them; copy that key "
                                  "(0600) or set the secret again")
    plain = _open(raw, key)
    if plain is None:
        raise SecretKeyError(f"cannot read {what}: it was sealed with another secret key (or altered)",
                             hint=f"use the key it was set with ({key_path()}), or set the secret again")
    return plain


def _decode(sealed: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(sealed[len(PREFIX):].encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raw = b""
    if not is_sealed(sealed) or len(raw) < _NONCE + _TAG:
        raise SecretKeyError(f"cannot read {what}: the stored value is not a sealed secret")
    return raw


def _open(raw: bytes, key: bytes) -> str | None:
    """The text sealed in ``raw``; None when ``key`` is not the one it was sealed with."""
    nonce, cipher, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    enc_key, mac_key = _keys(key)
    if not hmac.compare_digest(tag, hmac.new(mac_key, nonce + cipher, hashlib.sha256).digest()):
        return None
    plain = bytes(a ^ b for a, b in zip(cipher, _stream(enc_key, nonce, len(cipher)), strict=True))
    return plain.decode("utf-8", errors="surrogatepass")
