"""`nitro build` prerendering and `compress_public_assets`, through the real CLI and the built app."""

from __future__ import annotations

import gzip
import json
import os
import re
import textwrap
from pathlib import Path

import anyio
import brotli
import pytest

from nitro.bundle.compress import compress_public, is_compressible
from nitro.bundle.prerender import PrerenderOptions, _file_for, _links, _normalize
from nitro.config import ConfigError
from nitro.core.app import NitroApp
from nitro.runtime.app import load_app
from nitro.testing import TestClient

from helpers import nitro_cli

PAGE = """\
import time
from nitro import define_handler, html

@define_handler
def handler(event):
    return html({markup!r} + f"<!-- {{time.time_ns()}} -->")
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def served(root: Path) -> NitroApp:
    """The app of the server build in ``root/.output``, as its entry loads it."""
    out = root / ".output"
    return load_app(
        out / "server" / "app", manifest=out / "server" / "manifest.json", public_dir=out / "public"
    )


def page(markup: str) -> str:
    return PAGE.format(markup=markup)


def site(root: Path, config: str) -> Path:
    return write(
        root,
        {
            "nitro.config.py": "from nitro.config import define_nitro_config\n" + config,
            "routes/index.py": page(
                '<a href="/about">About</a> <a href="blog/hello?x=1#top">Post</a>'
                ' <a href="https://elsewhere.example/">out</a> <a href="#frag">here</a>'
                ' <a href="mailto:a@b.c">mail</a> <a href="/style.css">css</a>'
                ' <a href="/private/secret">hidden</a> <a href="/drafts/one">draft</a>'
            ),
            "routes/about.py": page('<h1>About</h1><a href="../">home</a>'),
            "routes/blog/[slug].py": page('<h1>Post</h1><a href="/stats.json">stats</a>'),
            "routes/stats.json.py": (
                "from nitro import define_handler\n"
                "@define_handler\n"
                "def handler(event):\n"
                "    return {'posts': 1}\n"
            ),
            "routes/private/[name].py": page("<h1>secret</h1>"),
            "routes/drafts/[name].py": page("<h1>draft</h1>"),
            "routes/feed.py": (
                "from nitro import define_handler, set_response_header\n"
                "@define_handler\n"
                "def handler(event):\n"
                "    set_response_header(event, 'x-nitro-prerender', '/about, /extra')\n"
                "    return {'feed': True}\n"
            ),
            "routes/extra.py": page("<h1>extra</h1>"),
            "public/style.css": "body { color: red }\n",
        },
    )


def test_crawled_pages_are_written_and_then_served_as_static_files(tmp_path: Path) -> None:
    root = site(
        tmp_path,
        'config = define_nitro_config(prerender={"crawl_links": True, "ignore": ["/drafts"]},\n'
        '    route_rules={"/private/**": {"prerender": False}, "/feed": {"prerender": True}})\n',
    )
    result = nitro_cli("build", str(root))
    assert result.returncode == 0, result.stderr
    public = root / ".output" / "public"
    written = sorted(p.relative_to(public).as_posix() for p in public.rglob("*") if p.is_file())
    assert written == [
        "about/index.html",
        "blog/hello/index.html",
        "extra/index.html",  # named by the feed's x-nitro-prerender header
        "feed",
        "index.html",
        "stats.json",
        "style.css",  # public/ itself; a crawled link to it is not fetched
    ]
    assert not (root / ".output" / ".prerender").exists()
    assert "prerendered 6 paths" in result.stderr  # the link to style.css was not fetched
    assert json.loads((public / "stats.json").read_text()) == {"posts": 1}

    manifest = json.loads((root / ".output/server/manifest.json").read_text())
    assert {"/about/index.html", "/index.html", "/stats.json", "/feed"} <= set(manifest["public"])

    about = (public / "about/index.html").read_text()
    app = served(root)

    async def fetch() -> None:
        async with TestClient(app) as client:
            for path in ("/about", "/about/"):
                response = await client.get(path)
                assert response.status_code == 200
                assert response.text == about  # the file, not a fresh render (its stamp differs)
                assert response.headers["etag"]
            assert "secret" in (await client.get("/private/x")).text  # still a live route

    anyio.run(fetch)


def test_a_failing_path_fails_the_build_unless_told_otherwise(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "nitro.config.py": (
                "from nitro.config import define_nitro_config\n"
                'config = define_nitro_config(prerender={"crawl_links": True})\n'
            ),
            "routes/index.py": page('<a href="/missing">gone</a> <a href="/boom">boom</a>'),
            "routes/boom.py": (
                "from nitro import define_handler\n"
                "@define_handler\n"
                "def handler(event):\n"
                "    raise RuntimeError('template broke')\n"
            ),
        },
    )
    failed = nitro_cli("build", str(root))
    assert failed.returncode == 1
    assert "2 path(s) failed" in failed.stderr
    assert "/missing: status 404" in failed.stderr and "/boom: status 500" in failed.stderr
    assert not (root / ".output" / ".prerender").exists()

    (root / "nitro.config.py").write_text(
        "from nitro.config import define_nitro_config\n"
        'config = define_nitro_config(prerender={"crawl_links": True, "fail_on_error": False})\n'
    )
    lenient = nitro_cli("build", str(root))
    assert lenient.returncode == 0, lenient.stderr
    assert "prerender skipped /missing: status 404" in lenient.stderr
    assert (root / ".output/public/index.html").is_file()


def test_compress_public_assets_writes_smaller_twins_that_the_server_picks(
    tmp_path: Path,
) -> None:
    script = "".join(f"console.log('line {i}');\n" for i in range(200))
    root = write(
        tmp_path,
        {
            "nitro.config.py": (
                "from nitro.config import define_nitro_config\n"
                'config = define_nitro_config(compress_public_assets=True, prerender={"routes": ["/"]})\n'
            ),
            "routes/index.py": page("<p>" + "hello " * 400 + "</p>"),
            "public/app.js": script,
            "public/app.js.map": "{" + '"x": 1,' * 400 + "}",
            "public/tiny.css": "a{}",
            "public/photo.png": "not really a png " * 200,
        },
    )
    result = nitro_cli("build", str(root))
    assert result.returncode == 0, result.stderr
    public = root / ".output/public"
    names = sorted(p.name for p in public.iterdir())
    assert names == [
        "app.js",
        "app.js.br",
        "app.js.gz",
        "app.js.map",
        "index.html",
        "index.html.br",
        "index.html.gz",
        "photo.png",
        "tiny.css",
    ]
    assert brotli.decompress((public / "app.js.br").read_bytes()).decode() == script
    assert gzip.decompress((public / "app.js.gz").read_bytes()).decode() == script

    app = served(root)

    async def fetch() -> None:
        async with TestClient(app) as client:
            br = await client.get("/app.js", headers={"accept-encoding": "br"})
            assert br.headers["content-encoding"] == "br"
            assert br.text == script  # httpx decodes it: the twin holds the same bytes
            gz = await client.get("/", headers={"accept-encoding": "gzip"})
            assert gz.headers["content-encoding"] == "gzip" and "hello hello" in gz.text
            plain = await client.get("/app.js", headers={"accept-encoding": "identity"})
            assert "content-encoding" not in plain.headers and plain.text == script

    anyio.run(fetch)


def test_compress_keeps_only_twins_that_are_smaller(tmp_path: Path) -> None:
    (tmp_path / "noise.txt").write_bytes(os.urandom(4096))  # incompressible
    (tmp_path / "a.svg").write_text("<svg>" + "<g/>" * 500 + "</svg>")
    assert compress_public(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a.svg",
        "a.svg.br",
        "a.svg.gz",
        "noise.txt",
    ]
    assert is_compressible("x.json") and is_compressible("x.wasm") and is_compressible("x.html")
    assert not is_compressible("x.woff2") and not is_compressible("x.png")
    assert not is_compressible("x.js.map")


@pytest.mark.parametrize(
    ("path", "html", "subfolder", "expected"),
    [
        ("/", True, True, "index.html"),
        ("/about", True, True, "about/index.html"),
        ("/about", True, False, "about.html"),
        ("/page.html", True, True, "page.html"),
        ("/api/data.json", False, True, "api/data.json"),
        ("/caf%C3%A9", True, True, "café/index.html"),
    ],
)
def test_file_names(path: str, html: bool, subfolder: bool, expected: str) -> None:
    assert _file_for(path, html, subfolder) == expected


@pytest.mark.parametrize(
    "path", ["/%2e%2e/etc/passwd", "/a/%2E%2E/%2e%2e/x", "/.env", "/a%5C..%5Cb", "/x%00"]
)
def test_names_that_could_leave_the_output_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="cannot be written as a file"):
        _file_for(path, True, True)


def test_normalize_and_links() -> None:
    assert _normalize("/a/../../etc/passwd") == "/etc/passwd"
    assert _normalize("//evil.example/x") == "/evil.example/x"
    assert _normalize("/about/?q=1#x") == "/about"
    markup = (
        '<a href="post">p</a><a href="/b/">b</a><a href="//cdn.example/x">cdn</a>'
        '<a href="img.png">img</a><a href="data.json">d</a><a href="javascript:alert(1)">js</a>'
        '<link href="/style">'
    )
    assert _links(markup, "/blog/first") == ["/blog/post", "/b/", "/blog/data.json"]


def test_prerender_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="unknown prerender option 'crawlLinks'"):
        PrerenderOptions.from_config({"crawlLinks": True})
    with pytest.raises(ConfigError, match="paths starting with '/'"):
        PrerenderOptions.from_config({"routes": "/about"})
    with pytest.raises(ConfigError, match="concurrency"):
        PrerenderOptions.from_config({"concurrency": 0})
    options = PrerenderOptions.from_config({"ignore": ["/x", re.compile(r"\.pdf$"), str.isupper]})
    assert len(options.ignore) == 3
