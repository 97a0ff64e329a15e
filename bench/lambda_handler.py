"""Lambda: the built handler against a bare handler, Mangum+Starlette and Powertools.

Per-invocation time of a warm handler for one HTTP API v2 event (``GET /`` ->
``{"hello": "world"}``), the cold import time of each handler module in a fresh
interpreter, its cold start (that import plus the first invocation: work put off
from the import to the first request shows there), and the zip size of a hello
project built with ``--preset aws-lambda``.
Everything runs under the build's target Python (3.12) in a cached venv
(``~/.cache/nitro-bench/lambda-py312``: mangum, starlette, aws-lambda-powertools and
boto3). As on Lambda, the nitro handler sees its code root (vendored wheels inside),
then the runtime's boto3, and the environment a deploy gives it: its DynamoDB table
is named, so the `data` mount's driver is created at start, as in production.

Import times on a shared machine vary by a factor of two from day to day; where
valgrind is installed, the import is also counted in instructions (callgrind),
which does not vary, and the issue's targets are also shown scaled to this
machine (they were set where Mangum + Starlette took 60 ms and 36 us).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import projects
import report
from common import BENCH_DIR, BenchError

VENV = Path.home() / ".cache" / "nitro-bench" / "lambda-py312"
# boto3: what the Lambda runtime provides next to the code (nitro does not bundle it)
PACKAGES = ["mangum", "starlette", "aws-lambda-powertools", "boto3"]
TARGETS = {"warm_us": 30.0, "import_ms": 60.0, "zip_mb": 1.0}
# Mangum + Starlette where the targets were set: they are this, scaled to each machine.
REFERENCE = {"warm_us": 36.0, "import_ms": 60.0}
# What `nitro deploy aws` sets: the preset's `data` mount (DynamoDB) is created at start.
ENV = {**os.environ, "NITRO_DYNAMODB_TABLE": "bench-data"}

EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/",
    "rawQueryString": "",
    "headers": {
        "host": "abcdefg.lambda-url.us-east-1.on.aws",
        "accept": "*/*",
        "user-agent": "curl/8.5.0",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    },
    "requestContext": {
        "accountId": "anonymous",
        "apiId": "abcdefg",
        "domainName": "abcdefg.lambda-url.us-east-1.on.aws",
        "domainPrefix": "abcdefg",
        "http": {
            "method": "GET",
            "path": "/",
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.7",
            "userAgent": "curl/8.5.0",
        },
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "routeKey": "$default",
        "stage": "$default",
        "time": "01/Jan/2026:00:00:00 +0000",
        "timeEpoch": 1767225600000,
    },
    "isBase64Encoded": False,
}

# The compared handlers, each a module with `handler(event, context)`.
MODULES = {
    "bare_handler": """
import json

def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"hello": "world"}), "isBase64Encoded": False}
""",
    "mangum_handler": """
from mangum import Mangum
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def hello(request):
    return JSONResponse({"hello": "world"})

handler = Mangum(Starlette(routes=[Route("/", hello)]), lifespan="off")
""",
    "powertools_handler": """
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

app = APIGatewayHttpResolver()

@app.get("/")
def hello():
    return {"hello": "world"}

def handler(event, context):
    return app.resolve(event, context)
""",
}

# A Lambda context, and a check of the handler's answer (run in the target interpreter;
# no braces: the cold-start scripts go through str.format).
CONTEXT = """
class Context:
    function_name = "bench"; memory_limit_in_mb = "1024"; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    def get_remaining_time_in_millis(self): return 30000

def check(answer):
    assert answer["statusCode"] == 200 and json.loads(answer["body"]) == dict(hello="world"), answer
"""

# Imports MODULE from sys.argv, checks its answer, times REPEAT rounds of N
# invocations; prints JSON.
WARM = (
    """
import json, sys, time
sys.path[:0] = json.loads(sys.argv[3])
module = __import__(sys.argv[1])
handler, event, n = module.handler, json.loads(sys.argv[2]), int(sys.argv[4])
"""
    + CONTEXT
    + """
context = Context()
check(handler(event, context))
for _ in range(n // 5):
    handler(event, context)
rounds = []
for _ in range(int(sys.argv[5])):
    start = time.perf_counter()
    for _ in range(n):
        handler(event, context)
    rounds.append((time.perf_counter() - start) / n * 1e6)
print(json.dumps(rounds))
"""
)

# A cold start: the import, then the first invocation; prints both times (ms) as JSON.
COLD = (
    """
import json, sys, time
sys.path[:0] = {paths!r}
event = json.loads({event!r})
"""
    + CONTEXT
    + """
start = time.perf_counter()
import {module}
imported = time.perf_counter()
answer = {module}.handler(event, Context())
done = time.perf_counter()
check(answer)
print(json.dumps([(imported - start) * 1000, (done - start) * 1000]))
"""
)
# For counting: the same steps without timing. os._exit: interpreter teardown is
# not part of a cold start.
COUNTED = (
    """
import json, os, sys
sys.path[:0] = {paths!r}
event = json.loads({event!r})
"""
    + CONTEXT
    + """
{steps}
os._exit(0)
"""
)


def bench_python() -> Path:
    """Python 3.12 with the compared libraries, made once."""
    python = VENV / "bin" / "python"
    marker = VENV / ".nitro-ready"
    if python.exists() and marker.exists() and marker.read_text() == repr(PACKAGES):
        return python
    sys.path.insert(0, str(BENCH_DIR.parent))
    from nitro.bundle.vendor import find_python

    base = find_python("3.12")
    if base is None:
        raise BenchError("the lambda section needs Python 3.12 (pyenv install 3.12)")
    subprocess.run([base, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PACKAGES],
        check=True,
    )
    marker.write_text(repr(PACKAGES))
    return python


def build_hello(workdir: Path, kind: str = "async") -> Path:
    """The hello project with an `async def` or a `def` handler, built for aws-lambda."""
    project = projects.make_project(workdir / f"lambda_hello_{kind}", 1, kind)
    return projects.build(project, preset="aws-lambda").parent


def zip_sizes(archive: Path) -> dict[str, int]:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
    return {
        "zip_bytes": archive.stat().st_size,
        "bytecode_bytes": sum(i.compress_size for i in infos if i.filename.endswith(".pyc")),
        "unzipped_bytes": sum(i.file_size for i in infos),
    }


def variants(
    workdir: Path, output: Path, sync_output: Path, runtime: str
) -> dict[str, tuple[str, str, list[str], list[str]]]:
    """key -> (label, module, sys.path entries, interpreter flags); `runtime` is the
    directory of the packages the Lambda runtime provides (boto3); `output` and
    `sync_output` are the builds with an `async def` and a `def` handler."""
    modules = workdir / "lambda_modules"
    modules.mkdir(exist_ok=True)
    for name, source in MODULES.items():
        (modules / f"{name}.py").write_text(source)
    code_root = output / "server"
    return {
        "bare": ("bare Lambda handler", "bare_handler", [str(modules)], ["-B"]),
        "mangum": ("Mangum + Starlette", "mangum_handler", [str(modules)], ["-B"]),
        "powertools": (
            "Powertools APIGatewayHttpResolver",
            "powertools_handler",
            [str(modules)],
            ["-B"],
        ),
        # as on Lambda: the code root (vendored wheels inside), then the runtime's boto3
        "nitro": (
            "nitro async def (built, index.handler)",
            "index",
            [str(code_root), runtime],
            ["-B", "-I", "-S"],
        ),
        "nitro_def": (
            "nitro def (built, index.handler)",
            "index",
            [str(sync_output / "server"), runtime],
            ["-B", "-I", "-S"],
        ),
    }


def warm(
    python: Path,
    module: str,
    paths: list[str],
    flags: list[str],
    n: int,
    repeat: int,
    env: dict[str, str] | None = None,
) -> list[float]:
    """Microseconds per invocation, per round; `env` replaces the handler's environment
    (its stderr goes to a file: with JSON logs, a line per invocation)."""
    with tempfile.TemporaryFile() as errors:
        result = subprocess.run(
            [
                str(python),
                *flags,
                "-c",
                WARM,
                module,
                json.dumps(EVENT),
                json.dumps(paths),
                str(n),
                str(repeat),
            ],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=env or ENV,
        )
        if result.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            raise BenchError(f"{module}: warm run failed:\n{tail}")
    rounds: list[float] = json.loads(result.stdout.strip().splitlines()[-1])
    return rounds


def cold_start(
    python: Path, module: str, paths: list[str], flags: list[str]
) -> tuple[float, float]:
    """(import ms, import + first invocation ms) in a fresh interpreter."""
    code = COLD.format(paths=paths, module=module, event=json.dumps(EVENT))
    result = subprocess.run(
        [str(python), *flags, "-c", code], capture_output=True, text=True, env=ENV
    )
    if result.returncode != 0:
        raise BenchError(f"{module}: cold start failed:\n{result.stderr[-2000:]}")
    imported, first = json.loads(result.stdout.strip().splitlines()[-1])
    return imported, first


def instructions(python: Path, flags: list[str], code: str) -> int:
    """Instructions (callgrind) a fresh interpreter runs for `code`: unlike time, the
    same on a loaded machine."""
    callgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    result = subprocess.run(
        [*callgrind, str(python), *flags, "-c", code],
        capture_output=True,
        text=True,
        env=ENV,
    )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or found is None:
        raise BenchError(f"callgrind failed:\n{result.stderr[-2000:]}")
    return int(found.group(1))


def cold_instructions(
    python: Path, module: str, paths: list[str], flags: list[str]
) -> tuple[int, int]:
    """Instructions to import `module`, and to import it and invoke it once, less
    those of starting the interpreter and reading the event."""
    steps = ["", f"import {module}", f"import {module}\ncheck({module}.handler(event, Context()))"]
    base, imported, cold = (
        instructions(python, flags, COUNTED.format(paths=paths, event=json.dumps(EVENT), steps=s))
        for s in steps
    )
    return imported - base, cold - base


def measure(workdir: Path, runs: int, repeat: int, quick: bool) -> dict[str, Any]:
    report.section(
        "Lambda handler (HTTP API v2 event, GET / -> hello JSON; lower is better)",
        [
            "warm: us per invocation, best of the rounds, one fresh process per handler",
            f"import: ms to import the handler module in a fresh interpreter, median of {runs}",
            "all under Python 3.12 (the preset's default runtime)",
        ],
    )
    python = bench_python()
    output = build_hello(workdir)
    sync_output = build_hello(workdir, "def")
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    runtime = subprocess.run([str(python), "-c", purelib], capture_output=True, text=True)
    found = variants(workdir, output, sync_output, runtime.stdout.strip())
    n = 5_000 if quick else 20_000
    results: dict[str, Any] = {
        "settings": {"invocations": n, "rounds": repeat, "import_runs": runs}
    }
    results["zip"] = zip_sizes(output / "aws-lambda.zip")
    samples: dict[str, list[float]] = {key: [] for key in found}
    firsts: dict[str, list[float]] = {key: [] for key in found}
    for _, module, paths, flags in found.values():
        cold_start(python, module, paths, flags)  # warm-up: page cache
    # Interleaved, so drift hits every variant alike; every other round in reverse, so
    # no variant always runs right after the same one (a fixed order showed two
    # identical builds 4% apart).
    for run in range(runs):
        order = list(found.items())
        for key, (_, module, paths, flags) in order if run % 2 == 0 else reversed(order):
            imported, first = cold_start(python, module, paths, flags)
            samples[key].append(imported)
            firsts[key].append(first)
    results["variants"] = {}
    for key, (label, module, paths, flags) in found.items():
        rounds = warm(python, module, paths, flags, n, repeat)
        results["variants"][key] = {
            "label": label,
            "warm_us": min(rounds),
            "warm_rounds_us": rounds,
            "import_ms": statistics.median(samples[key]),
            "import_samples_ms": samples[key],
            "cold_ms": statistics.median(firsts[key]),
            "cold_samples_ms": firsts[key],
        }
        if shutil.which("valgrind"):
            imported, cold = cold_instructions(python, module, paths, flags)
            results["variants"][key]["import_minstr"] = imported / 1e6
            results["variants"][key]["cold_minstr"] = cold / 1e6
    code = "import importlib.metadata as m, json, sys; print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))"
    versions = subprocess.run([str(python), "-c", code, *PACKAGES], capture_output=True, text=True)
    results["packages"] = json.loads(versions.stdout or "{}")
    return results


def print_report(results: dict[str, Any]) -> None:
    variants_ = results["variants"]
    mangum = variants_["mangum"]
    counted = "import_minstr" in mangum
    columns = [("warm_us", "warm us"), ("import_ms", "import ms"), ("cold_ms", "cold ms")]
    if counted:
        columns += [("import_minstr", "import Minstr"), ("cold_minstr", "cold Minstr")]
    rows = [
        [v["label"]]
        + [cell for key, _ in columns
           for cell in (f"{v[key]:.1f}" if key.endswith("us") else f"{v[key]:.0f}"
                        if key.endswith("minstr") else f"{v[key]:.1f}",
                        report.ratio(v[key] / mangum[key]))]
        for v in variants_.values()
    ]  # fmt: skip
    headers = ["handler"] + [h for _, name in columns for h in (name, "vs Mangum")]
    print(report.table(headers, rows, text_columns=1))
    print("  cold: the import and the first invocation, as a cold start runs them")
    if not counted:
        print("  (install valgrind to count import instructions too: they do not vary with load)")
    sizes = results["zip"]
    nitro = variants_["nitro"]
    mb = 1024 * 1024
    print()
    print(
        f"  hello project zip: {sizes['zip_bytes'] / mb:.2f} MB "
        f"({sizes['bytecode_bytes'] / mb:.2f} MB of it precompiled bytecode), "
        f"{sizes['unzipped_bytes'] / mb:.2f} MB unzipped"
    )
    checks = [
        ("warm", nitro["warm_us"], TARGETS["warm_us"], "us"),
        ("import", nitro["import_ms"], TARGETS["import_ms"], "ms"),
        ("zip", sizes["zip_bytes"] / mb, TARGETS["zip_mb"], "MB"),
    ]
    for name, value, target, unit in checks:
        verdict = "ok" if value <= target else f"over by {value - target:.1f} {unit}"
        print(f"  target {name} <= {target:g} {unit}: {value:.1f} {unit}, {verdict}")
    for key, name, unit in (("warm_us", "warm", "us"), ("import_ms", "import", "ms")):
        scaled = TARGETS[key] * mangum[key] / REFERENCE[key]
        verdict = "ok" if nitro[key] <= scaled else f"over by {nitro[key] - scaled:.1f} {unit}"
        print(
            f"  target {name} scaled to this machine (Mangum + Starlette here: "
            f"{mangum[key]:.1f} {unit}, there: {REFERENCE[key]:g}): <= {scaled:.1f} {unit}, {verdict}"
        )
    sync = variants_.get("nitro_def")
    if sync is not None:  # issue 15: `def` handlers as fast as `async def` ones
        checks15 = [
            ("warm, def / async def", sync["warm_us"] / nitro["warm_us"], 1.1),
            ("warm, async def / Mangum", nitro["warm_us"] / mangum["warm_us"], 0.6),
            ("warm, def / Mangum", sync["warm_us"] / mangum["warm_us"], 0.6),
            ("cold, async def / Mangum", nitro["cold_ms"] / mangum["cold_ms"], 0.8),
            ("cold, def / Mangum", sync["cold_ms"] / mangum["cold_ms"], 0.8),
        ]
        if "cold_minstr" in sync:
            checks15 += [
                (
                    "cold counted, async def / Mangum",
                    nitro["cold_minstr"] / mangum["cold_minstr"],
                    0.8,
                ),
                ("cold counted, def / Mangum", sync["cold_minstr"] / mangum["cold_minstr"], 0.8),
            ]
        for name, ratio, target in checks15:
            verdict = "ok" if ratio <= target else "over"
            print(f"  target {name} <= {target:g}x: {ratio:.2f}x, {verdict}")
    print("  packages: " + ", ".join(f"{k} {v}" for k, v in results.get("packages", {}).items()))
