"""The aws-lambda preset: tests/fixture built, then every conformance case through
the built ``index.handler``, called directly with each HTTP event shape (REST v1,
HTTP API v2, Function URL, ALB with and without multi-value headers) and run by
AWS's own runtime client (awslambdaric) against a local Runtime API; tasks,
schedules and SQS; `nitro preview`. The ``data`` mount is DynamoDB on moto.

The built code's wheels are for Python 3.12 (the preset's default runtime), so the
handler runs in a cached Python 3.12 venv (``~/.cache/nitro-tests/lambda-py312``:
awslambdaric, and boto3 as every Lambda runtime has it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from storage_drivers.backends._moto import moto

from adapters import aws_lambda_events as events
from adapters.aws_lambda_runtime_api import InvocationError, RuntimeAPI
from adapters.builds import build_fixture, preview_server, tiny_project
from adapters.suite import Case, Reply, Request, cases, run_case, run_case_over_http

from helpers import REPO, ServerProcess, nitro_cli, require_service

pytestmark = pytest.mark.slow

VENV = Path.home() / ".cache" / "nitro-tests" / "lambda-py312"
VENV_PACKAGES = ["awslambdaric>=3", "boto3"]
HERE = Path(__file__).resolve().parent
CASES = cases()  # once: the storage case's key is fresh per session
# ALB without multi-value headers sends one value per query name (the last): the
# query case cannot pass through it, on AWS either.
SINGLE_VALUE_GAPS = {("alb-single", "query")}


def lambda_python() -> Path:
    """Python 3.12 with awslambdaric and boto3, made on first use."""
    python = VENV / "bin" / "python"
    marker = VENV / ".nitro-ready"
    if python.exists() and marker.exists() and marker.read_text() == repr(VENV_PACKAGES):
        return python
    sys.path.insert(0, str(REPO))
    from nitro.bundle.vendor import find_python

    base = find_python("3.12")
    require_service(base is not None, "Python 3.12", "pyenv install 3.12")
    assert base is not None
    subprocess.run([base, "-m", "venv", "--clear", str(VENV)], check=True, timeout=300)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *VENV_PACKAGES],
        check=True,
        timeout=600,
    )
    marker.write_text(repr(VENV_PACKAGES))
    return python


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lambda_python()  # the build import-checks with Python 3.12 when there is one
    root, result = build_fixture(tmp_path_factory, "aws-lambda", timeout=600)
    assert "import-checking index.py with Python 3.12" in result.stderr
    (root.parent / "build.log").write_text(result.stderr)
    return root


@pytest.fixture(scope="module")
def aws_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """A DynamoDB table on moto, and the environment that makes the handler use it."""
    server = moto(request)
    table = f"nitro-data-{uuid.uuid4().hex[:8]}"
    server.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return {
        "NITRO_DYNAMODB_TABLE": table,
        "AWS_ENDPOINT_URL": server.url,
        "AWS_ACCESS_KEY_ID": server.access_key_id,
        "AWS_SECRET_ACCESS_KEY": server.secret_access_key,
        "AWS_DEFAULT_REGION": server.region,
        "AWS_REGION": server.region,
    }


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


class Invoker:
    """The built handler called directly, in a Python 3.12 process (one event a line)."""

    def __init__(self, code_root: Path, env: dict[str, str], log: Path) -> None:
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [str(lambda_python()), str(HERE / "aws_lambda_invoker.py"), str(code_root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=_env(env),
            text=True,
        )
        self.log = log

    def __call__(self, event: dict[str, Any]) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(event) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the invoker exited:\n{self.log.read_text()[-3000:]}"
        answer = json.loads(line)
        if "error" in answer:
            raise InvocationError({"errorType": "Error", "errorMessage": answer["error"]})
        return answer["ok"]

    def stop(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(30)
        self.process.stdout.close()
        self._log.close()


@pytest.fixture(scope="module")
def invoke(
    built: Path, aws_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Invoker]:
    invoker = Invoker(
        built / ".output" / "server", aws_env, tmp_path_factory.mktemp("logs") / "invoker.log"
    )
    yield invoker
    invoker.stop()


class Runtime:
    """The built zip, unzipped and run by ``python -m awslambdaric index.handler``."""

    def __init__(self, task_root: Path, env: dict[str, str], log: Path) -> None:
        self.api = RuntimeAPI()
        self.log = log
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [str(lambda_python()), "-m", "awslambdaric", "index.handler"],
            cwd=task_root,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=_env(
                {
                    **env,
                    "AWS_LAMBDA_RUNTIME_API": self.api.address,
                    "AWS_LAMBDA_FUNCTION_NAME": "fixture-prod",
                    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
                    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fixture-prod",
                    "AWS_LAMBDA_LOG_STREAM_NAME": "tests",
                    "LAMBDA_TASK_ROOT": str(task_root),
                    "_HANDLER": "index.handler",
                }
            ),
        )

    def invoke(self, event: Any) -> Any:
        if self.process.poll() is not None:
            raise AssertionError(f"awslambdaric exited:\n{self.log.read_text()[-3000:]}")
        return self.api.invoke(event)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.api.stop()
        self._log.close()


@pytest.fixture(scope="module")
def runtime(
    built: Path, aws_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    task_root = tmp_path_factory.mktemp("var-task")
    with zipfile.ZipFile(built / ".output" / "aws-lambda.zip") as archive:
        archive.extractall(task_root)
    running = Runtime(task_root, aws_env, tmp_path_factory.mktemp("logs") / "awslambdaric.log")
    yield running
    running.stop()


# --- the build ---


def test_build_output(built: Path) -> None:
    out = built / ".output"
    with zipfile.ZipFile(out / "aws-lambda.zip") as archive:
        names = set(archive.namelist())
    assert "index.py" in names and "manifest.json" in names  # handler index.handler at the root
    assert "_vendor/nitro/adapters/aws_lambda.py" in names
    assert "app/routes/echo.post.py" in names and "public/hello.txt" in names
    assert any(n.startswith("_vendor/fastapi/") for n in names)  # the project's dependency
    assert any(n.startswith("_vendor/croniter/") for n in names)  # scheduled_tasks checks
    assert not any(
        n.split("/")[1] in ("boto3", "botocore", "s3transfer", "jmespath")
        for n in names
        if n.startswith("_vendor/")
    )
    # Bytecode for what a cold start imports and for the project's code; the rest ships
    # as source. No build-only nitro code, no other platform's adapter.
    compiled = {n for n in names if n.endswith(".cpython-312.pyc")}
    assert "_vendor/nitro/core/__pycache__/app.cpython-312.pyc" in compiled
    assert "_vendor/starlette/__pycache__/responses.cpython-312.pyc" in compiled
    assert "app/routes/__pycache__/echo.post.cpython-312.pyc" in compiled
    # The `data` mount's driver is created at start once deployed (the build, without
    # the table's name, does not create it): a cold start must not compile it.
    for module in ("dynamodb", "_aws"):
        assert f"_vendor/nitro/storage_drivers/__pycache__/{module}.cpython-312.pyc" in compiled
    assert "_vendor/nitro/storage_drivers/redis.py" in names
    assert "_vendor/nitro/storage_drivers/__pycache__/redis.cpython-312.pyc" not in compiled
    assert not any(n.startswith(("_vendor/nitro/cli/", "_vendor/nitro/bundle/")) for n in names)
    shipped_presets = {
        n for n in names if n.startswith("_vendor/nitro/presets/") and "__pycache__" not in n
    }
    assert shipped_presets == {  # only the entry module index.py runs
        "_vendor/nitro/presets/__init__.py",
        "_vendor/nitro/presets/aws_lambda/__init__.py",
        "_vendor/nitro/presets/aws_lambda/entry.py",
    }
    assert "_vendor/nitro/adapters/vercel.py" not in names

    manifest = json.loads((out / "server" / "manifest.json").read_text())
    record = manifest["preset"]
    assert record["name"] == "aws-lambda"
    assert record["storage_defaults"] == {
        "data": {"driver": "dynamodb", "table": "{{NITRO_DYNAMODB_TABLE}}"}
    }
    assert record["sync_to_thread"] is False and record["serverless"] is True
    [schedule] = record["schedules"]
    assert schedule["cron"] == "0 0 1 1 *" and schedule["tasks"] == ["cms:update"]
    assert schedule["expression"] == "cron(0 0 1 1 ? *)"
    assert schedule["trigger"].startswith("-cron-")

    template = yaml.safe_load((out / "template.yaml").read_text())
    function = template["Resources"]["NitroFunction"]["Properties"]
    assert function["Handler"] == "index.handler" and function["CodeUri"] == "aws-lambda.zip"
    assert function["Runtime"] == "python3.12" and function["Architectures"] == ["x86_64"]
    assert function["Environment"]["Variables"]["NITRO_DYNAMODB_TABLE"] == {"Ref": "NitroData"}
    table = template["Resources"]["NitroData"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    rule = template["Resources"]["NitroCron0"]["Properties"]
    assert rule["ScheduleExpression"] == "cron(0 0 1 1 ? *)"
    assert [json.loads(t["Input"]) for t in rule["Targets"]] == [
        {"nitro:task": "cms:update", "nitro:cron": "0 0 1 1 *"}
    ]

    info = json.loads((out / "nitro.json").read_text())
    assert info["preset"] == "aws-lambda"
    assert info["aws_lambda"]["handler"] == "index.handler"
    assert info["aws_lambda"]["zip_size"] < 50 * 1024 * 1024
    assert info["commands"]["deploy"].startswith("sam deploy --template-file .output/template.yaml")


def test_build_reports_the_zip_size_against_the_limits(built: Path) -> None:
    log = (built.parent / "build.log").read_text()
    assert "zipped (limit 50.0 MB)" in log and "unzipped (limit 250.0 MB)" in log


def test_unknown_option_fails_the_build(tmp_path: Path) -> None:
    root = tiny_project(tmp_path / "app", config="aws_lambda={'memroy': 512}")
    result = nitro_cli("build", str(root), "--preset", "aws-lambda")
    assert result.returncode == 1
    assert "aws_lambda: unknown option 'memroy'" in result.stderr


# --- every case, every HTTP event shape, the handler called directly ---


@pytest.mark.parametrize(
    ("shape", "case"),
    [
        pytest.param(shape, case, id=f"{case.id}-{shape}")
        for case in CASES
        for shape in events.SHAPES
        if (shape, case.id) not in SINGLE_VALUE_GAPS  # covered by the test below
    ],
)
def test_conformance_in_process(invoke: Invoker, shape: str, case: Case) -> None:
    build = events.SHAPES[shape]

    def send(request: Request) -> Reply:
        event = build(request)
        return events.reply(event, invoke(event))

    run_case(case, send)


def test_alb_without_multi_value_headers_keeps_the_last_query_value(invoke: Invoker) -> None:
    event = events.SHAPES["alb-single"](Request("GET", "/query?tag=a&tag=b&page=2"))
    assert event["queryStringParameters"] == {"tag": "b", "page": "2"}  # what ALB sends
    reply = events.reply(event, invoke(event))
    assert reply.json() == {"query": {"tag": "b", "page": "2"}, "validated": {"page": 2}}


def test_binary_bodies_are_base64_both_ways(invoke: Invoker) -> None:
    request = Request(
        "POST", "/raw", (("content-type", "application/octet-stream"),), bytes(range(256))
    )
    for shape, build in events.SHAPES.items():
        event = build(request)
        assert event["isBase64Encoded"] is True, shape
        answer = invoke(event)
        assert answer["isBase64Encoded"] is True, shape
        assert events.reply(event, answer).body == bytes(range(256)), shape


def test_cookies_go_out_as_each_shape_requires(invoke: Invoker) -> None:
    request = Request("GET", "/cookies", (("cookie", "visitor=v1; other=2"),))
    v2 = invoke(events.function_url(request))
    assert len(v2["cookies"]) == 3 and "set-cookie" not in v2["headers"]
    v1 = invoke(events.rest_v1(request))
    assert len(v1["multiValueHeaders"]["set-cookie"]) == 3
    single = invoke(events.alb_single(request))
    spellings = [k for k in single["headers"] if k.lower() == "set-cookie"]
    assert len(spellings) == 3  # set-cookie, Set-cookie, sEt-cookie: ALB sends each
    assert single["statusDescription"] == "200 OK"


def test_a_session_cookie_behind_api_gateway_is_secure(invoke: Invoker) -> None:
    # The app sees https (X-Forwarded-Proto), so the session cookie is Secure.
    for shape, build in events.SHAPES.items():
        reply = events.reply(event := build(Request("GET", "/session")), invoke(event))
        (cookie,) = reply.all("set-cookie")
        assert cookie.startswith("nitro=n1.") and "; Secure" in cookie, (shape, cookie)


# --- tasks, schedules and SQS through the built handler ---


def test_task_event_returns_its_result(invoke: Invoker) -> None:
    answer = invoke(events.task_event("db:migrate", {"dry": True}))
    assert answer == {"result": {"migrated": True, "payload": {"dry": True}}}


def test_rule_input_runs_the_task_as_scheduled(invoke: Invoker) -> None:
    answer = invoke(events.task_event("cms:update", cron="0 0 1 1 *"))  # a rule target's Input
    scheduled = answer["result"]["scheduled_time"]
    assert scheduled.endswith("-01-01T00:00:00+00:00")  # the cron's latest tick, UTC


def test_scheduled_event_runs_the_rules_tasks(invoke: Invoker, built: Path) -> None:
    sys.path.insert(0, str(REPO))
    from nitro.presets.aws_lambda.preset import rule_name

    rule = rule_name("fixture-prod", "0 0 1 1 *")
    answer = invoke(events.scheduled_event(rule, "2026-01-01T00:00:00Z"))
    [(task, result)] = answer["result"].items()
    assert task == "cms:update"
    assert result["scheduled_time"] == "2026-01-01T00:00:00+00:00"
    with pytest.raises(InvocationError, match="no schedule of this build"):
        invoke(events.scheduled_event("someone-elses-rule"))


def test_sqs_reports_failed_records(invoke: Invoker) -> None:
    bodies = [
        json.dumps({"nitro:task": "db:migrate", "payload": {"n": 1}}),
        "not json",
        json.dumps({"nitro:task": "no:such-task"}),
        json.dumps({"payload": {}}),
        json.dumps({"nitro:task": "db:migrate", "payload": {"n": 2}}),
    ]
    answer = invoke(events.sqs_event(bodies))
    assert answer == {"batchItemFailures": [{"itemIdentifier": f"msg-{i}"} for i in (1, 2, 3)]}


def test_unknown_events_fail_with_what_is_supported(invoke: Invoker) -> None:
    with pytest.raises(InvocationError, match="unsupported event"):
        invoke({"hello": "world"})
    with pytest.raises(InvocationError, match="not found"):
        invoke(events.task_event("no:such-task", {}))


# --- AWS's runtime client running the zip ---


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_conformance_awslambdaric(runtime: Runtime, case: Case) -> None:
    def send(request: Request) -> Reply:
        event = events.http_v2(request)
        return events.reply(event, runtime.invoke(event))

    run_case(case, send)


def test_awslambdaric_tasks_schedules_and_sqs(runtime: Runtime) -> None:
    assert runtime.invoke(events.task_event("db:migrate", {"via": "ric"})) == {
        "result": {"migrated": True, "payload": {"via": "ric"}}
    }
    sqs = events.sqs_event([json.dumps({"nitro:task": "db:migrate"}), "{}"])
    assert runtime.invoke(sqs) == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    with pytest.raises(InvocationError) as failed:
        runtime.invoke({"unknown": True})
    assert failed.value.payload["errorType"] == "UnsupportedEventError"
    assert runtime.api.init_errors == []


# --- nitro preview ---


@pytest.fixture(scope="module")
def preview(
    built: Path, aws_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    # The data mount on DynamoDB: boto3 comes from this environment, as Lambda has it.
    server = preview_server(built, tmp_path_factory.mktemp("logs") / "preview.log", aws_env)
    try:
        server.wait_ready()
        yield server
    finally:
        assert server.stop(signal.SIGTERM) == 0, server.logs()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_preview_serves_through_the_handler(preview: ServerProcess, case: Case) -> None:
    assert "each request runs index.handler" in preview.logs()
    run_case_over_http(case, preview.url)


def test_a_package_over_the_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over the direct-upload limit the build says to deploy through S3; over the
    unzipped limit (which S3 does not lift) it fails."""
    from nitro.bundle.output import BuildError
    from nitro.config import load_config
    from nitro.presets import BuildContext
    from nitro.presets.aws_lambda import package as aws_lambda_package
    from nitro.presets.aws_lambda import preset as aws_lambda
    from nitro.runtime.scan import scan_project

    root = tiny_project(tmp_path / "tiny", [])
    monkeypatch.setattr(aws_lambda_package, "ZIP_LIMIT", 100_000)
    out = root / ".output"
    out.mkdir()
    logged: list[str] = []
    context = BuildContext(
        root=root,
        config=load_config(root),
        manifest=scan_project(root),
        out=out,
        log=logged.append,
    )
    aws_lambda.build(context)
    assert "over 0.1 MB zipped: deploy through S3 (nitro deploy aws does)" in logged
    monkeypatch.setattr(aws_lambda_package, "UNZIPPED_LIMIT", 200_000)
    context.manifest = scan_project(root)
    with pytest.raises(BuildError, match=r"too big for Lambda: .* unzipped \(limit 0\.2 MB\)"):
        aws_lambda.build(context)


def test_arm64_builds_vendor_aarch64_wheels(tmp_path: Path) -> None:
    root = tiny_project(tmp_path / "arm", ["pydantic-core"], "aws_lambda={'architecture': 'arm64'}")
    result = nitro_cli("build", str(root), "--preset", "aws-lambda", timeout=600)
    assert result.returncode == 0, result.stderr
    assert "not import-checked: this machine is not aarch64" in result.stderr
    binaries = list((root / ".output" / "server" / "_vendor" / "pydantic_core").glob("*.so"))
    assert binaries and all("aarch64" in b.name for b in binaries)
    template = yaml.safe_load((root / ".output" / "template.yaml").read_text())
    assert template["Resources"]["NitroFunction"]["Properties"]["Architectures"] == ["arm64"]


# --- sync handlers: inline, no thread, no anyio (issue 15) ---

THREAD_PROBE = r"""
import importlib, json, os, sys, threading
started = []
original = threading.Thread.start
def counting_start(self):
    started.append(self.name)
    return original(self)
threading.Thread.start = counting_start
sys.path.insert(0, sys.argv[1])
handler = importlib.import_module("index").handler
event = json.loads(sys.argv[2])
imported = set(sys.modules)
answers = [handler(event, None)]
first_imports = sorted(set(sys.modules) - imported)
answers += [handler(event, None) for _ in range(199)]
print(json.dumps({
    "bodies": sorted({a["body"] for a in answers}),
    "anyio": sorted(m for m in sys.modules if m == "anyio" or m.startswith("anyio.")),
    "threads_started": started,
    "threads_alive": threading.active_count(),
    # what the first invocation imported besides the project's route module
    "first_imports": [m for m in first_imports if not m.startswith("_nitro_project_")],
    # run with -B: a module without its .pyc was compiled from source, as it would be
    # on every cold start (Lambda's code root is read-only)
    "compiled": sorted(
        name
        for name, module in list(sys.modules.items())
        if (getattr(module, "__file__", None) or "").startswith(sys.argv[1])
        and not os.path.exists(module.__cached__)
    ),
}))
"""


@pytest.mark.parametrize("sync_to_thread", [None, True])
def test_a_sync_handler_runs_inline_with_no_thread_and_no_anyio(
    tmp_path: Path, sync_to_thread: bool | None
) -> None:
    """What Lambda runs: one request at a time, so by default a `def` handler runs on
    the handler's thread; 200 invocations start no thread and never import anyio. With
    ``sync_to_thread=True`` it runs on one worker thread, reused by every invocation
    (anyio's started a thread per invocation: each is its own run_until_complete).
    Every module a cold start and its first request load has bytecode in the zip, and
    the app starts at import (Lambda's init phase): the first invocation imports only
    the route's module."""
    config = "" if sync_to_thread is None else f"sync_to_thread={sync_to_thread}"
    root = tiny_project(tmp_path / "app", config=config)
    (root / "routes" / "users").mkdir()
    (root / "routes" / "users" / "[id].py").write_text(
        "from nitro import use_event\n\n"
        "def handler(event):\n"
        "    assert use_event() is event\n"
        "    return {'id': event.params['id']}\n"
    )
    lambda_python()
    result = nitro_cli("build", str(root), "--preset", "aws-lambda", timeout=600)
    assert result.returncode == 0, result.stderr
    event = events.http_v2(Request("GET", "/users/7"))
    probe = subprocess.run(
        [
            str(lambda_python()),
            "-B",
            "-c",
            THREAD_PROBE,
            str(root / ".output" / "server"),
            json.dumps(event),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env({}),
    )
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen["bodies"] == ['{"id":"7"}']
    assert seen["compiled"] == []
    assert seen["first_imports"] == []
    if sync_to_thread is None:
        assert seen == {**seen, "anyio": [], "threads_started": [], "threads_alive": 1}
    else:
        assert seen == {**seen, "anyio": [], "threads_started": ["nitro-sync"], "threads_alive": 2}
