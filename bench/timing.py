"""Timing awaitables: calibrated loops, variants interleaved, best of N."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

MIN_SECONDS = 0.2  # each timing at least this long

Op = Callable[[], Awaitable[Any]]


async def run(op: Op, number: int) -> float:
    """Seconds for `number` sequential awaits of `op()`."""
    start = time.perf_counter()
    for _ in range(number):
        await op()
    return time.perf_counter() - start


async def calibrate(op: Op) -> int:
    """Iterations that take at least MIN_SECONDS (like timeit's autorange)."""
    number = 1
    while True:
        if await run(op, number) >= MIN_SECONDS:
            return number
        number *= 2 if number < 16 else 10 if number < 10_000 else 2


async def compare(variants: dict[str, Op], repeat: int) -> dict[str, float]:
    """ns per op of each variant: interleaved, best of `repeat`."""
    numbers = {name: await calibrate(op) for name, op in variants.items()}
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(repeat):
        for name, op in variants.items():
            best[name] = min(best[name], await run(op, numbers[name]) / numbers[name] * 1e9)
    return best


async def each_backend(
    backends: dict[str, Callable[[int, Path], Awaitable[Any]]], repeat: int, prefix: str
) -> dict[str, Any]:
    """Each backend's `measure(repeat, root)`, in turn, in one temporary directory."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        return {name: await measure(repeat, Path(tmp)) for name, measure in backends.items()}


def event_loop() -> tuple[Callable[[Any], Any], str]:
    """uvloop's runner when installed (as under uvicorn), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run, "asyncio"
    return uvloop.run, "uvloop"
