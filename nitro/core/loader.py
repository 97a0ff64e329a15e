"""Loading a project's modules by file path, on demand.

Route files such as ``routes/users/[id].get.py`` are not importable names, so
they are loaded with `importlib.util.spec_from_file_location`, each under a
module name unique to its project and path. The project root is on `sys.path`,
so route modules import the project's own modules absolutely (``from lib import db``).
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
import zlib
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["LoadError", "ModuleRef", "describe", "load_module", "resolve"]

_lock = threading.RLock()


class LoadError(Exception):
    """A project module could not be loaded or has no usable export; names the file."""


def _module_name(root: Path, file: str) -> str:
    # Tells projects in one process apart; crc32, because hashlib's import (OpenSSL)
    # would be a cold start's cost for a name.
    digest = format(zlib.crc32(f"{root}\0{file}".encode()), "08x")
    stem = re.sub(r"\W+", "_", file.removesuffix(".py")).strip("_")
    return f"_nitro_project_{digest}_{stem}"


def load_module(root: Path, file: str) -> ModuleType:
    """Import ``root / file`` once per process and return the module."""
    name = _module_name(root, file)
    module = sys.modules.get(name)
    if module is not None:
        return module
    with _lock:
        module = sys.modules.get(name)
        if module is not None:
            return module
        path = root / file
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise LoadError(f"[nitro] cannot load {file}: not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return module


class ModuleRef:
    """An attribute of a project module, loaded on first use.

    `export` names the attribute (the scanner found it); when it is None the module's
    attribute `prefer` is taken if it has one, else the module must hold exactly one
    object of one of `kinds`.
    """

    __slots__ = ("export", "file", "kinds", "prefer", "root")

    def __init__(
        self,
        root: Path,
        file: str,
        export: str | None,
        kinds: tuple[type, ...],
        *,
        prefer: str | None = None,
    ) -> None:
        self.root = root
        self.file = file
        self.export = export
        self.kinds = kinds
        self.prefer = prefer

    def load(self) -> Any:
        module = load_module(self.root, self.file)
        if self.export is not None:
            try:
                return getattr(module, self.export)
            except AttributeError:
                raise LoadError(f"[nitro] {self.file} has no attribute {self.export!r}") from None
        if self.prefer is not None and callable(getattr(module, self.prefer, None)):
            return getattr(module, self.prefer)
        found = [
            value
            for name, value in vars(module).items()
            if isinstance(value, self.kinds) and not name.startswith("__")
        ]
        unique = list({id(v): v for v in found}.values())
        if len(unique) != 1:
            kinds = " or ".join(k.__name__ for k in self.kinds)
            raise LoadError(
                f"[nitro] {self.file} must define exactly one {kinds} (found {len(unique)})"
            )
        return unique[0]

    def __repr__(self) -> str:
        return f"<ModuleRef {self.file}:{self.export or '?'}>"


def resolve(spec: Any) -> Any:
    """What `spec` points at: a `ModuleRef` is loaded (any failure becomes a `LoadError`
    naming the file); anything else is returned as it is."""
    if not isinstance(spec, ModuleRef):
        return spec
    try:
        return spec.load()
    except LoadError:
        raise
    except Exception as exc:
        raise LoadError(
            f"[nitro] {spec.file} failed to import: {type(exc).__name__}: {exc}"
        ) from exc


def describe(spec: Any) -> str:
    """A name for messages: the file of a `ModuleRef`, else the object's name."""
    if isinstance(spec, ModuleRef):
        return spec.file
    return getattr(spec, "name", None) or getattr(spec, "__name__", None) or repr(spec)
