"""Engines and workers: the same apps on uvicorn and on granian, one worker each; then
a CPU-bound handler on 1 and on 2 worker processes, with each worker's memory.

    python bench/run.py --only engines [--quick]

One worker: bare ASGI and Starlette served by each engine's own command line, Nitro
itself (JavaScript, `nitro_js.py`) on node when npm can install it, and
nitro's `async def` and `def` (``sync_to_thread=False``) handlers served by the server
preset's entry (`python .output/server/index.py`) built with ``server={"engine": E}``;
server pinned to one CPU, wrk to the other (as the throughput section).

Workers: a route burning about 2 ms of CPU per request, served by the entry with
``NITRO_WORKERS=1`` and ``=2`` on each engine, nothing pinned (the 2 workers need both
CPUs; wrk's own cost at these rates is small). RSS of each worker process and of the
supervisor is read from /proc while the server is warm.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import nitro_js
import projects
import report
from common import APPS_DIR, HOST, UVICORN_FLAGS, free_port, running_server, taskset, uvicorn_cmd
from throughput import CONNECTIONS, ENDPOINTS, check_responses, wrk

ENGINES = ("uvicorn", "granian")
GRANIAN_FLAGS = ["--interface", "asgi", "--workers", "1", "--log-level", "warning"]
# nitro variants: (label, handler kind, sync_to_thread)
NITRO = [("nitro async def", "async", None), ("nitro def inline", "def", False)]
# Issue 17's targets for nitro on granian: vs bare ASGI on granian, and on uvicorn.
TARGET_VS_SAME = 0.9
TARGET_VS_UVICORN = 1.2
TARGET_WORKERS = 1.6

BURN = """\
import time

from nitro import define_handler


@define_handler
async def handler(event):
    # about 2 ms of CPU: what a template render or a JSON-heavy handler costs
    end = time.thread_time() + 0.002
    n = 0
    while time.thread_time() < end:
        n += 1
    return {"hello": "world"}
"""


def granian_cmd(target: str, app_dir: Path, port: int) -> list[str]:
    return [
        sys.executable, "-m", "granian", *GRANIAN_FLAGS,
        "--working-dir", str(app_dir), "--host", HOST, "--port", str(port), target,
    ]  # fmt: skip


def nitro_project(dest: Path, kind: str, sync_to_thread: bool | None, engine: str) -> Path:
    projects.write_route(dest, "index.py", projects.HELLO, kind)
    projects.write_route(dest, "users/[id].py", projects.ECHO_ID, kind)
    options = [f"server={{'engine': {engine!r}}}"]
    if sync_to_thread is not None:
        options.append(f"sync_to_thread={sync_to_thread}")
    (dest / "nitro.config.py").write_text(
        "from nitro.config import define_nitro_config\n\n"
        f"config = define_nitro_config({', '.join(options)})\n"
    )
    return projects.build(dest, expected_routes=len(ENDPOINTS))


def burn_project(dest: Path, engine: str) -> Path:
    (dest / "routes").mkdir(parents=True)
    (dest / "routes" / "index.py").write_text(BURN)
    (dest / "nitro.config.py").write_text(
        "from nitro.config import define_nitro_config\n\n"
        f"config = define_nitro_config(server={{'engine': {engine!r}}})\n"
    )
    return projects.build(dest, expected_routes=1)


def entry_env(port: int, workers: int | None = None) -> dict[str, str]:
    env = {"NITRO_HOST": HOST, "NITRO_PORT": str(port)}
    if workers is not None:
        env["NITRO_WORKERS"] = str(workers)
    return env


def one_worker_rows(workdir: Path) -> list[tuple[str, str, list[str] | None, Path, bool]]:
    """(name, engine, command or None for the entry, directory, is the entry)."""
    rows: list[tuple[str, str, list[str] | None, Path, bool]] = []
    for engine in ENGINES:
        make = uvicorn_cmd if engine == "uvicorn" else granian_cmd
        rows.append(
            (f"bare ASGI, {engine}", engine, make("bare_app:app", APPS_DIR, 0), APPS_DIR, False)
        )
        rows.append(
            (
                f"Starlette, {engine}",
                engine,
                make("starlette_app:app", APPS_DIR, 0),
                APPS_DIR,
                False,
            )
        )
    for engine in ENGINES:
        for index, (label, kind, sync_to_thread) in enumerate(NITRO):
            server = nitro_project(
                workdir / f"engines_{engine}_{index}", kind, sync_to_thread, engine
            )
            rows.append((f"{label}, {engine}", engine, None, server, True))
    js, why_not = nitro_js.build()
    if js is None:
        print(f"   {NITRO_JS}: left out ({why_not})", flush=True)
    else:
        rows.append((NITRO_JS, "node", nitro_js.command(), js, False))
    return rows


NITRO_JS = "Nitro JS, node"


def with_port(cmd: list[str], port: int) -> list[str]:
    out = list(cmd)
    out[out.index("--port") + 1] = str(port)
    return out


def median_sample(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The sample with the median req/s (its latencies with it), and every sample's rate."""
    ordered = sorted(samples, key=lambda sample: sample["requests_per_sec"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["samples_rps"] = [sample["requests_per_sec"] for sample in samples]
    return chosen


def measure_one_worker(
    workdir: Path, duration: int, warmup: int, cpus: tuple[int | None, int | None], rounds: int
) -> dict[str, Any]:
    """Every app once per round, rounds interleaved: a load that comes and goes on a
    shared machine then touches every app, and the median round is reported."""
    server_cpu, client_cpu = cpus
    rows = one_worker_rows(workdir)
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {name: {} for name, *_ in rows}
    for round_ in range(rounds):
        for name, _engine, cmd, directory, is_entry in rows:
            port = free_port()
            if is_entry:
                command, env = [sys.executable, str(directory / "index.py")], entry_env(port)
            elif name == NITRO_JS:  # Nitro's node-server reads its address from the env
                command, env = cmd or [], {"HOST": HOST, "PORT": str(port)}
            else:
                command, env = with_port(cmd or [], port), {}
            with running_server(taskset(server_cpu, command), port, cwd=directory, env=env):
                check_responses(name, port)
                for label, path, _ in ENDPOINTS:
                    wrk(port, path, warmup, client_cpu)
                    sample = asdict(wrk(port, path, duration, client_cpu))
                    samples[name].setdefault(label, []).append(sample)
                    rps = sample["requests_per_sec"]
                    print(
                        f"   {round_ + 1}/{rounds} {name:<27} {label:<16} {rps:>10,.0f} req/s",
                        flush=True,
                    )
    return {
        name: {label: median_sample(runs) for label, runs in by_label.items()}
        for name, by_label in samples.items()
    }


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def worker_pids(server: int) -> list[int]:
    """The server's worker processes (multiprocessing's resource tracker left out)."""
    return [
        pid
        for pid in children(server)
        if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def measure_workers(workdir: Path, duration: int, warmup: int, rounds: int) -> dict[str, Any]:
    servers = {engine: burn_project(workdir / f"burn_{engine}", engine) for engine in ENGINES}
    samples: dict[str, list[dict[str, Any]]] = {}
    for round_ in range(rounds):
        for engine, server in servers.items():
            for workers in (1, 2):
                name = f"{engine}, {workers} worker{'s' if workers > 1 else ''}"
                port = free_port()
                command = [sys.executable, str(server / "index.py")]
                env = entry_env(port, workers)
                with running_server(command, port, cwd=server, env=env) as proc:
                    wrk(port, "/", warmup, None)
                    outcome = asdict(wrk(port, "/", duration, None))
                    outcome["rss_kib"] = {
                        "server": rss_kib(proc.pid),
                        "workers": [rss_kib(pid) for pid in worker_pids(proc.pid)],
                    }
                samples.setdefault(name, []).append(outcome)
                rps = outcome["requests_per_sec"]
                print(f"   {round_ + 1}/{rounds} {name:<27} {rps:>10,.0f} req/s", flush=True)
    return {name: median_sample(runs) for name, runs in samples.items()}


def measure(
    workdir: Path, duration: int, warmup: int, cpus: tuple[int | None, int | None], rounds: int
) -> dict[str, Any]:
    report.section(
        "Engines and workers (requests per second, higher is better)",
        [
            f"one worker: uvicorn {' '.join(UVICORN_FLAGS)} / granian {' '.join(GRANIAN_FLAGS)}"
            f" (nitro: its entry), server on CPU {cpus[0]}, wrk -t1 -c{CONNECTIONS} on CPU {cpus[1]}",
            "workers: a ~2 ms CPU handler through the entry, NITRO_WORKERS=1 vs 2, nothing pinned",
            f"{rounds} interleaved rounds (every app once per round); the median round is shown",
        ],
    )
    return {
        "settings": {
            "duration_s": duration,
            "warmup_s": warmup,
            "cpus": list(cpus),
            "rounds": rounds,
        },
        "nitro_js_version": nitro_js.version(),
        "one_worker": measure_one_worker(workdir, duration, warmup, cpus, rounds),
        "workers": measure_workers(workdir, duration, warmup, rounds),
    }


def print_report(results: dict[str, Any]) -> None:
    apps = results["one_worker"]
    for label, _, _ in ENDPOINTS:
        figures = {
            name: (
                r[label]["requests_per_sec"],
                r[label]["latency_p50_ms"],
                r[label]["latency_p99_ms"],
            )
            for name, r in apps.items()
        }
        print(f"\n  {label}")
        print(report.rate_table("req/s", "bare ASGI, uvicorn", figures))
    print()
    lines = []
    for label, _, _ in ENDPOINTS:
        rps = {name: r[label]["requests_per_sec"] for name, r in apps.items()}
        for variant, _, _ in NITRO:
            mine = rps[f"{variant}, granian"]
            same = mine / rps["bare ASGI, granian"]
            cross = mine / rps["bare ASGI, uvicorn"]
            lines.append((f"{variant} on granian / bare granian, {label}", same))
            lines.append((f"{variant} on granian / bare uvicorn, {label}", cross))
            lines.append(
                (
                    f"{variant} granian / {variant} uvicorn, {label}",
                    mine / rps[f"{variant}, uvicorn"],
                )
            )
        if NITRO_JS in rps:
            for engine in ENGINES:
                lines.append(
                    (
                        f"nitro async def on {engine} / Nitro JS, {label}",
                        rps[f"nitro async def, {engine}"] / rps[NITRO_JS],
                    )
                )
    report.ratios(lines)
    print(
        f"  targets: nitro on granian >= {TARGET_VS_SAME}x bare granian and >= "
        f"{TARGET_VS_UVICORN}x bare uvicorn"
    )
    print("\n  ~2 ms CPU per request, by worker count (RSS in MiB)")
    rows = []
    workers = results["workers"]
    for name, r in workers.items():
        engine = name.split(",")[0]
        single = workers[f"{engine}, 1 worker"]["requests_per_sec"]
        rss = r["rss_kib"]
        rows.append(
            [
                name,
                report.count(r["requests_per_sec"]),
                report.ratio(r["requests_per_sec"] / single),
                f"{rss['server'] / 1024:.0f}",
                " ".join(f"{kib / 1024:.0f}" for kib in rss["workers"]) or "-",
            ]
        )
    print(report.table(["server", "req/s", "vs 1 worker", "RSS main", "RSS workers"], rows))
    print(f"  target: 2 workers >= {TARGET_WORKERS}x 1 worker on 2 cores")
