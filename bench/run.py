"""nitro vs a bare ASGI callable, Starlette and FastAPI: throughput, cold start, router;
nitro's storage and database against raw calls; a cache hit against a plain route;
a session read and basic auth against a plain route; WebSocket broadcast against Starlette;
the Lambda handler against the usual ways of serving HTTP on Lambda; JSON logs and
tracing against both off; uvicorn against granian, and 1 worker against 2.

    python bench/run.py [--quick] [--only throughput,coldstart,router,storage,database,cache,session,websocket,lambda,lambda-realtime,observe,engines]

Prints a table per section with ratios and writes bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cache
import coldstart
import database
import engines
import lambda_handler
import lambda_realtime
import observe
import router
import session
import storage
import throughput
import ws_broadcast
from common import BENCH_DIR, BenchError, pick_cpus
from interference import OtherProcesses

SECTIONS = (
    "throughput",
    "coldstart",
    "router",
    "storage",
    "database",
    "cache",
    "session",
    "websocket",
    "lambda",
    "lambda-realtime",
    "observe",
    "engines",
)
RESULTS = BENCH_DIR / "results" / "latest.json"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="short runs (3 s wrk runs, 5 cold starts, 3 repeats)"
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections of: {', '.join(SECTIONS)}",
    )
    parser.add_argument(
        "--duration", type=int, help="seconds of wrk per endpoint (default 10, --quick 3)"
    )
    parser.add_argument("--runs", type=int, help="cold starts per variant (default 15, --quick 5)")
    args = parser.parse_args()
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(
            f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}"
        )
    args.duration = args.duration or (3 if args.quick else 10)
    args.warmup = 1 if args.quick else 2
    args.runs = args.runs or (5 if args.quick else 15)
    args.repeat = 3 if args.quick else 5
    return args


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def git_revision() -> str:
    result = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=BENCH_DIR, capture_output=True, text=True
    )
    return result.stdout.strip() or "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment() -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git": git_revision(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "packages": {
            p: version(p)
            for p in (
                "nitro-py",
                "uvicorn",
                "uvloop",
                "httptools",
                "granian",
                "starlette",
                "fastapi",
                "redis",
            )
        },
    }


def check_tools(sections: list[str], cpus: tuple[int | None, int | None]) -> None:
    if {"throughput", "observe", "engines"} & set(sections) and shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is needed for the throughput section: apt-get install wrk (or --only coldstart,router)"
        )
    if cpus == (None, None):
        print(
            "warning: fewer than 2 usable CPUs or no taskset: server and client are not pinned",
            file=sys.stderr,
        )


def print_environment(env: dict[str, Any], quick: bool) -> None:
    print(f"nitro benchmark{' (quick)' if quick else ''}, {env['date']}, git {env['git']}")
    print(f"  {env['cpu']}, {env['cpus_usable']} usable CPUs, Python {env['python']}")
    print("  " + ", ".join(f"{name} {v}" for name, v in env["packages"].items()))


PRINTERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "throughput": throughput.print_report,
    "coldstart": coldstart.print_report,
    "router": router.print_report,
    "storage": storage.print_report,
    "database": database.print_report,
    "cache": cache.print_report,
    "session": session.print_report,
    "websocket": ws_broadcast.print_report,
    "lambda": lambda_handler.print_report,
    "lambda-realtime": lambda_realtime.print_report,
    "observe": observe.print_report,
    "engines": engines.print_report,
}


def measure_section(
    name: str, workdir: Path, args: argparse.Namespace, cpus: tuple[int | None, int | None]
) -> dict[str, Any]:
    if name == "throughput":
        return throughput.measure(workdir, args.duration, args.warmup, cpus)
    if name == "coldstart":
        return coldstart.measure(workdir, args.runs, cpus)
    if name == "storage":
        return storage.measure(args.repeat)
    if name == "database":
        return database.measure(args.repeat)
    if name == "cache":
        return cache.measure(args.repeat)
    if name == "session":
        return session.measure(args.repeat)
    if name == "websocket":
        return ws_broadcast.measure(workdir, cpus, args.quick)
    if name == "lambda":
        return lambda_handler.measure(workdir, args.runs, args.repeat, args.quick)
    if name == "lambda-realtime":
        return lambda_realtime.measure(workdir, args.repeat, args.quick)
    if name == "engines":
        # Short runs, several interleaved rounds: this section compares many servers.
        duration = max(2, args.duration // 2)
        return engines.measure(workdir, duration, args.warmup, cpus, rounds=1 if args.quick else 3)
    if name == "observe":
        return observe.measure(workdir, args.duration, args.warmup, cpus, args.repeat, args.quick)
    return router.measure(args.repeat)


def main() -> None:
    args = parse_args()
    cpus = pick_cpus()
    check_tools(args.only, cpus)
    env = environment()
    print_environment(env, args.quick)

    results: dict[str, Any] = {"environment": env, "args": dict(vars(args))}
    # Generated projects and their builds live here, never in the repository.
    with tempfile.TemporaryDirectory(prefix="nitro-bench-") as tmp:
        workdir = Path(tmp)
        for name in (section for section in SECTIONS if section in args.only):
            with OtherProcesses() as others:
                results[name] = measure_section(name, workdir, args, cpus)
            PRINTERS[name](results[name])
            others.report()
            results[name]["other_processes_cpus"] = others.cpus

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults written to {RESULTS}")
    print("absolute numbers depend on the machine and its load: compare the ratios")


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        raise SystemExit(f"benchmark aborted: {error}") from None
