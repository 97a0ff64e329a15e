"""Storage: the cost of `await storage.get_item(k)` / `set_item(k, v)` through nitro's
`Storage` against the raw call doing the same work.

- memory: nitro's `memory` driver mounted at `cache` (as an app mounts it) against an
  async function doing `json.dumps` + dict assignment / dict lookup + `json.loads`:
  the same-semantics baseline (a JSON value in, a JSON value out). Also shown,
  for transparency: a bare dict access in an async function (no JSON at all),
  and for set, nitro's own JSON encoder + dict assignment (`json.dumps` is much
  slower than the C encoder `encode_json` calls, which hides set_item's overhead).
- redis: nitro's `redis` driver mounted at `data` against `await redis.set(k,
  json.dumps(v))` / `json.loads(await redis.get(k))` on a redis-py asyncio client
  with the same settings (built by the same driver code, its own connection pool).

One event loop (uvloop when installed, as under uvicorn), a small JSON value,
each timing long enough to be accurate, nitro and raw interleaved, best of N.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import report
from common import BenchError
from timing import MIN_SECONDS, compare, each_backend, event_loop

from nitro.core.response import encode_json
from nitro.core.storage import Storage
from nitro.storage_drivers import create_driver

VALUE = {"id": 1, "name": "Ada"}
REDIS_URL = os.environ.get("NITRO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
OVERHEAD_FLAG = 1.2  # nitro/raw above this on memory is called out


async def _memory(repeat: int, root: Path) -> dict[str, Any]:
    storage = Storage().mount("cache", create_driver("memory", {}, root=root))
    table: dict[str, str] = {}
    fast: dict[str, bytes] = {}
    bare: dict[str, Any] = {}
    key = "cache:user:1"

    async def raw_set(k: str, v: Any) -> None:
        table[k] = json.dumps(v)

    async def raw_get(k: str) -> Any:
        return json.loads(table[k])

    async def encoder_set(k: str, v: Any) -> None:
        fast[k] = encode_json(v)

    async def bare_set(k: str, v: Any) -> None:
        bare[k] = v

    async def bare_get(k: str) -> Any:
        return bare[k]

    await storage.set_item(key, VALUE)
    await raw_set(key, VALUE)
    await bare_set(key, VALUE)
    if not (await storage.get_item(key) == await raw_get(key) == await bare_get(key) == VALUE):
        raise BenchError("memory: nitro and the baselines disagree on the value")
    return {
        "get": await compare(
            {
                "nitro": lambda: storage.get_item(key),
                "raw": lambda: raw_get(key),
                "bare dict": lambda: bare_get(key),
            },
            repeat,
        ),
        "set": await compare(
            {
                "nitro": lambda: storage.set_item(key, VALUE),
                "raw": lambda: raw_set(key, VALUE),
                "nitro's encoder + dict": lambda: encoder_set(key, VALUE),
                "bare dict": lambda: bare_set(key, VALUE),
            },
            repeat,
        ),
    }


async def _redis(repeat: int, root: Path) -> dict[str, Any] | str:
    """The timings, or why there are none (no Redis here)."""
    from nitro.storage_drivers.redis import RedisDriver, RedisOptions

    base = f"nitro-bench:{secrets.token_hex(4)}:"
    driver = create_driver("redis", {"url": REDIS_URL, "base": base}, root=root)
    storage = Storage().mount("data", driver)
    # The raw client: the driver's own construction, so the settings are the same.
    twin = RedisDriver(RedisOptions(url=REDIS_URL))
    client = twin._redis()
    key, raw_key = "data:user:1", f"{base}raw:user:1"

    async def raw_set(k: str, v: Any) -> None:
        await client.set(k, json.dumps(v))

    async def raw_get(k: str) -> Any:
        return json.loads(await client.get(k))

    try:
        try:
            await storage.set_item(key, VALUE)
        except Exception as exc:
            return f"skipped: {exc}"
        await raw_set(raw_key, VALUE)
        if not (await storage.get_item(key) == await raw_get(raw_key) == VALUE):
            raise BenchError("redis: nitro and the raw client disagree on the value")
        return {
            "get": await compare(
                {"nitro": lambda: storage.get_item(key), "raw": lambda: raw_get(raw_key)}, repeat
            ),
            "set": await compare(
                {
                    "nitro": lambda: storage.set_item(key, VALUE),
                    "raw": lambda: raw_set(raw_key, VALUE),
                },
                repeat,
            ),
        }
    finally:
        try:
            await storage.clear("data")
            await client.delete(raw_key)
        finally:
            await storage.dispose()
            await twin.dispose()


def measure(repeat: int) -> dict[str, Any]:
    run, loop_name = event_loop()
    report.section(
        "Storage (ns per await, lower is better)",
        [
            f"value {json.dumps(VALUE)}; {loop_name} loop; each timing >= {MIN_SECONDS} s, "
            f"nitro and raw interleaved, best of {repeat} repeats",
            "raw = the same work without nitro: memory json.dumps + dict / dict + json.loads;",
            "redis: the same redis-py asyncio client settings, await set(k, json.dumps(v)) /",
            f"json.loads(await get(k)) on {REDIS_URL}",
        ],
    )

    backends = run(
        each_backend({"memory": _memory, "redis": _redis}, repeat, "nitro-bench-storage-")
    )
    return {
        "settings": {
            "repeat": repeat,
            "value": VALUE,
            "event_loop": loop_name,
            "min_seconds_per_timing": MIN_SECONDS,
            "redis_url": REDIS_URL,
        },
        "ns_per_op": backends,
    }


def print_report(results: dict[str, Any]) -> None:
    rows = []
    flagged = []
    for backend, ops in results["ns_per_op"].items():
        if isinstance(ops, str):
            rows.append([backend, "-", ops, "-", "-", "-"])
            continue
        for op, timings in ops.items():
            nitro = timings["nitro"]
            for name, other in timings.items():
                if name == "nitro":
                    continue
                label = "raw (same semantics)" if name == "raw" else name
                rows.append(
                    [backend, f"{op}_item", label, report.count(nitro), report.count(other),
                     report.ratio(nitro / other)]
                )  # fmt: skip
            ratio = nitro / timings["raw"]
            if backend == "memory" and ratio > OVERHEAD_FLAG:
                flagged.append(f"memory {op}_item: {ratio:.2f}x the same-semantics baseline")
    headers = ["backend", "operation", "baseline", "nitro ns", "baseline ns", "nitro/baseline"]
    print(report.table(headers, rows, 3))
    for line in flagged:
        print(f"\n  note: {line} (above {OVERHEAD_FLAG}x); see bench/README.md")
