"""Prerendering: fetch routes through the app at build time and keep them as public files.

Which paths: ``prerender={"routes": [...]}``, every exact-path route rule with
``prerender: True`` and, with ``crawl_links``, every same-site link found in the
HTML pages fetched (starting from ``/``). A ``prerender: False`` rule (wildcards
allowed) or an ``ignore`` entry excludes a path. Pages are written to a staging
directory that `copy_public` adds to the build's public assets, so a prerendered
path is then served as a static file, before middleware and routes.

The app runs in this process with the production routes and, as in dev, the
`dev_storage` and `dev_database` configuration (production secrets are rarely
available to a build).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

import anyio

from ..config import ConfigError, NitroConfig
from ..core.options import did_you_mean
from ..core.route_rules import RouteRules
from .output import PRERENDER_DIR, BuildError

if TYPE_CHECKING:
    from ..core.app import NitroApp
    from ..core.manifest import Manifest

__all__ = [
    "PRERENDER_DIR",
    "PrerenderError",
    "PrerenderOptions",
    "PrerenderResult",
    "prerender",
    "prerender_project",
    "wants_prerender",
]

Ignore = str | re.Pattern[str] | Callable[[str], bool]

# A crawled link is a page (no extension), or one of these: other files are assets.
_CRAWLED_EXTENSIONS = ("", ".html", ".json")


class PrerenderError(BuildError):
    """Some paths could not be prerendered; the message lists each with its reason."""


@dataclass(frozen=True)
class PrerenderOptions:
    """The `prerender` config block.

    `routes` are fetched; `crawl_links` also follows same-site links in HTML pages
    (from ``/`` when `routes` is empty); `ignore` entries are path prefixes, compiled
    regexes or predicates; `fail_on_error` (default True) fails the build when a
    path answers with an error; `concurrency` requests run at once; with
    `auto_subfolder_index` (default True) ``/about`` becomes ``about/index.html``,
    else ``about.html``.
    """

    routes: tuple[str, ...] = ()
    crawl_links: bool = False
    ignore: tuple[Ignore, ...] = ()
    fail_on_error: bool = True
    concurrency: int = 4
    auto_subfolder_index: bool = True

    @classmethod
    def from_config(cls, block: Mapping[str, Any]) -> PrerenderOptions:
        known = set(cls.__dataclass_fields__)
        for name in block:
            if name not in known:
                hint = did_you_mean(name, sorted(known))
                raise ConfigError(f"[nitro:config] unknown prerender option {name!r}{hint}")
        routes = block.get("routes", ())
        if isinstance(routes, str) or not all(
            isinstance(r, str) and r.startswith("/") for r in routes
        ):
            raise ConfigError("[nitro:config] prerender routes are paths starting with '/'")
        concurrency = block.get("concurrency", 4)
        if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
            raise ConfigError("[nitro:config] prerender concurrency must be a positive number")
        ignore = block.get("ignore", ())
        for entry in ignore:
            if not isinstance(entry, (str, re.Pattern)) and not callable(entry):
                raise ConfigError(
                    "[nitro:config] prerender ignore entries are path prefixes, "
                    "re.compile(...) patterns or functions"
                )
        return cls(
            routes=tuple(routes),
            crawl_links=bool(block.get("crawl_links", False)),
            ignore=tuple(ignore),
            fail_on_error=bool(block.get("fail_on_error", True)),
            concurrency=concurrency,
            auto_subfolder_index=bool(block.get("auto_subfolder_index", True)),
        )


@dataclass
class PrerenderResult:
    """What a prerender wrote (path -> file under the output) and what failed (path -> why)."""

    written: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def wants_prerender(config: NitroConfig) -> bool:
    """Whether a build of this project prerenders anything."""
    options = PrerenderOptions.from_config(config.prerender)
    return bool(
        options.routes
        or options.crawl_links
        or RouteRules(config.route_rules).exact_paths("prerender")
    )


def prerender_project(
    root: Path,
    config: NitroConfig,
    manifest: Manifest,
    out: Path,
    log: Callable[[str], None],
) -> PrerenderResult:
    """Load the project's app and prerender it into `out` (see the module docs)."""
    from ..runtime.app import load_app

    options = PrerenderOptions.from_config(config.prerender)
    app = load_app(root, manifest=manifest, prerender=True)
    seeds = [*options.routes, *RouteRules(config.route_rules).exact_paths("prerender")]
    if options.crawl_links and not seeds:
        seeds = ["/"]
    result = anyio.run(prerender, app, seeds, out, options, log)
    if result.failed and options.fail_on_error:
        lines = "\n".join(f"  {path}: {reason}" for path, reason in sorted(result.failed.items()))
        raise PrerenderError(
            f"[nitro:prerender] {len(result.failed)} path(s) failed "
            f"(fix them, add them to prerender ignore, or set fail_on_error=False):\n{lines}"
        )
    for path, reason in sorted(result.failed.items()):
        log(f"prerender skipped {path}: {reason}")
    return result


async def prerender(
    app: NitroApp,
    seeds: list[str],
    out: Path,
    options: PrerenderOptions,
    log: Callable[[str], None] = lambda message: None,
) -> PrerenderResult:
    """Fetch `seeds` (and, with `crawl_links`, what they link to) from `app`; write them to `out`."""
    from ..testing import TestClient

    result = PrerenderResult()
    rules = app.route_rules
    seen: set[str] = set()
    limiter = anyio.CapacityLimiter(options.concurrency)

    def excluded(path: str) -> bool:
        if rules.explicit("GET", path, "prerender") is False:
            return True
        for entry in options.ignore:
            if isinstance(entry, str):
                if path.startswith(entry):
                    return True
            elif isinstance(entry, re.Pattern):
                if entry.search(path):
                    return True
            elif entry(path):
                return True
        return False

    async with (
        TestClient(app, base_url="http://localhost") as client,
        anyio.create_task_group() as tg,
    ):

        def queue(path: str, *, crawled: bool) -> None:
            path = _normalize(path)
            if path in seen or excluded(path):
                return
            if crawled and app.public is not None and app.public.lookup(path) is not None:
                return  # already a public file
            seen.add(path)
            tg.start_soon(fetch, path)

        async def fetch(path: str) -> None:
            async with limiter:
                try:
                    response = await client.get(app.base_url.rstrip("/") + path)
                except Exception as exc:  # the app crashed: report it with the path
                    result.failed[path] = f"{type(exc).__name__}: {exc}"
                    return
            if not 200 <= response.status_code < 300:
                result.failed[path] = f"status {response.status_code}"
                return
            kind = response.headers.get("content-type", "")
            try:
                file = _file_for(path, "text/html" in kind, options.auto_subfolder_index)
            except ValueError as exc:
                result.failed[path] = str(exc)
                return
            target = out / file
            target.parent.mkdir(parents=True, exist_ok=True)
            await anyio.Path(target).write_bytes(response.content)
            result.written[path] = file
            log(f"prerendered {path} -> {file} ({len(response.content)} bytes)")
            extra = response.headers.get("x-nitro-prerender", "")
            for link in filter(None, (p.strip() for p in extra.split(","))):
                queue(link, crawled=False)
            if options.crawl_links and "text/html" in kind:
                for link in _links(response.text, path):
                    queue(link, crawled=True)

        for seed in seeds:
            queue(seed, crawled=False)
    return result


def _normalize(path: str) -> str:
    """A path without query, fragment, dot segments or a trailing slash (``/`` stays)."""
    path = path.partition("#")[0].partition("?")[0] or "/"
    normalized = posixpath.normpath(path)
    return "/" if normalized in (".", "/", "//") else "/" + normalized.lstrip("/")


def _file_for(path: str, html: bool, subfolder_index: bool) -> str:
    """The output file for a prerendered path, refusing names that could leave the directory."""
    name = unquote(path).lstrip("/")
    parts = name.split("/") if name else []
    if (
        any(p in ("", ".", "..") or p.startswith(".") for p in parts)
        or "\\" in name
        or "\0" in name
    ):
        raise ValueError(f"cannot be written as a file: {path!r}")
    if not html:
        if not name:
            raise ValueError("a non-HTML response at / has no file name")
        return name
    if not name:
        return "index.html"
    if name.endswith(".html"):
        return name
    return f"{name}/index.html" if subfolder_index else f"{name}.html"


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def _links(html: str, page: str) -> list[str]:
    """Same-site page links in `html`, resolved against `page`."""
    parser = _LinkParser()
    parser.feed(html)
    links = []
    for href in parser.hrefs:
        href = href.strip()
        if href.startswith("#"):
            continue
        url = urlsplit(urljoin("http://localhost" + page, href))
        if url.scheme != "http" or url.netloc != "localhost":
            continue  # another site, mailto:, javascript:...
        if posixpath.splitext(url.path)[1].lower() not in _CRAWLED_EXTENSIONS:
            continue
        links.append(url.path)
    return links
