"""Sessions and basic auth: what they add to a request, against the plain route.

One nitro app, driven in-process through its ASGI callable (as the cache section:
no server and no socket, so the framework's own cost is all that is measured).
Every request carries the same headers, a valid session cookie and a Basic
credential among them, so the variants differ only in what the handler does:

- plain: ``GET /plain``, a route returning ``{"hello": "world"}`` (the hello route);
- session read: ``GET /session``, ``await use_session(...)`` on the valid cookie
  (parse the cookie, unseal: AES-256-GCM, JSON), returning ``{"hello": <from the session>}``;
- session write: ``GET /session-write``, the same plus ``await session.update(...)``
  (JSON, seal, Set-Cookie) on every request;
- basic auth: ``GET /auth``, the plain handler behind `basic_auth` middleware.

Targets: a session read costs at most 30 us over the plain route (issue 22).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import report
from common import asgi_requester
from timing import MIN_SECONDS, compare, event_loop

from nitro import basic_auth, define_handler, use_session
from nitro.core.app import NitroApp

TARGET_US = 30.0
BODY = {"hello": "world"}
SESSION = {"password": "bench-session-password-0123456789abcdef", "max_age": 3600}
CREDENTIALS = b"Basic YmVuY2g6YmVuY2gtcGFzc3dvcmQ="  # bench:bench-password


def make_app() -> NitroApp:
    @define_handler
    async def plain(event: Any) -> dict[str, str]:
        return BODY

    @define_handler
    async def session_read(event: Any) -> dict[str, str]:
        session = await use_session(event, **SESSION)
        return {"hello": session.data["name"]}

    @define_handler
    async def session_write(event: Any) -> dict[str, str]:
        session = await use_session(event, **SESSION)
        await session.update({"name": "world"})
        return {"hello": session.data["name"]}

    app = NitroApp()
    app.add_route("/plain", plain)
    app.add_route("/session", session_read)
    app.add_route("/session-write", session_write)
    app.add_route(
        "/auth",
        define_handler(
            plain.fn, middleware=[basic_auth(username="bench", password="bench-password")]
        ),
    )
    return app


def requester(
    app: NitroApp, path: str, cookie: bytes
) -> tuple[Callable[[], Awaitable[None]], dict[str, Any]]:
    """One GET of `path` with the session cookie and the basic credentials, over HTTPS."""
    headers = [(b"cookie", b"theme=dark; " + cookie), (b"authorization", CREDENTIALS)]
    return asgi_requester(app, path, headers, scheme="https", server=("bench.example", 443))


async def _session_cookie(app: NitroApp) -> bytes:
    """A valid sealed cookie holding {"name": "world"}, made by the app itself."""
    call, answer = requester(app, "/session-write", b"")
    await call()
    cookies = [v for n, v in answer["headers"] if n == b"set-cookie"]
    return cookies[0].split(b";", 1)[0]


async def _measure(repeat: int) -> dict[str, float]:
    app = make_app()
    await app.startup()
    try:
        cookie = await _session_cookie(app)
        variants = {}
        for name, path in (
            ("plain", "/plain"),
            ("session read", "/session"),
            ("session write", "/session-write"),
            ("basic auth", "/auth"),
        ):
            call, answer = requester(app, path, cookie)
            await call()
            if answer.get("status") != 200 or json.loads(answer["body"]) != BODY:
                raise RuntimeError(f"GET {path}: {answer}")
            sets_cookie = any(n == b"set-cookie" for n, _ in answer["headers"])
            if sets_cookie != (name == "session write"):
                raise RuntimeError(
                    f"GET {path}: Set-Cookie {'missing' if not sets_cookie else 'sent'}"
                )
            variants[name] = call
        return await compare(variants, repeat)
    finally:
        await app.shutdown()


def measure(repeat: int) -> dict[str, Any]:
    run, loop_name = event_loop()
    report.section(
        "Sessions and basic auth (ns per request in-process, lower is better)",
        [
            f"GET through the app's ASGI callable; {loop_name} loop; each timing >= {MIN_SECONDS} s,",
            f"variants interleaved, best of {repeat} repeats; every request carries a valid",
            "session cookie and Basic credentials; target: a session read <= "
            f"{TARGET_US:.0f} us over plain",
        ],
    )
    return {
        "settings": {"repeat": repeat, "event_loop": loop_name, "target_us": TARGET_US},
        "ns_per_op": run(_measure(repeat)),
    }


def print_report(results: dict[str, Any]) -> None:
    timings = results["ns_per_op"]
    plain = timings["plain"]
    rows = []
    for name, ns in timings.items():
        extra_us = (ns - plain) / 1000
        verdict = ""
        if name == "session read":
            verdict = "ok" if extra_us <= TARGET_US else f"over by {extra_us - TARGET_US:.1f} us"
        rows.append(
            [
                name,
                report.count(ns),
                "" if name == "plain" else f"{extra_us:+.1f}",
                report.ratio(plain / ns),
                verdict,
            ]
        )
    print(
        report.table(
            ["route", "ns/request", "us over plain", "throughput vs plain", "target"], rows, 1
        )
    )
