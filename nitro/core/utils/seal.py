"""Sealing small values for a cookie: encrypted and authenticated (AES-256-GCM).

A seal is ``n1.<key id>.<base64url(nonce + ciphertext + tag)>``: the version, the id
of the key that made it, and the encrypted value. Keys are derived from each
password with HKDF-SHA256, once per process and password. The version, key id and
a `purpose` (a session's cookie name) are authenticated with the value, so a seal
made for one purpose or with one key cannot be replayed as another.

The cryptography comes from the `cryptography` package (the ``session`` extra),
imported on the first seal or unseal: ``import nitro`` never loads it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["MIN_PASSWORD_LENGTH", "Keys", "keys_for", "seal", "unseal"]

MIN_PASSWORD_LENGTH = 32
VERSION = "n1"
_NONCE = 12  # bytes: AES-GCM's standard nonce; random per seal
_TAG = 16
_MAX_SEAL = 8192  # characters: longer input is refused before any decoding
_SALT = b"nitro:seal:v1"
# base64url to base64; "+" and "/" (not base64url) become "!", which strict decoding refuses
_FROM_BASE64URL = bytes.maketrans(b"-_+/", b"+/!!")


class Keys:
    """The keys of a password list: the first seals, every one unseals (rotation)."""

    __slots__ = ("by_id", "sealing_id")

    def __init__(self, ciphers: list[tuple[str, AESGCM]]) -> None:
        self.sealing_id = ciphers[0][0]
        self.by_id = dict(ciphers)

    @property
    def sealing(self) -> AESGCM:
        return self.by_id[self.sealing_id]


def keys_for(password: str | Sequence[str], *, where: str = "nitro:session") -> Keys:
    """The keys for `password` (a string, or a list whose first entry seals).

    Each password must be a string of at least 32 characters; derived keys are
    cached per process, so this is cheap after the first call.
    """
    passwords = (password,) if isinstance(password, str) else tuple(password)
    return _derive(passwords, where)


@functools.lru_cache(maxsize=64)
def _derive(passwords: tuple[str, ...], where: str) -> Keys:
    if not passwords:
        raise ValueError(f"[{where}] password is an empty list: give at least one password")
    for password in passwords:
        if not isinstance(password, str):
            raise TypeError(f"[{where}] password must be a string, got {type(password).__name__}")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(
                f"[{where}] password must be at least {MIN_PASSWORD_LENGTH} characters (got "
                f'{len(password)}); make one with: python -c "import secrets; '
                'print(secrets.token_urlsafe(32))"'
            )
    crypto = _crypto(where)
    ciphers: list[tuple[str, AESGCM]] = []
    for password in passwords:
        secret = password.encode()
        key = _hkdf(crypto, secret, b"nitro seal: AES-256-GCM key", 32)
        key_id = base64.urlsafe_b64encode(_hkdf(crypto, secret, b"nitro seal: key id", 6))
        ciphers.append((key_id.decode("ascii"), crypto.AESGCM(key)))
    return Keys(ciphers)


def seal(keys: Keys, value: bytes, purpose: str) -> str:
    """`value` encrypted and authenticated with the sealing key, for `purpose`."""
    key_id = keys.sealing_id
    nonce = os.urandom(_NONCE)
    sealed = keys.sealing.encrypt(nonce, value, _associated(key_id, purpose))
    body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")
    return f"{VERSION}.{key_id}.{body}"


def unseal(keys: Keys, sealed: str, purpose: str) -> bytes | None:
    """The value sealed in `sealed` for `purpose`, or None when it is not a seal of
    ours: malformed, truncated, tampered with, made with an unknown key or for
    another purpose. Never raises for any input string."""
    if not isinstance(sealed, str) or len(sealed) > _MAX_SEAL:
        return None
    version, _, rest = sealed.partition(".")
    key_id, _, body = rest.partition(".")
    cipher = keys.by_id.get(key_id)
    if version != VERSION or cipher is None:
        return None
    try:
        data = body.encode("ascii").translate(_FROM_BASE64URL)
        # strict: anything but the alphabet (and padding at the end only) is an error
        raw = binascii.a2b_base64(data + b"=" * (-len(data) % 4), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        return None
    if len(raw) < _NONCE + _TAG:
        return None
    try:
        return cipher.decrypt(raw[:_NONCE], raw[_NONCE:], _associated(key_id, purpose))
    except _invalid_tag():
        return None


@functools.cache
def _invalid_tag() -> type[Exception]:
    from cryptography.exceptions import InvalidTag

    return InvalidTag


def _associated(key_id: str, purpose: str) -> bytes:
    return f"{VERSION}.{key_id}.{purpose}".encode()


class _Crypto:
    __slots__ = ("AESGCM", "HKDF", "SHA256")

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.hashes import SHA256
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        self.AESGCM = AESGCM
        self.HKDF = HKDF
        self.SHA256 = SHA256


def _crypto(where: str) -> _Crypto:
    try:
        return _Crypto()
    except ModuleNotFoundError as exc:
        raise ImportError(
            f"[{where}] needs 'cryptography' to seal and unseal: pip install \"nitro-py[session]\""
        ) from exc


def _hkdf(crypto: _Crypto, secret: bytes, info: bytes, length: int) -> bytes:
    return bytes(
        crypto.HKDF(algorithm=crypto.SHA256(), length=length, salt=_SALT, info=info).derive(secret)
    )
