"""Observability's cost: hello throughput and Lambda warm invocations with JSON logs
and with tracing on, against both off (issue 21).

One project, `GET /` -> ``{"hello": "world"}`` and `GET /users/[id]`, with a plugin
that sets up opentelemetry-sdk when ``NITRO_TRACING`` is on, as the docs show: a
`TracerProvider` with a `BatchSpanProcessor` (as production runs it) whose exporter
drops the spans, so what is measured is making them, not sending them anywhere.

- throughput: the project built with the server preset, served by its entry on the
  server CPU in each mode (off; ``NITRO_LOG_FORMAT=json``, one access line per request
  to the server's log file; ``NITRO_TRACING=1``; both), wrk as in the throughput
  section.
- Lambda: the project built with ``--preset aws-lambda`` (opentelemetry-sdk vendored
  as a project dependency), its ``index.handler`` invoked warm in a fresh process per
  mode, as in the lambda section (stderr, where JSON lines go, to a file).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import lambda_handler
import projects
import report
import throughput
from common import HOST, BenchError, free_port, running_server, taskset

MODES: dict[str, dict[str, str]] = {
    "off": {},
    "JSON logs": {"NITRO_LOG_FORMAT": "json"},
    "tracing": {"NITRO_TRACING": "1"},
    "JSON logs + tracing": {"NITRO_LOG_FORMAT": "json", "NITRO_TRACING": "1"},
}
PLUGIN = """import os

from nitro import define_plugin


@define_plugin
def tracing(app):
    if not os.environ.get("NITRO_TRACING"):
        return
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Dropped(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Dropped()))
    trace.set_tracer_provider(provider)
"""
PYPROJECT = """[project]
name = "observe-bench"
version = "0"
dependencies = ["opentelemetry-sdk>=1.25"]
"""


def project(dest: Path) -> Path:
    projects.throughput_project(dest, "async")
    (dest / "plugins").mkdir(exist_ok=True)
    (dest / "plugins" / "tracing.py").write_text(PLUGIN)
    (dest / "pyproject.toml").write_text(PYPROJECT)
    return dest


def measure_throughput(
    workdir: Path, duration: int, warmup: int, cpus: tuple[int | None, int | None]
) -> dict[str, Any]:
    server_cpu, client_cpu = cpus
    server_dir = projects.build(project(workdir / "observe_server"), expected_routes=2)
    results: dict[str, Any] = {}
    for mode, env in MODES.items():
        port = free_port()
        command = taskset(server_cpu, [sys.executable, str(server_dir / "index.py")])
        environ = {"NITRO_HOST": HOST, "NITRO_PORT": str(port), **env}
        results[mode] = {}
        with running_server(command, port, cwd=server_dir, env=environ):
            throughput.check_responses(f"nitro ({mode})", port)
            for label, path, _ in throughput.ENDPOINTS:
                throughput.wrk(port, path, warmup, client_cpu)  # discarded
                found = asdict(throughput.wrk(port, path, duration, client_cpu))
                results[mode][label] = found
                print(
                    f"   {mode:<22} {label:<16} {found['requests_per_sec']:>10,.0f} req/s",
                    flush=True,
                )
    return results


def measure_lambda(workdir: Path, repeat: int, quick: bool) -> dict[str, Any]:
    python = lambda_handler.bench_python()
    root = project(workdir / "observe_lambda")
    projects.build(root, preset="aws-lambda")
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    runtime = subprocess.run([str(python), "-c", purelib], capture_output=True, text=True)
    paths = [str(root / ".output" / "server"), runtime.stdout.strip()]
    n = 5_000 if quick else 20_000
    results: dict[str, Any] = {}
    for mode, env in MODES.items():
        rounds = lambda_handler.warm(
            python, "index", paths, ["-B", "-I", "-S"], n, repeat, {**lambda_handler.ENV, **env}
        )
        results[mode] = {"warm_us": min(rounds), "warm_rounds_us": rounds}
        print(f"   {mode:<22} {min(rounds):>8.1f} us per warm invocation", flush=True)
    return {"invocations": n, "rounds": repeat, "modes": results}


def measure(
    workdir: Path,
    duration: int,
    warmup: int,
    cpus: tuple[int | None, int | None],
    repeat: int,
    quick: bool,
) -> dict[str, Any]:
    report.section(
        "JSON logs and tracing against both off (higher req/s, lower us is better)",
        [
            f"throughput: the server entry on CPU {cpus[0]}, wrk -t1 -c{throughput.CONNECTIONS}"
            f" -d{duration}s on CPU {cpus[1]}",
            "lambda: the built index.handler, warm, us per invocation (best round)",
            "tracing: opentelemetry-sdk, BatchSpanProcessor, an exporter that drops the spans",
        ],
    )
    if os.environ.get("NITRO_LOG_FORMAT") or os.environ.get("NITRO_TRACING"):
        raise BenchError("unset NITRO_LOG_FORMAT and NITRO_TRACING: the section sets them")
    return {
        "settings": {"duration_s": duration, "warmup_s": warmup, "cpus": list(cpus)},
        "throughput": measure_throughput(workdir, duration, warmup, cpus),
        "lambda": measure_lambda(workdir, repeat, quick),
    }


def print_report(results: dict[str, Any]) -> None:
    by_mode = results["throughput"]
    for label, _, _ in throughput.ENDPOINTS:
        figures = {
            mode: (
                r[label]["requests_per_sec"],
                r[label]["latency_p50_ms"],
                r[label]["latency_p99_ms"],
            )
            for mode, r in by_mode.items()
        }
        print(f"\n  {label}")
        print(report.rate_table("req/s", "off", figures))
    modes = results["lambda"]["modes"]
    off = modes["off"]["warm_us"]
    rows = [
        [
            mode,
            f"{m['warm_us']:.1f}",
            f"{m['warm_us'] - off:+.1f}",
            report.ratio(m["warm_us"] / off),
        ]
        for mode, m in modes.items()
    ]
    print("\n  Lambda, warm invocation")
    print(report.table(["mode", "us", "vs off, us", "vs off"], rows))
