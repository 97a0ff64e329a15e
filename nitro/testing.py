"""Testing a nitro project: an httpx client bound to its app, plus pytest fixtures.

Example::

    from nitro.testing import TestClient

    async def test_hello():
        async with TestClient("path/to/project") as client:
            response = await client.get("/api/hello")
            assert response.json() == {"hello": "world"}

With pytest (the `testing` extra; anyio's plugin ships with anyio), add
``pytest_plugins = ["nitro.testing"]`` to `conftest.py`, override the
`nitro_project` fixture if the project is not the current directory, and use the
`nitro_client` fixture in ``@pytest.mark.anyio`` tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from .core.app import NitroApp

__all__ = ["TestClient", "nitro_client", "nitro_project"]


class TestClient(httpx.AsyncClient):
    """An `httpx.AsyncClient` that sends requests to a project's app in-process.

    `app` is a `NitroApp` or a project directory (loaded like `nitro build` would,
    or like `nitro dev` with ``dev=True``). Using it as ``async with`` runs the
    app's start-up (plugins) and shutdown (`close` hooks). Requests come from
    `client` (a loopback address by default).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: NitroApp | str | Path,
        *,
        dev: bool = False,
        base_url: str = "http://localhost",
        client: tuple[str, int] = ("127.0.0.1", 40000),
        **kwargs: Any,
    ) -> None:
        if not isinstance(app, NitroApp):
            from .runtime.app import load_app

            app = load_app(_project_dir(app), dev=dev)
        self.app = app
        super().__init__(
            transport=httpx.ASGITransport(app=app, client=client), base_url=base_url, **kwargs
        )

    async def __aenter__(self) -> TestClient:
        await super().__aenter__()
        await self.app.startup()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            await self.app.shutdown()
        finally:
            await super().__aexit__(*exc_info)


def _project_dir(path: str | Path) -> Path:
    """`path` as a project directory; an error naming it when there is none.

    Without this check a wrong path is an empty project whose every answer is 404.
    """
    root = Path(path)
    if not root.is_dir():
        problem = "is not a directory" if root.exists() else "does not exist"
        raise FileNotFoundError(
            f"[nitro:testing] no project at {str(path)!r}: {root.resolve()} {problem}"
            f" (a relative path starts at the current directory, {Path.cwd()})"
        )
    return root


try:
    import pytest
except ImportError:  # pytest is only needed for the fixtures
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def nitro_project() -> Path:
        """The project under test (override in `conftest.py`; default: the current directory)."""
        return Path.cwd()

    @pytest.fixture
    async def nitro_client(nitro_project: Path) -> Any:
        """A started `TestClient` for `nitro_project`."""
        async with TestClient(nitro_project) as client:
            yield client
