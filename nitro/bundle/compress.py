"""`compress_public_assets`: precompressed ``.br`` and ``.gz`` twins of public files.

The server picks a twin by `Accept-Encoding` (see `nitro.core.utils.static`), so a
text asset costs no compression work per request. Only types that compress are
considered (text, JSON, JavaScript, XML, SVG, WebAssembly, uncompressed fonts), only
files of at least `MIN_SIZE` bytes, never source maps, and a twin is kept only
when it is smaller than the original.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from ..core.utils.static import ENCODINGS, content_type_for

__all__ = ["MIN_SIZE", "compress_public", "is_compressible"]

MIN_SIZE = 1024

_COMPRESSIBLE_PREFIXES = ("text/", "image/svg+xml", "font/ttf", "font/otf")
_COMPRESSIBLE_TYPES = {
    "application/json",
    "application/manifest+json",
    "application/javascript",
    "application/xml",
    "application/xhtml+xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/wasm",
    "application/vnd.ms-fontobject",
}


def is_compressible(name: str) -> bool:
    """Whether a file of this name is worth precompressing (by its content type)."""
    if name.endswith(".map"):
        return False
    kind = content_type_for(name).split(";")[0]
    return kind.startswith(_COMPRESSIBLE_PREFIXES) or kind in _COMPRESSIBLE_TYPES


def compress_public(directory: Path) -> int:
    """Write ``.br`` and ``.gz`` next to each compressible file under `directory`;
    returns how many twins were written."""
    import brotli

    variant_suffixes = tuple(suffix for _, suffix in ENCODINGS)
    written = 0
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.name.endswith(variant_suffixes):
            continue
        if path.stat().st_size < MIN_SIZE or not is_compressible(path.name):
            continue
        data = path.read_bytes()
        twins = {
            ".br": brotli.compress(data, quality=11),
            ".gz": gzip.compress(data, compresslevel=9, mtime=0),  # mtime 0: reproducible
        }
        for suffix, packed in twins.items():
            if len(packed) < len(data):
                _write(path.with_name(path.name + suffix), packed)
                written += 1
    return written


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)
