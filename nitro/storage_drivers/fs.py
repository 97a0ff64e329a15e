"""`fs`: one file per key under a base directory (key ``a:b`` is ``<base>/a/b``).

Writes are atomic (temp file, fsync, rename, fsync of the directory), so a crash
mid-write leaves the old value or the new one, never a torn or empty file. A TTL
is kept in a sidecar ``<name>.nitro-meta`` file, written before the value and
checked on read. A key can never name a file outside the base: ``.``/``..``
segments, NUL bytes, the driver's own file suffixes and symlinks leading out
are refused.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from ..core.options import Options
from ..core.sync import run_in_thread
from ._base import DriverBase, parse_options

DRIVER_NAME = "fs"
REQUIRES: list[str] = []
META = ".nitro-meta"
TMP = ".nitro-tmp-"

T = TypeVar("T")


class FsOptions(Options):
    """Options of the `fs` driver."""

    base: str = ".data/kv"
    """Directory holding the values; relative paths are relative to the project root."""
    read_only: bool = False
    """Refuse writes (used for ``assets:server``)."""


class FsDriver(DriverBase):
    name = DRIVER_NAME

    def __init__(self, base: Path, *, read_only: bool = False) -> None:
        self.base = base.resolve()
        self.endpoint = str(self.base)
        self.read_only = read_only

    # --- async API: the file system work runs in a worker thread ---

    async def get(self, key: str) -> bytes | None:
        return await self._run(self._get, key)

    async def has(self, key: str) -> bool:
        return await self._run(self._get, key) is not None

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        await self._run(self._set, key, value, ttl)

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None) -> bool:
        return await self._run(self._set_if_absent, key, value, ttl)

    async def remove(self, key: str) -> None:
        await self._run(self._remove, key)

    async def keys(self, prefix: str) -> list[str]:
        return await self._run(self._keys, prefix)

    async def clear(self, prefix: str) -> None:
        await self._run(self._clear, prefix)

    async def meta(self, key: str) -> dict[str, Any] | None:
        return await self._run(self._meta, key)

    @staticmethod
    async def _run(fn: Callable[..., T], *args: Any) -> T:
        return await run_in_thread(fn, *args)

    # --- paths ---

    def _path(self, key: str) -> Path:
        parts = key.split(":")
        for part in parts:
            if part in ("", ".", "..") or "\x00" in part or os.sep in part or "/" in part:
                raise ValueError(f"[nitro:storage:fs] invalid key {key!r}: bad segment {part!r}")
            if part.endswith(META) or TMP in part:
                raise ValueError(
                    f"[nitro:storage:fs] invalid key {key!r}: {META!r} and {TMP!r} are reserved"
                )
        path = self.base.joinpath(*parts)
        if not path.resolve().is_relative_to(self.base):
            raise ValueError(f"[nitro:storage:fs] key {key!r} leads outside {self.base}")
        return path

    def _prefix_dir(self, prefix: str) -> Path:
        return self._path(prefix[:-1]) if prefix else self.base

    # --- operations ---

    def _get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        if self._is_expired(path):
            self._delete(path)
            return None
        return data

    def _set(self, key: str, value: bytes, ttl: float | None) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ValueError(
                f"[nitro:storage:fs] key {key!r} conflicts with a shorter key that holds a value"
            ) from None
        if path.is_dir():
            raise ValueError(f"[nitro:storage:fs] key {key!r} conflicts with longer keys under it")
        meta = _meta_path(path)
        # The expiry goes first: a crash between the two writes then leaves the old
        # value with the new expiry (it may expire early), never a new value that
        # reads as expired.
        if ttl is not None:
            _atomic_write(meta, json.dumps({"ttl": ttl, "expires": time.time() + ttl}).encode())
        else:
            meta.unlink(missing_ok=True)
        _atomic_write(path, value)

    def _set_if_absent(self, key: str, value: bytes, ttl: float | None) -> bool:
        # An exclusive flock on a per-key lock file serialises claims from every process
        # on this machine; inside it, check-then-write is safe, also for an expired value.
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = path.with_name(f"{path.name}{TMP}lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if path.is_file() and not self._is_expired(path):
                return False
            self._set(key, value, ttl)
            return True
        finally:
            os.close(fd)  # releases the lock; the lock file stays (harmless, never listed)

    def _remove(self, key: str) -> None:
        self._delete(self._path(key))

    def _delete(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        _meta_path(path).unlink(missing_ok=True)
        self._prune(path.parent)

    def _prune(self, directory: Path) -> None:
        """Remove `directory` and its parents while they are empty, up to the base."""
        while directory != self.base and directory.is_relative_to(self.base):
            try:
                directory.rmdir()
            except OSError:
                break
            directory = directory.parent

    def _keys(self, prefix: str) -> list[str]:
        start = self._prefix_dir(prefix)
        keys = []
        for directory, _, files in os.walk(start):
            for name in files:
                if name.endswith(META) or TMP in name:
                    continue
                path = Path(directory, name)
                if self._is_expired(path):
                    continue
                keys.append(path.relative_to(self.base).as_posix().replace("/", ":"))
        return keys

    def _clear(self, prefix: str) -> None:
        target = self._prefix_dir(prefix)
        if not target.is_dir():
            return
        for child in target.iterdir():
            if child.is_dir() and not child.is_symlink():
                import shutil

                shutil.rmtree(child)
            else:
                child.unlink(missing_ok=True)
        if prefix:
            self._prune(target)

    def _meta(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not path.is_file():
            return None
        info = _read_meta(path)
        if info is not None and info["expires"] <= time.time():
            self._delete(path)
            return None
        meta: dict[str, Any] = {"mtime": stat.st_mtime, "size": stat.st_size}
        if info is not None:
            meta["ttl"] = info["ttl"]
        return meta

    def _is_expired(self, path: Path) -> bool:
        info = _read_meta(path)
        return info is not None and info["expires"] <= time.time()


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + META)


def _read_meta(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(_meta_path(path).read_bytes())
    except (FileNotFoundError, NotADirectoryError):
        return None
    except ValueError:
        return None  # a sidecar from an interrupted write: treat the value as plain


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}{TMP}{os.getpid()}-{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # make the rename itself durable
    finally:
        os.close(directory)


def driver(options: Mapping[str, Any], *, root: Path) -> FsDriver:
    parsed = parse_options(FsOptions, options, DRIVER_NAME)
    base = Path(parsed.base)
    return FsDriver(base if base.is_absolute() else root / base, read_only=parsed.read_only)
