"""Cold start: wall time from spawning a server process to its first HTTP 200 on `/`."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import projects
import report
from common import (
    APPS_DIR,
    HOST,
    BenchError,
    free_port,
    http_status,
    log_tail,
    spawn,
    stop,
    uvicorn_cmd,
)

POLL_S = 0.002  # the resolution of the measurement
TIMEOUT_S = 60.0
MANY_ROUTES = 1000


# port -> (argv, extra environment) of a server listening on that port
Launch = Callable[[int], tuple[list[str], dict[str, str]]]


@dataclass
class Variant:
    key: str
    label: str
    how: str  # the command, for the report
    launch: Launch
    cwd: Path


def plain_uvicorn(target: str, app_dir: Path) -> Launch:
    return lambda port: (uvicorn_cmd(target, app_dir, port), {})


def nitro_entry(server_dir: Path) -> Launch:
    """nitro's production entry: `python .output/server/index.py`, bound by env."""
    return lambda port: (
        [sys.executable, str(server_dir / "index.py")],
        {"NITRO_HOST": HOST, "NITRO_PORT": str(port)},
    )


def variants(workdir: Path) -> list[Variant]:
    one = projects.build(projects.make_project(workdir / "nitro_1_route", 1), expected_routes=1)
    many = projects.build(
        projects.make_project(workdir / "nitro_1000_routes", MANY_ROUTES), MANY_ROUTES
    )
    uvicorn = "uvicorn command (as throughput)"
    entry = "python .output/server/index.py"
    return [
        Variant(
            "bare_uvicorn", "bare ASGI", uvicorn, plain_uvicorn("bare_app:app", APPS_DIR), APPS_DIR
        ),
        Variant("nitro_1_uvicorn", "nitro, 1 route", uvicorn, plain_uvicorn("index:app", one), one),
        Variant("nitro_1_entry", "nitro, 1 route", entry, nitro_entry(one), one),
        Variant(
            "nitro_1000_entry", f"nitro, {MANY_ROUTES:,} routes", entry, nitro_entry(many), many
        ),
    ]


def wait_for_200(proc: subprocess.Popen[bytes], port: int, log: IO[bytes], start: float) -> float:
    """Seconds from `start` until `GET /` answers 200, polling every POLL_S."""
    while True:
        status = http_status(port, "/")
        if status == 200:
            return time.perf_counter() - start
        if status is not None:
            raise BenchError(f"GET / answered {status}:\n{log_tail(log)}")
        if proc.poll() is not None:
            raise BenchError(f"server exited with {proc.returncode}:\n{log_tail(log)}")
        if time.perf_counter() - start > TIMEOUT_S:
            raise BenchError(f"no 200 after {TIMEOUT_S}s:\n{log_tail(log)}")
        time.sleep(POLL_S)


def bytecode_cache_env(workdir: Path) -> dict[str, str]:
    """Environment that lets every server cache its bytecode, as a deployed one does.

    Without it, an inherited PYTHONDONTWRITEBYTECODE would make each start
    recompile whatever has no .pyc yet (an editable nitro, the generated routes),
    a cost production does not pay. The cache goes to a temp tree, so nothing is
    written next to the sources; the discarded warm-up run fills it.
    """
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(workdir / "pycache")}


def time_to_first_200(variant: Variant, cpu: int | None, cache_env: dict[str, str]) -> float:
    port = free_port()
    argv, env = variant.launch(port)
    env = {**env, **cache_env}
    with tempfile.TemporaryFile() as log:
        # The clock starts right before the spawn: interpreter start-up, imports,
        # app loading and binding are all inside the measurement.
        start = time.perf_counter()
        proc = spawn(argv, log, variant.cwd, env, cpu)
        try:
            return wait_for_200(proc, port, log, start)
        finally:
            stop(proc)


def measure(workdir: Path, runs: int, cpus: tuple[int | None, int | None]) -> dict[str, Any]:
    server_cpu, client_cpu = cpus
    report.section(
        "Cold start (process spawn to first HTTP 200 on /, lower is better)",
        [
            f"median of {runs} runs per variant, polled every {POLL_S * 1000:.0f} ms; runs interleaved across",
            f"variants after one discarded warm-up each; server on CPU {server_cpu}, poller on CPU {client_cpu}",
        ],
    )
    all_variants = variants(workdir)
    cache_env = bytecode_cache_env(workdir)
    samples: dict[str, list[float]] = {v.key: [] for v in all_variants}
    saved_affinity = os.sched_getaffinity(0)
    if client_cpu is not None:
        os.sched_setaffinity(0, {client_cpu})  # keep the poller off the server's CPU
    try:
        for v in all_variants:
            time_to_first_200(v, server_cpu, cache_env)  # warm-up: bytecode and page caches
        for _ in range(runs):
            for v in all_variants:
                samples[v.key].append(time_to_first_200(v, server_cpu, cache_env))
            print(".", end="", flush=True)
        print()
    finally:
        os.sched_setaffinity(0, saved_affinity)
    results: dict[str, Any] = {
        "settings": {"runs": runs, "poll_ms": POLL_S * 1000, "cpus": list(cpus)},
        "variants": {v.key: summarize(v, samples[v.key]) for v in all_variants},
    }
    results["ratios"] = ratios(results)
    return results


def summarize(variant: Variant, samples: list[float]) -> dict[str, Any]:
    return {
        "label": variant.label,
        "command": variant.how,
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "max_s": max(samples),
        "samples_s": samples,
    }


def ratios(results: dict[str, Any]) -> dict[str, float]:
    median = {key: v["median_s"] for key, v in results["variants"].items()}
    return {
        "nitro_1000_over_1_route": median["nitro_1000_entry"] / median["nitro_1_entry"],
        "nitro_1_route_entry_over_bare": median["nitro_1_entry"] / median["bare_uvicorn"],
        "nitro_1_route_uvicorn_over_bare": median["nitro_1_uvicorn"] / median["bare_uvicorn"],
    }


def print_report(results: dict[str, Any]) -> None:
    variants_ = results["variants"]
    bare = variants_["bare_uvicorn"]["median_s"]
    rows = [
        [v["label"], v["command"], report.ms(v["median_s"]), report.ms(v["min_s"]), report.ms(v["max_s"]),
         report.ratio(v["median_s"] / bare)]
        for v in variants_.values()
    ]  # fmt: skip
    print(
        report.table(
            ["app", "served by", "median ms", "min ms", "max ms", "vs bare ASGI"],
            rows,
            text_columns=2,
        )
    )
    r = results["ratios"]
    print()
    report.ratios(
        [
            (
                f"nitro {MANY_ROUTES:,} routes / 1 route (production entry)",
                r["nitro_1000_over_1_route"],
            ),
            ("nitro 1 route / bare ASGI (production entry)", r["nitro_1_route_entry_over_bare"]),
            (
                "nitro 1 route / bare ASGI (same uvicorn command)",
                r["nitro_1_route_uvicorn_over_bare"],
            ),
        ]
    )
