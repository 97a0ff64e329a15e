from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from nitro import NitroApp
from nitro.core.utils.static import (
    DirectoryAssets,
    ManifestAssets,
    PublicDir,
    content_type_for,
    scan_public,
)
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


@pytest.fixture
def public(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    (root / "docs").mkdir(parents=True)
    (root / "a.txt").write_text("A")
    (root / "docs" / "index.html").write_text("<p>docs</p>")
    (root / "app.js").write_text("x" * 2000)
    (root / "app.js.gz").write_bytes(b"gz")
    (root / ".env").write_text("SECRET=1")
    (root / ".well-known").mkdir()
    (root / ".well-known" / "security.txt").write_text("contact")
    (tmp_path / "outside.txt").write_text("outside")
    os.symlink(tmp_path / "outside.txt", root / "link.txt")
    return root


def lookups(public: Path) -> list:
    return [
        DirectoryAssets([PublicDir(public)]),
        ManifestAssets(public, scan_public([PublicDir(public)])),
    ]


def test_both_lookups_agree(public: Path) -> None:
    for assets in lookups(public):
        assert assets.lookup("/a.txt")[1].size == 1
        assert assets.lookup("/docs")[1].content_type == "text/html; charset=utf-8"
        assert assets.lookup("/docs/")[1].content_type == "text/html; charset=utf-8"
        assert assets.lookup("/app.js")[1].encodings.keys() == {"gzip"}
        assert assets.lookup("/app.js.gz") is None or isinstance(assets, DirectoryAssets)
        assert assets.lookup("/.env") is None
        assert assets.lookup("/.well-known/security.txt") is not None
        assert assets.lookup("/missing") is None
        assert assets.lookup("/docs%2Findex.html") is None
        assert assets.lookup("/..%5Ca.txt") is None


def test_symlinks_out_of_public_are_not_served_from_disk(public: Path) -> None:
    assert DirectoryAssets([PublicDir(public)]).lookup("/link.txt") is None


def test_manifest_etags_come_from_content(public: Path) -> None:
    first = scan_public([PublicDir(public)])["/a.txt"].etag
    os.utime(public / "a.txt", (1, 1))
    assert scan_public([PublicDir(public)])["/a.txt"].etag == first
    (public / "a.txt").write_text("B")
    assert scan_public([PublicDir(public)])["/a.txt"].etag != first


def test_base_url_and_max_age(public: Path) -> None:
    index = scan_public([PublicDir(public, base_url="/static", max_age=3600)])
    assert index["/static/a.txt"].file == "static/a.txt"
    assert index["/static/a.txt"].max_age == 3600
    disk = DirectoryAssets([PublicDir(public, base_url="/static")])
    assert disk.lookup("/static/a.txt") is not None
    assert disk.lookup("/a.txt") is None


def test_content_types() -> None:
    assert content_type_for("x.js") == "text/javascript; charset=utf-8"
    assert content_type_for("x.wasm") == "application/wasm"
    assert content_type_for("x.unknownext") == "application/octet-stream"
    assert content_type_for("x.svg") == "image/svg+xml; charset=utf-8"


async def test_only_get_and_head_are_served_and_q0_is_respected(public: Path) -> None:
    app = NitroApp(public=DirectoryAssets([PublicDir(public)]))
    async with TestClient(app) as client:
        assert (await client.post("/a.txt")).status_code == 404
        response = await client.get("/app.js", headers={"accept-encoding": "gzip;q=0, br"})
        assert "content-encoding" not in response.headers
        assert response.headers["vary"] == "Accept-Encoding"


async def test_an_app_that_runs_sync_code_inline_reads_assets_inline_with_the_same_answer(
    public: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda and Vercel (`sync_to_thread=False`) read a public file on the loop's
    thread, as they run sync code: no anyio worker thread per invocation. The answer
    is FileResponse's, header for header; a Range request still goes to FileResponse."""
    import gzip

    import anyio.to_thread

    (public / "app.js.gz").write_bytes(gzip.compress(b"x" * 2000))
    hops: list[object] = []  # what went to anyio's worker threads
    run_sync = anyio.to_thread.run_sync

    async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(fn)
        return await run_sync(fn, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    requests = [
        ("GET", "/a.txt", {}),
        ("GET", "/docs/", {}),
        ("GET", "/app.js", {"accept-encoding": "gzip"}),
        ("HEAD", "/app.js", {}),
    ]
    answers = {}
    for inline in (True, False):
        app = NitroApp(public=DirectoryAssets([PublicDir(public)]), sync_to_thread=not inline)
        async with TestClient(app) as client:
            hops.clear()
            answers[inline] = [
                await client.request(method, path, headers=headers)
                for method, path, headers in requests
            ]
            assert bool(hops) is not inline, hops
            ranged = await client.get(
                "/app.js", headers={"range": "bytes=0-9", "accept-encoding": "identity"}
            )
            assert (ranged.status_code, ranged.content) == (206, b"x" * 10)
    for threaded, inline in zip(answers[False], answers[True], strict=True):
        assert (inline.status_code, inline.content) == (threaded.status_code, threaded.content)
        assert dict(inline.headers) == dict(threaded.headers)
