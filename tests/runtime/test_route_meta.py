"""The scanner reads `define_route_meta(...)` from a route file's syntax tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from nitro.core.manifest import Manifest
from nitro.runtime.scan import ScanError, scan, scan_project

HANDLER = "from nitro import define_handler\n\n@define_handler\nasync def handler(event):\n    return 'x'\n"


def route_file(tmp_path: Path, source: str, name: str = "routes/users/[id].get.py") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return tmp_path


def test_the_literal_is_read_without_running_the_file(tmp_path: Path) -> None:
    root = route_file(
        tmp_path,
        "raise SystemExit('never run by the scanner')\n"
        "from nitro import define_route_meta\n"
        "define_route_meta(openapi={'tags': ('users',), 'responses': {404: {'description': 'gone'}}})\n"
        + HANDLER,
    )
    [entry] = scan(root)
    # As the manifest's JSON gives it back: status keys as strings, tuples as lists.
    assert entry.meta == {
        "openapi": {"tags": ["users"], "responses": {"404": {"description": "gone"}}}
    }
    manifest = scan_project(root)
    assert Manifest.from_json(manifest.to_json()).routes[0].meta == entry.meta


def test_an_assigned_call_and_an_attribute_call_count(tmp_path: Path) -> None:
    root = route_file(
        tmp_path,
        "import nitro\nmeta = nitro.define_route_meta(openapi={'summary': 'One user'})\n" + HANDLER,
    )
    assert scan(root)[0].meta == {"openapi": {"summary": "One user"}}


def test_files_without_it_have_no_meta(tmp_path: Path) -> None:
    assert scan(route_file(tmp_path, HANDLER))[0].meta is None


@pytest.mark.parametrize(
    ("call", "says"),
    [
        ("define_route_meta(openapi={'summary': TITLE})", "must be a literal"),
        ("define_route_meta(openapi=['not', 'a', 'dict'])", "must be a dict"),
        ("define_route_meta(openapi={'x': {1, 2}})", "set, which JSON cannot hold"),
        ("define_route_meta(opnapi={})", "has no argument 'opnapi' (it takes: openapi)"),
        ("define_route_meta({'summary': 'x'})", "keyword arguments only"),
        ("define_route_meta(openapi={})\ndefine_route_meta(openapi={})", "called 2 times"),
    ],
)
def test_what_it_cannot_read_is_a_build_error_naming_the_file(
    tmp_path: Path, call: str, says: str
) -> None:
    root = route_file(tmp_path, "TITLE = 'x'\n" + call + "\n" + HANDLER)
    with pytest.raises(ScanError) as caught:
        scan(root)
    [problem] = caught.value.problems
    assert problem.startswith("routes/users/[id].get.py: ")
    assert says in problem


def test_in_dev_a_bad_meta_is_reported_and_the_route_still_served(tmp_path: Path) -> None:
    root = route_file(tmp_path, "define_route_meta(openapi=make())\n" + HANDLER)
    problems: list[str] = []
    [entry] = scan_project(root, problems).routes
    assert entry.problem is None and entry.meta is None
    assert len(problems) == 1 and "must be a literal" in problems[0]
