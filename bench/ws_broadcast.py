"""WebSocket broadcast: one message to 500 connected peers, nitro against Starlette.

Both apps run under the same uvicorn command as the throughput section, pinned to
the server CPU; the client (`ws_client.py`, 500 receivers and one sender in one
process) runs pinned to the other CPU. nitro: a route with
`define_websocket_handler` whose peers subscribe to one topic and `publish` each
message; Starlette: the plain loop of its documentation (a set of connections,
each message sent to every other one in turn).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import projects
import report
from common import (
    APPS_DIR,
    BENCH_DIR,
    HOST,
    BenchError,
    free_port,
    running_server,
    taskset,
    uvicorn_cmd,
)

PEERS = 500


def measure(workdir: Path, cpus: tuple[int | None, int | None], quick: bool) -> dict[str, Any]:
    burst, paced = (50, 50) if quick else (200, 200)
    report.section(
        f"WebSocket broadcast to {PEERS} peers (higher deliveries/s, lower latency is better)",
        [
            f"server under the throughput section's uvicorn command on CPU {cpus[0]}, "
            f"client on CPU {cpus[1]}",
            f"burst: {burst} messages back to back, deliveries/s until all {PEERS} peers have all;",
            f"paced: {paced} messages one at a time, send-to-receipt latency of every delivery;",
            "rounds alternate between the apps, best round of each (3, --quick 1)",
        ],
    )
    project = projects.copy_project("nitro_ws_project", workdir / "nitro_ws")
    server_dir = projects.build(project, expected_routes=1)
    apps = {"nitro": ("index:app", server_dir), "Starlette": ("starlette_ws_app:app", APPS_DIR)}
    rounds = 1 if quick else 3
    results: dict[str, Any] = {
        "settings": {"peers": PEERS, "burst": burst, "paced": paced, "rounds": rounds}
    }
    with contextlib.ExitStack() as servers:
        urls = {}
        for name, (target, app_dir) in apps.items():
            port = free_port()
            servers.enter_context(
                running_server(
                    taskset(cpus[0], uvicorn_cmd(target, app_dir, port)), port, cwd=app_dir
                )
            )
            urls[name] = f"ws://{HOST}:{port}/broadcast"
        # Rounds alternate between the apps; each app keeps its best round.
        for _ in range(rounds):
            for name, url in urls.items():
                figures = _client(url, burst, paced, cpus[1], name)
                best = results.get(name)
                if best is None or figures["deliveries_per_s"] > best["deliveries_per_s"]:
                    results[name] = figures
                print(
                    f"   {name:<10} {figures['deliveries_per_s']:>10,.0f} deliveries/s", flush=True
                )
    return results


def _client(url: str, burst: int, paced: int, cpu: int | None, name: str) -> dict[str, Any]:
    client = [
        sys.executable,
        str(BENCH_DIR / "ws_client.py"),
        url,
        str(PEERS),
        str(burst),
        str(paced),
    ]
    done = subprocess.run(taskset(cpu, client), capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise BenchError(f"the WebSocket client failed against {name}:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def print_report(results: dict[str, Any]) -> None:
    figures = {
        name: (results[name]["deliveries_per_s"], results[name]["p50_ms"], results[name]["p99_ms"])
        for name in ("nitro", "Starlette")
    }
    print(report.rate_table("deliveries/s", "Starlette", figures))
