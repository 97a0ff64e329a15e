"""The Vercel adapter's cron route in-process: the secret check (constant time), the
schedule lookup, claims, failures and `scheduled_time`. tests/adapters/test_vercel.py
runs the same route in the built function on Vercel's launcher."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest


def cron_app(
    secret: str | None, claim: Any = None, fail: bool = False
) -> tuple[Any, list[dict[str, Any]]]:
    from nitro.adapters.vercel import vercel_app
    from nitro.core.app import NitroApp
    from nitro.core.tasks import Task

    seen: list[dict[str, Any]] = []

    async def work(payload: dict[str, Any], context: dict[str, Any]) -> str:
        seen.append({"payload": payload, "context": context})
        if fail:
            raise RuntimeError("secret detail")
        return "done"

    app = NitroApp()
    app.tasks.add("work", Task(work))
    app.tasks.schedule = {"*/5 * * * *": ["work"]}
    return vercel_app(app, claim=claim, cron_secret=secret), seen


async def call(app: Any, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vercel") as client:
        return await client.get(path, headers=headers or {})


@pytest.mark.anyio
async def test_cron_secret_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    compared: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    app, seen = cron_app("s3cret")
    path = "/_vercel/cron?schedule=" + quote("*/5 * * * *")
    assert (await call(app, path, {"authorization": "Bearer nope"})).status_code == 401
    ok = await call(app, path, {"authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and ok.json()["results"] == {"work": "done"}
    assert compared == [(b"Bearer nope", b"Bearer s3cret"), (b"Bearer s3cret", b"Bearer s3cret")]
    assert seen[0]["context"] == {
        "source": "vercel-cron",
        "schedule": "*/5 * * * *",
        "cron": "*/5 * * * *",
    }


@pytest.mark.anyio
async def test_without_cron_secret_the_route_runs_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, seen = cron_app("")
    assert "CRON_SECRET is not set" in caplog.text
    # Vercel names the schedule in a header too (Nitro's JS preset reads it there).
    response = await call(app, "/_vercel/cron", {"x-vercel-cron-schedule": "*/5  * * * *"})
    assert response.status_code == 200, response.text
    scheduled = seen[0]["payload"]["scheduled_time"]
    assert scheduled.endswith("+00:00") and int(scheduled[14:16]) % 5 == 0


@pytest.mark.anyio
async def test_a_failing_task_is_a_500_that_names_it_without_its_message() -> None:
    app, _ = cron_app("s", fail=True)
    response = await call(
        app, "/_vercel/cron?schedule=" + quote("*/5 * * * *"), {"authorization": "Bearer s"}
    )
    assert response.status_code == 500
    assert response.json()["success"] is False
    assert response.json()["errors"] == {"work": "RuntimeError"}


@pytest.mark.anyio
async def test_an_unknown_schedule_is_a_404_naming_the_ones_there_are() -> None:
    app, seen = cron_app("s")
    path = "/_vercel/cron?schedule=" + quote("0 * * * *")
    response = await call(app, path, {"authorization": "Bearer s"})
    assert response.status_code == 404 and seen == []
    assert "no scheduled_tasks entry for cron '0 * * * *'" in response.json()["message"]
    assert response.json()["data"] == {"schedules": ["*/5 * * * *"]}
    missing = await call(app, "/_vercel/cron", {"authorization": "Bearer s"})
    assert missing.status_code == 400


@pytest.mark.anyio
async def test_a_claimed_tick_is_skipped() -> None:
    claims: list[tuple[str, str, float]] = []

    async def claim(task: str, tick: str, ttl: float) -> bool:
        claims.append((task, tick, ttl))
        return len(claims) == 1

    app, seen = cron_app("s", claim=claim)
    path = "/_vercel/cron?schedule=" + quote("*/5 * * * *")
    first = (await call(app, path, {"authorization": "Bearer s"})).json()
    second = (await call(app, path, {"authorization": "Bearer s"})).json()
    assert first["results"] == {"work": "done"} and second["skipped"] == ["work"]
    assert len(seen) == 1 and claims[0][2] == 600.0  # twice the interval, at least 300 s


def test_latest_tick() -> None:
    from datetime import UTC, datetime

    from nitro.core.schedule import latest_tick

    now = datetime(2026, 3, 4, 10, 7, 30, tzinfo=UTC)
    assert latest_tick("*/5 * * * *", now).isoformat() == "2026-03-04T10:05:00+00:00"
    assert latest_tick("@daily", now).isoformat() == "2026-03-04T00:00:00+00:00"
    exact = datetime(2026, 3, 4, 10, 5, tzinfo=UTC)
    assert latest_tick("*/5 * * * *", exact) == exact  # a call right on time is that tick
