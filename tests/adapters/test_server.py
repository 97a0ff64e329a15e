"""The server preset: every conformance case through the built fixture's own entry,
``python .output/server/index.py`` (uvicorn), over HTTP."""

from __future__ import annotations

import pytest

from adapters.suite import Case, cases, run_case_over_http

from helpers import ServerProcess

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.id)
def test_conformance(fixture_server: ServerProcess, case: Case) -> None:
    run_case_over_http(case, fixture_server.url)
