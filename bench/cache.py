"""Cache: a cache hit against a plain route that returns the same body.

One nitro app, driven in-process through its ASGI callable (no server, no
socket: the framework's own cost is all that is measured, so the ratio is the
strictest form of the claim):

- plain: ``GET /plain``, a route returning ``{"hello": "world"}``;
- handler hit: ``GET /cached``, the same function under `define_cached_handler`;
- rule hit: ``GET /rule``, the plain function with a ``cache`` route rule.

The cache mount is the default in-memory one. Each cached route is primed
first, and every answer is checked (status, body, and a hit really being a hit).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import report
from common import asgi_requester
from timing import MIN_SECONDS, compare, event_loop

from nitro import define_cached_handler, define_handler
from nitro.core.app import NitroApp
from nitro.core.storage import Storage
from nitro.storage_drivers.memory import MemoryDriver

TARGET = 0.8  # a hit serves at >= 0.8x the plain route's throughput
BODY = {"hello": "world"}


def make_app() -> tuple[NitroApp, dict[str, int]]:
    calls = {"plain": 0, "cached": 0}

    @define_handler
    async def plain(event: Any) -> dict[str, str]:
        calls["plain"] += 1
        return BODY

    @define_cached_handler(max_age=3600)
    async def cached(event: Any) -> dict[str, str]:
        calls["cached"] += 1
        return BODY

    storage = Storage()
    storage.mount("cache", MemoryDriver())
    app = NitroApp(storage=storage, route_rules={"/rule": {"cache": {"max_age": 3600}}})
    app.add_route("/plain", plain)
    app.add_route("/cached", cached)
    app.add_route("/rule", plain)
    return app, calls


def requester(app: NitroApp, path: str) -> tuple[Callable[[], Awaitable[None]], dict[str, Any]]:
    """One GET of `path` through the ASGI interface, and its last answer."""
    return asgi_requester(app, path, server=("bench", 3000))


async def _measure(repeat: int) -> dict[str, float]:
    app, calls = make_app()
    await app.startup()
    try:
        variants = {}
        for name, path in (("plain", "/plain"), ("handler hit", "/cached"), ("rule hit", "/rule")):
            call, answer = requester(app, path)
            await call()  # primes the cache entry
            before = dict(calls)
            await call()
            if answer.get("status") != 200 or json.loads(answer["body"]) != BODY:
                raise RuntimeError(f"GET {path}: {answer}")
            if name != "plain" and calls != before:
                raise RuntimeError(f"GET {path} ran the handler again: not a cache hit")
            variants[name] = call
        return await compare(variants, repeat)
    finally:
        await app.shutdown()


def measure(repeat: int) -> dict[str, Any]:
    run, loop_name = event_loop()
    report.section(
        "Cache (ns per request in-process, lower is better)",
        [
            f"GET through the app's ASGI callable; {loop_name} loop; each timing >= {MIN_SECONDS} s,",
            f"variants interleaved, best of {repeat} repeats; memory cache mount, entries primed",
        ],
    )
    return {
        "settings": {"repeat": repeat, "event_loop": loop_name},
        "ns_per_op": run(_measure(repeat)),
    }


def print_report(results: dict[str, Any]) -> None:
    timings = results["ns_per_op"]
    plain = timings["plain"]
    rows = []
    for name, ns in timings.items():
        throughput = plain / ns
        verdict = "" if name == "plain" else ("ok" if throughput >= TARGET else f"below {TARGET}x")
        rows.append([name, report.count(ns), report.ratio(throughput), verdict])
    print(report.table(["route", "ns/request", "throughput vs plain", "target"], rows, 1))
