"""The server preset: every conformance case through the built fixture's own entry,
``python .output/server/index.py``, over HTTP, on each engine (uvicorn, granian)."""

from __future__ import annotations

import pytest

from adapters.suite import Case, cases, run_case_over_http

from helpers import SERVERS, ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture(params=list(SERVERS))
def engine_server(request: pytest.FixtureRequest) -> ServerProcess:
    return request.getfixturevalue(SERVERS[request.param])  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.id)
def test_conformance(engine_server: ServerProcess, case: Case) -> None:
    run_case_over_http(case, engine_server.url)
