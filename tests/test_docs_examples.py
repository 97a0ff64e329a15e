"""Every Python example in README.md and docs/ runs as pasted.

The convention the docs follow (a visible first line in each ```python block):

- ``# routes/users/[id].get.py``: the block is that file of a project. The blocks
  under one heading (up to the next heading of any level) are the files of one
  project: ``nitro.config.py``, ``server.py``, ``routes/``, ``api/``,
  ``middleware/``, ``plugins/``, ``tasks/`` and ``tests/`` files.
- ``# nitro.config.py (not started: <reason>)``: the project is loaded (its
  config file runs and is validated, its routes are scanned) but not started, and
  the reader sees why (it needs cloud accounts, say). Keep these few: the test
  pins how many.
- Any other Python block fails this test, naming it.

Each section's project is started the way `nitro dev` starts it (with
`nitro.testing.TestClient`, so plugins run), and then:

- every route file is requested (its params filled in, its method from the
  suffix, a JSON ``{}`` body for methods that take one), and a path that does not
  exist too, so middleware and error hooks run; none may answer 5xx;
- every task file is run through the dev endpoint ``POST /_nitro/tasks/NAME``;
- a ``<!-- check: METHOD PATH [JSON body] -> STATUS -->`` comment in the section
  (invisible when rendered) sends that request and expects that status;
- nothing may be logged at ERROR level (a failing hook or handler is);
- ``tests/test_*.py`` files are run with pytest in the project, as a user would.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nitro.config import load_config
from nitro.runtime.scan import scan_project
from nitro.testing import TestClient

from helpers import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
MOST_NOT_STARTED = 1  # raise it only for an example that cannot start here by nature

FILE_MARK = re.compile(r"# (?P<path>[\w.\-\[\]()/]+\.py)(?:\s|$)")
NOT_STARTED = re.compile(r"\(not started: [^)]+\)")
CHECK = re.compile(
    r"<!-- check: (?P<method>[A-Z]+) (?P<path>\S+)(?: (?P<body>.+?))? -> (?P<status>\d{3}) -->"
)


@dataclass
class Block:
    where: str  # README.md:95
    first_line: str
    code: str


@dataclass
class Section:
    where: str  # README.md#Storage
    blocks: list[Block] = field(default_factory=list)
    checks: list[tuple[str, str, str | None, int]] = field(default_factory=list)


def sections() -> list[Section]:
    """The sections of the docs that hold Python examples or checks."""
    found: list[Section] = []
    for doc in DOCS:
        name = doc.relative_to(REPO).as_posix()
        current = Section(f"{name}#top")
        lines = doc.read_text(encoding="utf-8").splitlines()
        index = 0
        while index < len(lines):
            line = lines[index]
            if line.startswith("```"):
                end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
                if line.strip() == "```python":
                    code = "\n".join(lines[index + 1 : end]) + "\n"
                    first = code.splitlines()[0] if code.strip() else ""
                    current.blocks.append(Block(f"{name}:{index + 1}", first, code))
                index = end + 1
                continue
            if line.startswith("#"):
                found.append(current)
                current = Section(f"{name}#{line.lstrip('#').strip()}")
            elif match := CHECK.search(line):
                current.checks.append(
                    (match["method"], match["path"], match["body"], int(match["status"]))
                )
            index += 1
        found.append(current)
    return [s for s in found if s.blocks or s.checks]


def project_files(section: Section) -> dict[str, str]:
    files: dict[str, str] = {}
    for block in section.blocks:
        match = FILE_MARK.match(block.first_line)
        assert match, f"{block.where}: start the example with the file it is in (`# routes/x.py`)"
        assert match["path"] not in files, f"{block.where}: {match['path']} twice in one section"
        files[match["path"]] = block.code
    return files


def route_request(file: str) -> tuple[str, str] | None:
    """The method and a path that reach the route file `file` (None: not a route)."""
    parts = file.removesuffix(".py").split("/")
    if len(parts) < 2 or parts[0] not in ("routes", "api") or any(p[0] == "_" for p in parts):
        return None
    top, *folders, last = parts
    pieces = last.split(".")
    method = "GET"
    while len(pieces) > 1 and pieces[-1] in (*METHODS, "dev", "prod"):
        suffix = pieces.pop()
        method = suffix.upper() if suffix in METHODS else method
    path: list[str] = ["api"] if top == "api" else []
    for segment in [*folders, ".".join(pieces)]:
        if segment.startswith("[..."):
            path += ["a", "b"]  # a catch-all
        elif segment.startswith("["):
            path.append("1")
        elif not (segment.startswith("(") or segment == "index"):
            path.append(segment)
    return method, "/" + "/".join(path)


def task_name(file: str) -> str | None:
    if not file.startswith("tasks/"):
        return None
    parts = [p for p in file.removeprefix("tasks/").removesuffix(".py").split("/") if p != "index"]
    return ":".join(parts)


SECTIONS = sections()


def test_the_docs_have_examples_and_few_are_not_run() -> None:
    blocks = [b for s in SECTIONS for b in s.blocks]
    assert len(blocks) > 20
    not_started = [b.where for b in blocks if NOT_STARTED.search(b.first_line)]
    assert len(not_started) <= MOST_NOT_STARTED, not_started


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize("section", SECTIONS, ids=[s.where for s in SECTIONS])
async def test_example_runs_as_pasted(
    section: Section,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    files = project_files(section)
    if not files:
        pytest.fail(f"{section.where}: checks without a runnable example")
    root = tmp_path / "project"
    for rel, code in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(code, encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.setattr(sys, "path", list(sys.path))  # load_app puts the project on it
    if any(NOT_STARTED.search(block.first_line) for block in section.blocks):
        load_config(root)  # runs nitro.config.py and validates every option
        scan_project(root)
        return

    caplog.set_level(logging.WARNING)
    answers: list[str] = []
    async with TestClient(root, dev=True) as client:

        async def send(method: str, path: str, body: object = None) -> int:
            has_body = method in ("POST", "PUT", "PATCH")
            response = await client.request(
                method, path, json=body if body is not None or not has_body else {}
            )
            answers.append(f"{method} {path} -> {response.status_code} {response.text[:300]}")
            return response.status_code

        for rel in files:
            if request := route_request(rel):
                assert await send(*request) < 500, answers[-1]
            if name := task_name(rel):
                assert await send("POST", f"/_nitro/tasks/{name}") == 200, answers[-1]
        assert await send("GET", "/no-such-page-in-the-docs") == 404, answers[-1]
        for method, path, body, status in section.checks:
            sent = await send(method, path, json.loads(body) if body else None)
            assert sent == status, answers[-1]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], answers

    tests = [rel for rel in files if rel.startswith("tests/")]
    if tests:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", *tests],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
