"""Cached functions and handlers: the state machine, its guarantees, and HTTP caching."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from nitro import (
    HTTPError,
    NitroApp,
    define_cached_function,
    define_cached_handler,
    define_middleware,
    set_cookie,
    set_response_header,
)
from nitro.core import cache as cache_module
from nitro.core import cache_handler as cache_handler_module
from nitro.core.storage import Storage
from nitro.storage_drivers.memory import MemoryDriver
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(cache_module, "time", clock)
    monkeypatch.setattr(cache_handler_module, "time", clock)
    return clock


@pytest.fixture
async def app() -> AsyncIterator[NitroApp]:
    """A started app: cached functions called outside a request use the running one."""
    app = NitroApp(storage=Storage().mount("", MemoryDriver()).mount("cache", MemoryDriver()))
    await app.startup()
    yield app
    await app.shutdown()


async def drain(app: NitroApp) -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll `condition` (a sync hook runs on a worker thread, a hop away)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.002)


# --- cached functions ---


async def test_a_fresh_entry_is_served_without_calling_again(app: NitroApp, clock: Clock) -> None:
    calls: list[int] = []

    @define_cached_function(max_age=60)
    async def square(n: int) -> int:
        calls.append(n)
        return n * n

    assert await square(3) == 9
    assert await square(3) == 9
    assert await square(4) == 16
    assert calls == [3, 4]


async def test_concurrent_misses_compute_once(app: NitroApp, clock: Clock) -> None:
    calls = 0

    @define_cached_function(max_age=60)
    async def slow() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return "done"

    assert await asyncio.gather(*(slow() for _ in range(10))) == ["done"] * 10
    assert calls == 1


async def test_stale_is_served_at_once_and_refreshed_in_the_background(
    app: NitroApp, clock: Clock
) -> None:
    version = 0

    @define_cached_function(max_age=10, swr=True, stale_max_age=100)
    async def current() -> int:
        nonlocal version
        version += 1
        return version

    assert await current() == 1
    clock.now += 11  # stale
    assert await current() == 1  # served stale, refresh started
    await drain(app)
    assert await current() == 2  # the refreshed entry
    clock.now += 200  # past the stale window: a miss, computed in the foreground
    assert await current() == 3


async def test_without_swr_a_stale_entry_is_recomputed_in_the_foreground(
    app: NitroApp, clock: Clock
) -> None:
    version = 0

    @define_cached_function(max_age=10, swr=False)
    async def current() -> int:
        nonlocal version
        version += 1
        return version

    assert await current() == 1
    clock.now += 11
    assert await current() == 2


async def test_a_failed_refresh_keeps_the_old_entry_and_reports(
    app: NitroApp, clock: Clock
) -> None:
    errors: list[BaseException] = []
    app.hooks.hook("error", lambda error, event: errors.append(error))
    fail = False

    @define_cached_function(max_age=10, swr=True)
    async def value() -> str:
        if fail:
            raise RuntimeError("upstream down")
        return "good"

    assert await value() == "good"
    fail = True
    clock.now += 11
    assert await value() == "good"  # stale, refresh fails in the background
    await eventually(lambda: bool(errors))
    assert [str(e) for e in errors] == ["upstream down"]
    assert await value() == "good"  # the old entry is still there


async def test_every_entry_gets_a_storage_ttl(app: NitroApp, clock: Clock) -> None:
    @define_cached_function(max_age=30, stale_max_age=90, name="ttl", get_key=lambda: "k")
    async def value() -> int:
        return 1

    await value()
    meta = await app.storage.get_meta("cache:nitro:functions:ttl:k.json")
    assert meta["ttl"] == 120

    @define_cached_function(max_age=30, swr=False, name="ttl2", get_key=lambda: "k")
    async def other() -> int:
        return 1

    await other()
    assert (await app.storage.get_meta("cache:nitro:functions:ttl2:k.json"))["ttl"] == 30


async def test_a_storage_failure_falls_back_to_calling(clock: Clock) -> None:
    class Down(MemoryDriver):
        name = "down"

        async def get(self, key: str) -> bytes | None:
            raise ConnectionError("cache backend down")

    app = NitroApp(storage=Storage().mount("cache", Down()))
    errors: list[BaseException] = []
    app.hooks.hook("error", lambda error, event: errors.append(error))
    await app.startup()

    @define_cached_function(max_age=60)
    async def value() -> str:
        return "computed"

    try:
        assert await value() == "computed"
        assert "cache backend down" in str(errors[0])
    finally:
        await app.shutdown()


async def test_invalidate_bypass_and_forced_revalidation(app: NitroApp, clock: Clock) -> None:
    calls = 0

    @define_cached_function(
        max_age=60,
        should_bypass_cache=lambda n: n < 0,
        should_invalidate_cache=lambda n: n == 99,
    )
    async def count(n: int) -> int:
        nonlocal calls
        calls += 1
        return calls

    assert await count(1) == 1
    assert await count(1) == 1
    await count.invalidate(1)
    assert await count(1) == 2
    assert await count(-1) == 3 and await count(-1) == 4  # bypassed: never cached
    assert await count(99) == 5 and await count(99) == 6  # invalidated every time


async def test_changed_code_does_not_read_old_entries(app: NitroApp, clock: Clock) -> None:
    first = define_cached_function(lambda: "v1", max_age=60, name="same", get_key=lambda: "k")
    assert await first() == "v1"
    second = define_cached_function(lambda: "v2" + "", max_age=60, name="same", get_key=lambda: "k")
    assert await second() == "v2"


# --- cached handlers ---


def handler_app(**routes: Any) -> NitroApp:
    app = NitroApp(storage=Storage().mount("cache", MemoryDriver()))
    for path, handler in routes.items():
        app.add_route("/" + path, handler)
    return app


async def test_responses_are_cached_with_validators(clock: Clock) -> None:
    calls = 0

    @define_cached_handler(max_age=60)
    async def page(event: Any) -> dict[str, int]:
        nonlocal calls
        calls += 1
        return {"calls": calls}

    app = handler_app(page=page)
    async with TestClient(app) as client:
        first = await client.get("/page")
        second = await client.get("/page")
        assert first.json() == second.json() == {"calls": 1}
        assert second.headers["etag"].startswith('W/"')
        assert second.headers["cache-control"] == "s-maxage=60, stale-while-revalidate"
        assert second.headers["last-modified"]
        not_modified = await client.get("/page", headers={"if-none-match": second.headers["etag"]})
        assert not_modified.status_code == 304 and not_modified.content == b""
        since = await client.get(
            "/page", headers={"if-modified-since": second.headers["last-modified"]}
        )
        assert since.status_code == 304
        assert (await client.get("/page?x=1")).json() == {
            "calls": 2
        }  # the query is part of the key
        head = await client.head("/page")
        assert head.status_code == 200 and head.content == b""
        assert calls == 2


async def test_a_process_keeps_a_fresh_response_in_memory_for_at_most_a_second(
    clock: Clock,
) -> None:
    calls = 0

    @define_cached_handler(max_age=60, should_invalidate_cache=lambda e: "fresh" in e.query())
    async def page(event: Any) -> int:
        nonlocal calls
        calls += 1
        return calls

    app = handler_app(page=page)
    async with TestClient(app) as client:
        assert (await client.get("/page")).json() == 1
        # Another instance invalidates the entry: this process notices within HOT_SECONDS.
        await app.storage.clear("cache")
        assert (await client.get("/page")).json() == 1
        clock.now += cache_handler_module.HOT_SECONDS + 0.01
        assert (await client.get("/page")).json() == 2
        # An invalidation made here applies at once.
        assert (await client.get("/page?fresh")).json() == 3
        assert (await client.get("/page?fresh")).json() == 4
        # Past max_age the memory copy is never used: stale goes through the engine.
        clock.now += 61
        assert (await client.get("/page")).json() == 2  # the stale entry, refreshed behind
        await drain(app)
        assert calls == 5
        assert (await client.get("/page")).json() == 5


async def test_only_get_and_head_are_cached(clock: Clock) -> None:
    calls = 0

    @define_cached_handler(max_age=60)
    async def counter(event: Any) -> int:
        nonlocal calls
        calls += 1
        return calls

    async with TestClient(handler_app(counter=counter)) as client:
        assert [(await client.post("/counter")).json() for _ in range(2)] == [1, 2]


async def test_request_headers_reach_the_handler_only_when_listed_in_varies(clock: Clock) -> None:
    seen: list[dict[str, str]] = []

    @define_cached_handler(max_age=60, varies=["accept-language"])
    async def greet(event: Any) -> str:
        seen.append(dict(event.headers))
        return {"fr": "bonjour"}.get(event.headers.get("accept-language", ""), "hello")

    async with TestClient(handler_app(greet=greet)) as client:
        fr = await client.get(
            "/greet",
            headers={"accept-language": "fr", "authorization": "Bearer x", "cookie": "s=1"},
        )
        en = await client.get(
            "/greet", headers={"accept-language": "en", "authorization": "Bearer y"}
        )
        again = await client.get("/greet", headers={"accept-language": "fr", "cookie": "s=2"})
    assert (fr.text, en.text, again.text) == ("bonjour", "hello", "bonjour")
    assert seen == [
        {"accept-language": "fr"},
        {"accept-language": "en"},
    ]  # no auth, no cookies, no host


@pytest.mark.parametrize(
    "respond",
    [
        lambda event: (_ for _ in ()).throw(HTTPError(404)),
        lambda event: set_cookie(event, "session", "secret") or "with cookie",
        lambda event: set_response_header(event, "cache-control", "private") or "private",
        lambda event: set_response_header(event, "cache-control", "no-store") or "no-store",
    ],
    ids=["error", "set-cookie", "private", "no-store"],
)
async def test_some_responses_are_never_stored(clock: Clock, respond: Any) -> None:
    calls = 0

    def handler(event: Any) -> Any:
        nonlocal calls
        calls += 1
        return respond(event)

    app = handler_app(thing=define_cached_handler(handler, max_age=60))
    async with TestClient(app) as client:
        await client.get("/thing")
        await client.get("/thing")
    assert calls == 2
    assert await app.storage.get_keys("cache") == []


async def test_a_set_cookie_response_is_never_shared_with_concurrent_requests(clock: Clock) -> None:
    counter = 0

    @define_cached_handler(max_age=60)
    async def login(event: Any) -> str:
        nonlocal counter
        counter += 1
        mine = counter
        await asyncio.sleep(0.05)
        set_cookie(event, "session", f"user-{mine}")
        return "ok"

    async with TestClient(handler_app(login=login)) as client:
        responses = await asyncio.gather(*(client.get("/login") for _ in range(5)))
    cookies = [r.headers["set-cookie"].split(";")[0] for r in responses]
    assert len(set(cookies)) == 5  # each request got its own cookie


async def test_middleware_runs_before_a_cached_route_on_hits_too(clock: Clock) -> None:
    @define_middleware
    def auth(event: Any) -> None:
        if event.headers.get("authorization") != "Bearer ok":
            raise HTTPError(401)

    @define_cached_handler(max_age=60)
    async def secret(event: Any) -> str:
        return "top secret"

    app = NitroApp(storage=Storage().mount("cache", MemoryDriver()), middleware=[auth])
    app.add_route("/secret", secret)
    async with TestClient(app) as client:
        assert (
            await client.get("/secret", headers={"authorization": "Bearer ok"})
        ).text == "top secret"
        assert (await client.get("/secret")).status_code == 401  # a hit would not skip auth


async def test_a_returned_starlette_response_subclass_is_cached(clock: Clock) -> None:
    from starlette.responses import JSONResponse

    calls = 0

    @define_cached_handler(max_age=60)
    async def page(event: Any) -> Any:
        nonlocal calls
        calls += 1
        return JSONResponse({"calls": calls}, headers={"x-kind": "json"})

    async with TestClient(handler_app(page=page)) as client:
        first = await client.get("/page")
        second = await client.get("/page")
    assert first.json() == second.json() == {"calls": 1}
    assert second.headers["x-kind"] == "json" and second.headers["etag"].startswith('W/"')
    assert calls == 1


async def test_streamed_responses_are_cached_whole(clock: Clock) -> None:
    calls = 0

    @define_cached_handler(max_age=60)
    async def stream(event: Any) -> Any:
        nonlocal calls
        calls += 1

        async def chunks():
            yield "a"
            yield "b"

        return chunks()

    async with TestClient(handler_app(stream=stream)) as client:
        assert (await client.get("/stream")).text == "ab"
        assert (await client.get("/stream")).text == "ab"
    assert calls == 1
