"""The real front-end tools the full-stack tests use: Vite from npm (tests/node, which
scripts/test installs with `npm ci`) and Debian's Chromium driven by Playwright (the
browser is never downloaded: `executable_path` is the system's)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from helpers import REPO

if TYPE_CHECKING:
    from playwright.sync_api import Browser

FULLSTACK = REPO / "tests" / "fullstack_fixture"
NODE_MODULES = REPO / "tests" / "node" / "node_modules"
CHROMIUM = Path(os.environ.get("NITRO_TEST_CHROMIUM", "/usr/bin/chromium"))
# The flags that keep a headless Chromium quiet on a closed network (no update,
# sync or background requests); Playwright adds --headless and a fresh profile.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(what: str, how: str) -> None:
    message = f"{what} is not installed; {how} (./scripts/test does both)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"[CI] {message}")
    pytest.skip(message)


def require_vite() -> None:
    if not (NODE_MODULES / ".bin" / "vite").exists():
        _missing("vite", "run `npm ci` in tests/node")


def fullstack_project(parent: Path, *, node_modules: bool = True) -> Path:
    """A copy of tests/fullstack_fixture in `parent`, its front-end (web/) using the
    Vite of tests/node (linked, not installed again)."""
    require_vite()
    root = parent / "fullstack"
    shutil.copytree(FULLSTACK, root)
    if node_modules:
        (root / "web" / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    return root


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium (Debian's), driven by Playwright."""
    if not CHROMIUM.is_file():
        _missing("chromium", "apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright", 'pip install -e ".[test]"')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def processes_in(directory: Path) -> list[int]:
    """Pids of the live processes whose working directory is `directory` (Vite and
    the node processes it runs there)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) == directory and not _zombie(entry):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _zombie(entry: Path) -> bool:
    try:
        return (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def text_of(page: Any, selector: str) -> str:
    return str(page.text_content(selector) or "")
