"""nitro.testing as a user project's test suite uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from nitro.testing import TestClient

from helpers import FIXTURE

pytest_plugins = ["pytester"]


def test_pytest_plugin_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        f"""
import pytest
from pathlib import Path

pytest_plugins = ["nitro.testing"]

@pytest.fixture
def anyio_backend():
    return "asyncio"

@pytest.fixture
def nitro_project():
    return Path({str(FIXTURE)!r})
"""
    )
    pytester.makepyfile(
        """
import pytest

@pytest.mark.anyio
async def test_hello(nitro_client):
    response = await nitro_client.get("/api/hello")
    assert response.json() == {"hello": "world"}

@pytest.mark.anyio
async def test_plugins_ran(nitro_client):
    assert (await nitro_client.get("/context")).json()["hooked"] is True
"""
    )
    result = pytester.runpytest_subprocess("-p", "anyio", "-W", "error")
    result.assert_outcomes(passed=2)


def test_a_path_that_is_no_project_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "path" / "to" / "project"
    with pytest.raises(
        FileNotFoundError, match=r"\[nitro:testing\] no project at .* does not exist"
    ):
        TestClient(missing)
    (tmp_path / "file.py").write_text("")
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        TestClient(tmp_path / "file.py")
