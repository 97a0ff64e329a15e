"""Lambda's WebSockets and streaming (``aws_lambda={"websocket": True, "streaming": True}``).

1. Fan-out: one `peer.publish` to N = 1, 100, 1,000 subscribers, as the Lambda handler
   does it: one read of the topic's members from the ``data`` storage (DynamoDB) plus
   N ``post_to_connection`` calls, `FANOUT` at a time, all against one moto server
   (DynamoDB and apigatewaymanagementapi) on this machine. moto answers a post in
   milliseconds where API Gateway takes tens: the figures show nitro's share and how
   it scales, not AWS's latency.
2. Warm invocation of a plain HTTP event (``GET /``, a Function URL event) by the hello
   project built with both options off and on, in the build's Python: off, the
   handler answers buffered (what awslambdaric calls); on, the same event is answered
   as a stream (the runtime loop's path, into a sink that discards the bytes).
3. End to end through a local Runtime API (tests/adapters/aws_lambda_runtime_api.py):
   the off build run by AWS's awslambdaric, the on build by nitro's runtime loop
   started through its exec wrapper; time to the first answer (cold) and per
   invocation after (warm, Runtime API round trips included).

The machine is shared and busy (2 cores): compare ratios, not absolute numbers.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
import uuid
from pathlib import Path
from typing import Any

import projects
import report
from common import BENCH_DIR, BenchError, free_port, spawn, stop
from lambda_handler import EVENT, bench_python, warm

sys.path.insert(0, str(BENCH_DIR.parent / "tests"))

FANOUT_SIZES = (1, 100, 1000)
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}

# Times REPEAT rounds of N streamed answers of the built handler (sys.argv: code root,
# event, N, REPEAT); prints JSON microseconds per answer, per round.
STREAM_WARM = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import index
from nitro.adapters.aws_lambda_http import HttpApiV2, request_body, scope_for
from nitro.adapters.aws_lambda_stream import stream_http

class Context:
    function_name = "bench"; memory_limit_in_mb = "1024"; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    def get_remaining_time_in_millis(self): return 30000

class Sink:
    def __init__(self): self.parts = []
    def write(self, data, more): self.parts.append(data)
    def fail(self, error): raise error

handler, event, n = index.handler, json.loads(sys.argv[2]), int(sys.argv[3])
context = Context()
handler.start()

def once():
    sink = Sink()
    scope = scope_for(HttpApiV2, event, context)
    handler.run(stream_http(handler.app, event, scope, request_body(event), sink))
    return b"".join(sink.parts)

assert once().endswith(b'{"hello":"world"}'), once()
for _ in range(n // 5):
    once()
rounds = []
for _ in range(int(sys.argv[4])):
    start = time.perf_counter()
    for _ in range(n):
        once()
    rounds.append((time.perf_counter() - start) / n * 1e6)
print(json.dumps(rounds))
"""


def _build(workdir: Path, name: str, options: dict[str, bool]) -> Path:
    project = projects.make_project(workdir / name, 1)
    (project / "nitro.config.py").write_text(
        "from nitro.config import define_nitro_config\n\n"
        f"config = define_nitro_config(aws_lambda={options!r})\n"
    )
    return projects.build(project, preset="aws-lambda")


# --- 1. fan-out ---


class _Moto:
    def __init__(self) -> None:
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        self.proc = spawn(
            [sys.executable, "-m", "moto.server", "-p", str(self.port)],
            self.log,
            Path.cwd(),
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        import httpx

        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/moto-api/", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.close()
        raise BenchError("moto server did not start (pip install 'moto[server]')")

    def close(self) -> None:
        stop(self.proc)
        self.log.close()


def fanout(repeat: int, quick: bool) -> dict[str, Any]:
    """Milliseconds per publish to N subscribers (and of its one storage read)."""
    from nitro.adapters.aws_lambda_websocket_topics import FANOUT, ManagementApi, StorageHub
    from nitro.core.storage import Storage
    from nitro.storage_drivers.dynamodb import driver

    saved = dict(os.environ)
    moto = _Moto()
    os.environ.update(CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"] = moto.url
    try:
        table = f"bench-ws-{uuid.uuid4().hex[:6]}"
        options = {"table": table, "endpoint_url": moto.url, "create_table": True}
        storage = Storage()
        storage.mount("data", driver(options, root=Path.cwd()))
        results: dict[str, Any] = {"fanout": FANOUT, "sizes": {}}
        sizes = FANOUT_SIZES[:2] if quick else FANOUT_SIZES

        async def run() -> None:
            for n in sizes:
                hub = StorageHub(
                    storage.view(f"data:bench:{n}"), ManagementApi("bench.example", "prod")
                )
                for i in range(n):
                    peer: Any = types.SimpleNamespace(
                        id=f"conn-{n}-{i}", namespace="/ws/room", topics=set()
                    )
                    hub.subscribe(peer, "chat")
                await hub.flush()
                reads, publishes = [], []
                rounds = repeat if n < 1000 else max(1, repeat // 2)
                for _ in range(rounds):
                    start = time.perf_counter()
                    members = await hub.members("/ws/room", "chat")
                    reads.append(time.perf_counter() - start)
                    assert len(members) == n, (len(members), n)
                    start = time.perf_counter()
                    await hub.publish("/ws/room", "chat", '{"text":"hi"}')
                    publishes.append(time.perf_counter() - start)
                results["sizes"][str(n)] = {
                    "read_ms": statistics.median(reads) * 1000,
                    "publish_ms": statistics.median(publishes) * 1000,
                    "rounds": rounds,
                }

        asyncio.run(run())
        return results
    finally:
        moto.close()
        os.environ.clear()
        os.environ.update(saved)


# --- 2. warm, in process ---


def warm_invocations(workdir: Path, repeat: int, quick: bool) -> dict[str, Any]:
    python = bench_python()
    off = _build(workdir, "rt_off", {"websocket": False, "streaming": False})
    on = _build(workdir, "rt_on", {"websocket": True, "streaming": True})
    n = 500 if quick else 3000
    env = {**os.environ, "NITRO_DYNAMODB_TABLE": "bench-data"}
    figures = {
        "off: buffered (handler)": warm(python, "index", [str(off)], [], n, repeat, env),
        "on: buffered (handler)": warm(python, "index", [str(on)], [], n, repeat, env),
    }
    result = subprocess.run(
        [str(python), "-c", STREAM_WARM, str(on), json.dumps(EVENT), str(n), str(repeat)],
        capture_output=True,
        text=True,
        env=env,
    )
    if result.returncode != 0:
        raise BenchError(f"streamed warm run failed:\n{result.stderr[-2000:]}")
    figures["on: streamed (runtime loop's path)"] = json.loads(result.stdout.splitlines()[-1])
    return {name: statistics.median(rounds) for name, rounds in figures.items()}


# --- 3. end to end through a Runtime API ---


def end_to_end(workdir: Path, quick: bool) -> dict[str, Any]:
    from adapters.aws_lambda_runtime_api import RuntimeAPI, Streamed
    from adapters.test_aws_lambda import lambda_python

    python = lambda_python()  # awslambdaric
    off = _build(workdir, "e2e_off", {"streaming": False})
    on = _build(workdir, "e2e_on", {"streaming": True})
    n = 100 if quick else 400
    out: dict[str, Any] = {}
    # An HTTP API event (not a Function URL): the nitro loop answers it buffered, so
    # the two loops compare on the same answer.
    api_event = json.loads(json.dumps(EVENT))
    api_event["requestContext"]["domainName"] = "abcdefg.execute-api.us-east-1.amazonaws.com"
    wrapper = [str(on / "nitro-runtime"), str(python), "/var/runtime/bootstrap.py"]
    runs = {
        "awslambdaric, off (Function URL, buffered)": (
            off, [str(python), "-m", "awslambdaric", "index.handler"], EVENT,
        ),
        "nitro loop, on (HTTP API event, buffered)": (on, wrapper, api_event),
        "nitro loop, on (Function URL, streamed)": (on, wrapper, EVENT),
    }  # fmt: skip
    for name, (root, cmd, event) in runs.items():
        api = RuntimeAPI()
        env = {
            **os.environ,
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "LAMBDA_TASK_ROOT": str(root),
            "_HANDLER": "index.handler",
            "NITRO_DYNAMODB_TABLE": "bench-data",
        }
        with tempfile.TemporaryFile() as log:
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                first = api.invoke(event)
                cold = time.perf_counter() - started
                body = first.body if isinstance(first, Streamed) else first["body"].encode()
                if not body.endswith(b'{"hello":"world"}'):
                    raise BenchError(f"{name}: unexpected answer {first!r}")
                for _ in range(n // 5):
                    api.invoke(event)
                start = time.perf_counter()
                for _ in range(n):
                    api.invoke(event)
                per = (time.perf_counter() - start) / n
            finally:
                stop(proc)
                api.stop()
        out[name] = {"cold_ms": cold * 1000, "warm_us": per * 1e6}
    return out


def measure(workdir: Path, repeat: int, quick: bool) -> dict[str, Any]:
    return {
        "fanout": fanout(max(3, repeat), quick),
        "warm_us": warm_invocations(workdir, max(3, repeat), quick),
        "end_to_end": end_to_end(workdir, quick),
    }


def print_report(results: dict[str, Any]) -> None:
    fan = results["fanout"]
    report.section(
        "Lambda WebSockets: publish fan-out against moto",
        [
            f"one storage read + N post_to_connection, {fan['fanout']} at a time; "
            "moto on this (shared, busy) machine: compare how it scales",
        ],
    )
    rows = [
        [
            n,
            f"{f['read_ms']:.1f}",
            f"{f['publish_ms']:.1f}",
            f"{(f['publish_ms'] - f['read_ms']) / int(n) * 1000:.0f}",
        ]
        for n, f in fan["sizes"].items()
    ]
    print(report.table(["subscribers", "read ms", "publish ms", "us per post (wall)"], rows))
    report.section(
        "Lambda: warm invocation of a plain HTTP event, websocket+streaming off vs on",
        ["GET / -> {'hello': 'world'}, median us per invocation (busy machine)"],
    )
    warm_us = results["warm_us"]
    base = warm_us["off: buffered (handler)"]
    print(
        report.table(
            ["variant", "us", "vs off"],
            [[k, f"{v:.1f}", report.ratio(v / base)] for k, v in warm_us.items()],
        )
    )
    report.section(
        "Lambda: end to end through a local Runtime API",
        ["cold: process start to first answer; warm: per invocation, round trips included"],
    )
    e2e = results["end_to_end"]
    print(
        report.table(
            ["runtime loop", "cold ms", "warm us"],
            [[k, f"{v['cold_ms']:.0f}", f"{v['warm_us']:.0f}"] for k, v in e2e.items()],
        )
    )
