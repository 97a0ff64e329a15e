"""Serving ``public/``: validators, 304s, directory index, precompressed variants.

Two lookups share one serving path: `ManifestAssets` answers from the index
`nitro build` wrote (one dict lookup, no disk access until the file is sent) and
`DirectoryAssets` reads the disk (dev). Either way a path can never leave the
public directory: encoded separators, backslashes and dot-files are refused, and
the disk lookup checks the resolved path is inside the directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from ..manifest import PublicAsset
from ..response import PlainResponse

# hashlib, mimetypes, email.utils and Starlette's FileResponse are imported where
# used: scanning runs at build time or in dev, serving only when a file is asked
# for, and a deployed function should not pay for them at start.

if TYPE_CHECKING:
    from ..event import Event
    from ..response import AnyResponse

__all__ = [
    "DirectoryAssets",
    "ManifestAssets",
    "PublicDir",
    "PublicLookup",
    "content_type_for",
    "scan_public",
    "serve_public",
]

ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".md": "text/markdown",
    ".webmanifest": "application/manifest+json",
}
_CHARSET_TYPES = ("text/", "application/json", "application/manifest+json", "image/svg+xml")


class PublicDir(NamedTuple):
    """A directory served under `base_url`, with an optional `Cache-Control` max-age
    (`immutable`: its files are content-hashed, a cache never needs to revalidate)."""

    dir: Path
    base_url: str = "/"
    max_age: int | None = None
    immutable: bool = False


def content_type_for(name: str) -> str:
    """The `Content-Type` for a file name, with ``charset=utf-8`` for text."""
    kind = _TYPES.get(os.path.splitext(name)[1].lower())
    if kind is None:
        import mimetypes

        kind = mimetypes.guess_type(name)[0]
    kind = kind or "application/octet-stream"
    if kind.startswith(_CHARSET_TYPES):
        kind += "; charset=utf-8"
    return kind


def _hidden(rel: str) -> bool:
    return any(part.startswith(".") and part != ".well-known" for part in rel.split("/"))


def scan_public(dirs: list[PublicDir]) -> dict[str, PublicAsset]:
    """Index every servable file (URL path -> asset), with content-hash ETags.

    Used by `nitro build`; `PublicAsset.file` is the path under the output public
    directory, where the build copies each `PublicDir` to its `base_url`.
    """
    index: dict[str, PublicAsset] = {}
    for public in dirs:
        if not public.dir.is_dir():
            continue
        base = public.base_url.strip("/")
        for path in sorted(public.dir.rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(public.dir).as_posix()
            if _hidden(rel) or _is_variant(path):
                continue
            out = f"{base}/{rel}" if base else rel
            url = "/" + out
            if url in index:
                continue
            stat = path.stat()
            encodings = {
                name: f"{out}{suffix}"
                for name, suffix in ENCODINGS
                if path.with_name(path.name + suffix).is_file()
            }
            index[url] = PublicAsset(
                file=out,
                size=stat.st_size,
                mtime=stat.st_mtime,
                etag=_content_etag(path, stat.st_size),
                content_type=content_type_for(path.name),
                encodings=encodings or None,
                max_age=public.max_age,
                immutable=public.immutable,
            )
    return index


def _is_variant(path: Path) -> bool:
    for _, suffix in ENCODINGS:
        if path.name.endswith(suffix) and path.with_name(path.name[: -len(suffix)]).is_file():
            return True
    return False


def _content_etag(path: Path, size: int) -> str:
    import hashlib

    digest = hashlib.blake2b(digest_size=8)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return f'"{size:x}-{digest.hexdigest()}"'


def _candidates(pathname: str) -> tuple[str, ...] | None:
    """URL paths to try for a request path, or None when it can never be a public file."""
    if "%2F" in pathname or "%5C" in pathname or "\\" in pathname or "\x00" in pathname:
        return None
    path = pathname.replace("%25", "%")
    if path.endswith("/"):
        path = path.rstrip("/")
        return (path + "/index.html",)
    return (path, path + "/index.html")


class PublicLookup(Protocol):
    """What the app asks for public files (`ManifestAssets` in a build, `DirectoryAssets` in dev)."""

    def lookup(self, pathname: str) -> tuple[Path, PublicAsset] | None: ...


class ManifestAssets:
    """Public assets from a build's index; files live under `public_dir`.

    Every URL that can serve a file (its own path, and ``/dir`` and ``/dir/`` for a
    folder's ``index.html``) is precomputed, so a request costs one dict lookup and
    a path that is not exactly one of them can never reach the disk.
    """

    def __init__(self, public_dir: Path, index: dict[str, PublicAsset]) -> None:
        self.public_dir = public_dir
        self.index = index
        self._urls: dict[str, PublicAsset] = {}
        for url, asset in index.items():
            if url.endswith("/index.html"):
                folder = url[: -len("/index.html")]
                self._urls.setdefault(folder or "/", asset)
                self._urls.setdefault(folder + "/", asset)
        self._urls.update(index)

    def lookup(self, pathname: str) -> tuple[Path, PublicAsset] | None:
        asset = self._urls.get(pathname)
        if asset is None and "%25" in pathname:  # a literal "%" in a file name
            asset = self._urls.get(pathname.replace("%25", "%"))
        return (self.public_dir, asset) if asset is not None else None


class DirectoryAssets:
    """Public assets read from disk on each request (dev: new files appear at once)."""

    def __init__(self, dirs: list[PublicDir]) -> None:
        self.dirs = [(d, d.dir.resolve()) for d in dirs]

    def lookup(self, pathname: str) -> tuple[Path, PublicAsset] | None:
        candidates = _candidates(pathname)
        if candidates is None:
            return None
        for public, root in self.dirs:
            base = "/" + public.base_url.strip("/")
            for candidate in candidates:
                if base != "/":
                    if not candidate.startswith(base + "/"):
                        continue
                    rel = candidate[len(base) + 1 :]
                else:
                    rel = candidate[1:]
                if not rel or _hidden(rel):
                    continue
                path = (root / rel).resolve()
                if not path.is_relative_to(root) or not path.is_file():
                    continue
                stat = path.stat()
                encodings = {
                    name: path.name + suffix
                    for name, suffix in ENCODINGS
                    if path.with_name(path.name + suffix).is_file()
                }
                asset = PublicAsset(
                    file=path.name,
                    size=stat.st_size,
                    mtime=stat.st_mtime,
                    etag=f'"{stat.st_size:x}-{int(stat.st_mtime * 1000):x}"',
                    content_type=content_type_for(path.name),
                    encodings=encodings or None,
                    max_age=public.max_age,
                    immutable=public.immutable,
                )
                return path.parent, asset
        return None


def serve_public(event: Event, found: tuple[Path, PublicAsset]) -> AnyResponse:
    """The response for a public asset: 304 when the client's copy is current."""
    from email.utils import formatdate

    directory, asset = found
    file, etag, encoding = asset.file, asset.etag, None
    if asset.encodings:
        accepted = _accepted_encodings(event)
        for name, _ in ENCODINGS:
            if name in accepted and name in asset.encodings:
                file, encoding = asset.encodings[name], name
                etag = f'{asset.etag[:-1]}-{"br" if name == "br" else "gz"}"'
                break
    headers = [
        (b"etag", etag.encode()),
        (b"last-modified", formatdate(asset.mtime, usegmt=True).encode()),
    ]
    if asset.max_age is not None:
        immutable = ", immutable" if asset.immutable else ""
        headers.append((b"cache-control", f"public, max-age={asset.max_age}{immutable}".encode()))
    if asset.encodings:
        headers.append((b"vary", b"Accept-Encoding"))
    if _not_modified(event, etag, asset.mtime):
        return PlainResponse(b"", 304, headers)
    if encoding is not None:
        headers.append((b"content-encoding", encoding.encode()))
    if not event.app.sync_to_thread and "range" not in event.headers:
        # One request at a time (Lambda, Vercel): read here, as sync code runs here.
        # FileResponse reads through anyio's worker threads: its import on the first
        # asset, and a thread per invocation, which anyio ties to the invocation's task.
        body = (directory / file).read_bytes()
        headers += [
            (b"content-type", asset.content_type.encode()),  # charset included for text
            (b"accept-ranges", b"bytes"),
            (b"content-length", str(len(body)).encode()),
        ]
        return PlainResponse(body, 200, headers)
    from starlette.responses import FileResponse

    response = FileResponse(directory / file, media_type=asset.content_type)
    response.raw_headers.extend(headers)
    return response


def _accepted_encodings(event: Event) -> set[str]:
    accepted = set()
    for item in event.headers.get("accept-encoding", "").split(","):
        token, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if token and quality > 0:
            accepted.add(token.lower())
    return accepted


def _not_modified(event: Event, etag: str, mtime: float) -> bool:
    headers = event.headers
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        from email.utils import parsedate_to_datetime

        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
        return int(mtime) <= since
    return False
