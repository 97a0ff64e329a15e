"""Throughput: req/s of each app under wrk, server and wrk on separate CPUs."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import projects
import report
from common import (
    APPS_DIR,
    HOST,
    UVICORN_FLAGS,
    BenchError,
    free_port,
    running_server,
    taskset,
    uvicorn_cmd,
)

CONNECTIONS = 64
# (label, path requested by wrk, the JSON every app must answer with)
ENDPOINTS: list[tuple[str, str, dict[str, str]]] = [
    ("GET /", "/", {"hello": "world"}),
    ("GET /users/{id}", "/users/42", {"id": "42"}),
]


@dataclass
class App:
    name: str
    target: str  # module:attribute for uvicorn; "" for a built entry run as a script
    app_dir: Path

    def command(self, port: int) -> tuple[list[str], dict[str, str]]:
        """The command line and extra environment that serve this app on `port`."""
        if self.target:
            return uvicorn_cmd(self.target, self.app_dir, port), {}
        # the server preset's own entry: uvicorn (uvloop, httptools) started by nitro
        return [sys.executable, str(self.app_dir / "index.py")], {
            "NITRO_HOST": HOST,
            "NITRO_PORT": str(port),
        }


@dataclass
class WrkResult:
    requests_per_sec: float
    requests: int
    latency_p50_ms: float
    latency_p99_ms: float
    non_2xx: int
    socket_errors: int


# nitro as users write it and run it: `async def` and plain `def` handlers, served by
# the server preset's entry (`python .output/server/index.py`); `def` on worker threads
# (the preset's choice) and inline (``sync_to_thread=False``).
# Issue 15's targets, as a fraction of bare ASGI's req/s.
TARGETS = {
    "nitro async (entry)": 0.9,
    "nitro def, threads (entry)": 0.5,
    "nitro def, inline (entry)": 0.9,
}
ENTRY_VARIANTS = [
    ("nitro async (entry)", "async", None),
    ("nitro def, threads (entry)", "def", None),
    ("nitro def, inline (entry)", "def", False),
]


def apps(workdir: Path) -> list[App]:
    """The apps; nitro's projects are built first. The bare app, Starlette, FastAPI and
    nitro's build are served by the same uvicorn command; then nitro's entry variants."""
    project = projects.copy_project("nitro_project", workdir / "nitro_throughput")
    server_dir = projects.build(project, expected_routes=len(ENDPOINTS))
    found = [
        App("bare ASGI", "bare_app:app", APPS_DIR),
        App("Starlette", "starlette_app:app", APPS_DIR),
        App("FastAPI", "fastapi_app:app", APPS_DIR),
        App("nitro", "index:app", server_dir),
    ]
    for index, (name, kind, sync_to_thread) in enumerate(ENTRY_VARIANTS):
        variant = projects.throughput_project(
            workdir / f"nitro_entry_{index}", kind, sync_to_thread
        )
        found.append(App(name, "", projects.build(variant, expected_routes=len(ENDPOINTS))))
    return found


def check_responses(name: str, port: int) -> None:
    """Every app must send the same JSON, or the comparison is not like for like."""
    for _, path, expected in ENDPOINTS:
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        content_type = response.getheader("content-type", "")
        if (
            response.status != 200
            or not content_type.startswith("application/json")
            or json.loads(body) != expected
        ):
            raise BenchError(
                f"{name} GET {path}: {response.status} {content_type} {body!r}, expected {expected}"
            )


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency_ms(output: str, percentile: str) -> float:
    found = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    return float(found.group(1)) * _UNIT_MS[found.group(2)] if found else float("nan")


def parse_wrk(output: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rps is None or total is None:
        raise BenchError(f"could not read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_sec=float(rps.group(1)),
        requests=int(total.group(1)),
        latency_p50_ms=_latency_ms(output, "50"),
        latency_p99_ms=_latency_ms(output, "99"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(map(int, sockets.groups())) if sockets else 0,
    )


def wrk(port: int, path: str, seconds: int, cpu: int | None) -> WrkResult:
    cmd = [
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
        f"http://{HOST}:{port}{path}",
    ]
    output = subprocess.run(taskset(cpu, cmd), capture_output=True, text=True, check=True).stdout
    result = parse_wrk(output)
    if result.non_2xx:
        raise BenchError(f"{result.non_2xx} non-2xx responses from {path}:\n{output}")
    return result


def measure_app(
    app: App, duration: int, warmup: int, cpus: tuple[int | None, int | None]
) -> dict[str, Any]:
    server_cpu, client_cpu = cpus
    port = free_port()
    command, env = app.command(port)
    cmd = taskset(server_cpu, command)
    results: dict[str, Any] = {}
    with running_server(cmd, port, cwd=app.app_dir, env=env):
        check_responses(app.name, port)
        for label, path, _ in ENDPOINTS:
            wrk(port, path, warmup, client_cpu)  # warm caches and connections; discarded
            results[label] = asdict(wrk(port, path, duration, client_cpu))
            print(
                f"   {app.name:<27} {label:<16} {results[label]['requests_per_sec']:>10,.0f} req/s",
                flush=True,
            )
    return results


def measure(
    workdir: Path, duration: int, warmup: int, cpus: tuple[int | None, int | None]
) -> dict[str, Any]:
    report.section(
        "Throughput (requests per second, higher is better)",
        [
            f"uvicorn {' '.join(UVICORN_FLAGS)}, 1 worker, server on CPU {cpus[0]}",
            f"wrk -t1 -c{CONNECTIONS} -d{duration}s on CPU {cpus[1]}, after a {warmup}s warm-up per endpoint",
        ],
    )
    return {
        "settings": {
            "duration_s": duration,
            "warmup_s": warmup,
            "connections": CONNECTIONS,
            "cpus": list(cpus),
        },
        "apps": {app.name: measure_app(app, duration, warmup, cpus) for app in apps(workdir)},
    }


def print_report(results: dict[str, Any]) -> None:
    by_app = results["apps"]
    for label, _, _ in ENDPOINTS:
        base = by_app["bare ASGI"][label]["requests_per_sec"]
        figures = {
            name: (
                r[label]["requests_per_sec"],
                r[label]["latency_p50_ms"],
                r[label]["latency_p99_ms"],
            )
            for name, r in by_app.items()
        }
        print(f"\n  {label}")
        print(report.rate_table("req/s", "bare ASGI", figures))
        # Every app does at least the bare app's work: beating it means noise.
        faster = [name for name, r in by_app.items() if r[label]["requests_per_sec"] > base * 1.05]
        if faster:
            print(f"  warning: {', '.join(faster)} beat the bare ASGI floor: likely disturbed")
        errors = {
            name: r[label]["socket_errors"]
            for name, r in by_app.items()
            if r[label]["socket_errors"]
        }
        if errors:
            print(f"  warning: socket errors during the run: {errors}")
    print()
    rps = {
        name: {label: r[label]["requests_per_sec"] for label, _, _ in ENDPOINTS}
        for name, r in by_app.items()
    }
    report.ratios(
        [
            (f"nitro / {other}, {label}", rps["nitro"][label] / rps[other][label])
            for other in ("Starlette", "FastAPI")
            for label, _, _ in ENDPOINTS
        ]
    )
    print()
    for name, _, _ in ENTRY_VARIANTS:
        if name not in rps:
            continue
        target = TARGETS[name]
        for label, _, _ in ENDPOINTS:
            ratio = rps[name][label] / rps["bare ASGI"][label]
            verdict = "ok" if ratio >= target else "below"
            print(f"  target {name}, {label}: >= {target:.1f}x bare ASGI: {ratio:.2f}x, {verdict}")
