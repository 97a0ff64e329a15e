"""The current app and event (nitro/core/context.py)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from nitro import NitroApp, define_handler, use_event, use_nitro_app
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


async def test_inside_a_request_the_app_and_event_are_the_requests() -> None:
    first, second = NitroApp(), NitroApp()
    seen: list[Any] = []

    @define_handler
    async def handler(event: Any) -> str:
        seen.append((use_nitro_app(), use_event()))
        return "ok"

    first.add_route("/", handler)
    async with TestClient(first) as client:
        await client.get("/")
    assert seen[0][0] is first and seen[0][0] is not second
    assert seen[0][1].path == "/"


def test_outside_a_request_use_event_says_so() -> None:
    with pytest.raises(RuntimeError, match="outside a request"):
        use_event()


async def test_a_constructed_app_is_not_the_running_one() -> None:
    """An app made for a build's check or a tool is not current: only a started one is."""
    running = NitroApp()
    await running.startup()
    try:
        NitroApp()  # made after, never started
        assert use_nitro_app() is running
    finally:
        await running.shutdown()


async def test_plugins_and_tasks_they_start_see_their_app() -> None:
    seen: list[NitroApp] = []

    async def background() -> None:
        seen.append(use_nitro_app())

    tasks: list[asyncio.Task[None]] = []

    def plugin(app: NitroApp) -> None:
        seen.append(use_nitro_app())

    async def starter(app: NitroApp) -> None:
        tasks.append(asyncio.ensure_future(background()))

    app = NitroApp(plugins=[plugin, starter], sync_to_thread=False)
    other = NitroApp()
    await other.startup()  # started later elsewhere in the process
    try:
        await app.startup()
        await asyncio.gather(*tasks)
        assert seen == [app, app]
    finally:
        await app.shutdown()
        await other.shutdown()


async def test_a_stopped_app_is_not_current() -> None:
    app = NitroApp()
    await app.startup()
    await app.shutdown()
    # A plain thread: no context variable from this test's start-up reaches it. (Other
    # tests in this process may leave apps running: those may answer, never this one.)
    outcome: list[Any] = []

    def look() -> None:
        try:
            outcome.append(use_nitro_app())
        except RuntimeError as error:
            outcome.append(error)

    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    assert outcome[0] is not app
    if isinstance(outcome[0], RuntimeError):
        assert "no nitro app is running" in str(outcome[0])
