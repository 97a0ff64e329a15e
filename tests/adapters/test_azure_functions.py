"""The azure-functions preset: the built function_app.py driven as the Functions host
and worker drive it, with func.HttpRequest objects handed to the HTTP function that
app.get_functions() lists, on azure-functions 1.x (Python 3.11, in this process) and
2.x (Python 3.13, in a runner process). The host itself cannot be installed here
(reference: shared/reference/platforms.md 3.2), so nothing here runs `func start`.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from storage_drivers.backends.azure_blob import connection_string, require_azurite, start_azurite

from adapters.azure_functions_drivers import HOW_TO_GET, InProcess, Runner, ensure_venv
from adapters.builds import build_fixture, preview_server, tiny_project
from adapters.suite import Case, Reply, Request, cases, run_case
from nitro.presets.azure_functions.preset import timer_name

from helpers import nitro_cli, require_service

CRON = "0 0 1 1 *"  # the fixture's scheduled_tasks: cms:update
TIMER = timer_name(CRON)
BASE = "http://localhost:7071"  # what the host puts in func.HttpRequest.url


def _local_settings(root: Path) -> None:
    (root / "local.settings.json").write_text('{"Values": {"SECRET": "x"}}')


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root, result = build_fixture(tmp_path_factory, "azure-functions", prepare=_local_settings)
    assert "import-checking function_app.py" in result.stderr
    assert "app size:" in result.stderr
    return root


@pytest.fixture(scope="module")
def storage_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """AzureWebJobsStorage -> Azurite, when it can run (the storage case needs it)."""
    url = start_azurite(request.config)
    return {"AzureWebJobsStorage": connection_string(url)} if url else {}


def need_storage(env: dict[str, str], request: pytest.FixtureRequest) -> None:
    if not env:
        require_azurite(request.config)


@pytest.fixture(scope="module")
def v1(built: Path, storage_env: dict[str, str]) -> Iterator[InProcess]:
    saved_env, saved_path = dict(os.environ), list(sys.path)
    os.environ.update(storage_env)
    app = InProcess(built / ".output" / "server")
    try:
        yield app
    finally:
        app.close()
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path


@pytest.fixture(scope="module")
def v2(
    built: Path, storage_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runner]:
    server = built / ".output" / "server"
    python = ensure_venv(server / "requirements.txt")
    require_service(python is not None, "Python 3.13", HOW_TO_GET)
    assert python is not None
    log = tmp_path_factory.mktemp("logs") / "azure-v2.log"
    runner = Runner(python, server, storage_env, log)
    try:
        yield runner
    finally:
        assert runner.close() == 0, runner.logs()


def send_through(app: InProcess | Runner) -> Any:
    def send(request: Request) -> Reply:
        status, headers, body = app.http(
            request.method, BASE + request.path, list(request.headers), request.body
        )
        return Reply(status, headers, body)

    return send


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.id)
def test_conformance_v1(
    v1: InProcess, case: Case, storage_env: dict[str, str], request: pytest.FixtureRequest
) -> None:
    if case.id == "storage":
        need_storage(storage_env, request)
    run_case(case, send_through(v1))


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.id)
def test_conformance_v2(
    v2: Runner, case: Case, storage_env: dict[str, str], request: pytest.FixtureRequest
) -> None:
    if case.id == "storage":
        need_storage(storage_env, request)
    run_case(case, send_through(v2))


def test_v2_runs_azure_functions_2_on_python_3_13(v2: Runner) -> None:
    info = v2.call({"op": "info"})
    assert info["python"] == "3.13" and info["azure_functions"].startswith("2."), info


def check_bindings(bindings: dict[str, list[dict[str, Any]]]) -> None:
    assert set(bindings) == {"nitro_http", TIMER}
    trigger, output = bindings["nitro_http"]
    assert trigger["type"] == "httpTrigger" and trigger["route"] == "/{*route}"
    assert trigger["authLevel"] == "ANONYMOUS"
    assert {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} <= set(trigger["methods"])
    assert output == {"direction": "OUT", "type": "http", "name": "$return"}
    [timer] = bindings[TIMER]
    assert timer["type"] == "timerTrigger" and timer["name"] == "timer"
    assert timer["schedule"] == "0 0 0 1 1 *" and len(timer["schedule"].split()) == 6
    assert "runOnStartup" not in timer  # the host's default (false)


def test_bindings_v1(v1: InProcess) -> None:
    check_bindings(v1.host.bindings())


def test_bindings_v2(v2: Runner) -> None:
    check_bindings(v2.call({"op": "bindings"})["bindings"])


def test_functions_load_as_the_worker_loads_them(v1: InProcess) -> None:
    # The worker matches parameters to binding names, reads annotations with
    # typing.get_type_hints() and checks them against the binding's converter.
    from azure.functions.timer import TimerRequestConverter

    for name, function in v1.host.functions.items():
        user_function = function.get_user_function()
        assert inspect.iscoroutinefunction(user_function), name
        hints = typing.get_type_hints(user_function)
        params = set(inspect.signature(user_function).parameters) - {"context"}
        bound = {b["name"] for b in v1.host.bindings()[name] if b["name"] != "$return"}
        assert params == bound, name
        if not function.is_http_function():
            assert TimerRequestConverter.check_input_type_annotation(hints["timer"])


def test_output_layout(built: Path) -> None:
    server = built / ".output" / "server"
    assert json.loads((server / "host.json").read_text()) == {
        "version": "2.0",
        "extensionBundle": {
            "id": "Microsoft.Azure.Functions.ExtensionBundle",
            "version": "[4.*, 5.0.0)",
        },
        "extensions": {"http": {"routePrefix": ""}},
    }
    requirements = (server / "requirements.txt").read_text().splitlines()
    for needed in ("azure-functions", "fastapi", "starlette>=1.0", "azure-storage-blob>=12.19"):
        assert needed in requirements
    assert not any(r.startswith("nitro") for r in requirements)  # copied, not installed
    assert (server / "_vendor" / "nitro" / "adapters" / "azure_functions.py").is_file()
    assert not list(built.joinpath(".output").rglob("local.settings.json"))  # never shipped
    assert "local.settings.json" in (server / ".funcignore").read_text()
    manifest = json.loads((server / "manifest.json").read_text())
    assert manifest["preset"]["schedules"] == [
        {"cron": CRON, "tasks": ["cms:update"], "trigger": TIMER, "expression": "0 0 0 1 1 *"}
    ]
    assert manifest["preset"]["storage_defaults"]["data"]["driver"] == "azure-blob"
    info = json.loads((built / ".output" / "nitro.json").read_text())
    assert info["preset"] == "azure-functions"
    assert info["commands"]["deploy"] == (
        "cd .output/server && func azure functionapp publish fixture"
    )
    assert info["azure_functions"]["python"] == "3.12"


def test_lifespan_starts_the_app_once(v1: InProcess) -> None:
    nitro_app = v1.module.nitro_app
    v1.http("GET", BASE + "/api/hello", [], b"")
    assert v1.host.app.startup_task_done and nitro_app._started
    errors = nitro_app.state["errors"]  # made by the fixture's plugin at start-up
    for _ in range(3):
        assert v1.http("GET", BASE + "/errors/crash", [], b"")[0] == 500
    assert nitro_app.state["errors"] is errors and len(errors) >= 3  # same plugin run


def test_the_raw_path_is_rebuilt_from_the_decoded_one(v1: InProcess) -> None:
    # AsgiMiddleware hands the decoded path over as raw_path: "%25" must stay "%".
    status, _, body = v1.http("GET", BASE + "/files/100%25/a%20b", [], b"")
    assert status == 200 and json.loads(body) == {"path": "100%/a b"}


def test_a_timer_runs_every_task_of_its_cron(
    v1: InProcess,
    monkeypatch: pytest.MonkeyPatch,
    storage_env: dict[str, str],
    request: pytest.FixtureRequest,
) -> None:
    need_storage(storage_env, request)
    nitro_app = v1.module.nitro_app
    calls: list[tuple[str, Any]] = []
    run = nitro_app.tasks.run

    async def spy(name: str, payload: Any = None, context: Any = None) -> Any:
        calls.append((name, payload))
        return await run(name, payload, context)

    monkeypatch.setattr(nitro_app.tasks, "run", spy)
    before = json.loads(v1.http("GET", BASE + "/kv/cms:updates", [], b"")[2])["value"] or 0
    # With schedule monitoring, the host's ScheduleStatus.Next is the occurrence being run.
    v1.timer(TIMER, status={"Last": "2025-01-01T00:00:00+00:00", "Next": "2026-01-01T00:00:00"})
    assert calls == [("cms:update", {"scheduled_time": "2026-01-01T00:00:00+00:00"})]
    after = json.loads(v1.http("GET", BASE + "/kv/cms:updates", [], b"")[2])["value"]
    assert after == before + 1
    v1.timer(TIMER)  # no status (use_monitor off): now, rounded down to the tick
    scheduled = calls[-1][1]["scheduled_time"]
    assert scheduled.endswith("-01-01T00:00:00+00:00"), scheduled


def test_a_failing_timer_reports_and_raises(v1: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    from nitro.core.schedule import ScheduledTaskError
    from nitro.core.tasks import Task

    nitro_app = v1.module.nitro_app

    def boom(payload: Any, context: Any) -> None:
        raise LookupError("no such thing")

    nitro_app.tasks.add("boom", Task(boom))
    monkeypatch.setitem(nitro_app.tasks.schedule, CRON, ["boom"])
    # The schedule's rule, as on every platform: reported, then the invocation fails.
    with pytest.raises(ScheduledTaskError, match="boom: LookupError: no such thing"):
        v1.timer(TIMER)
    assert nitro_app.state["errors"][-1] == "LookupError"  # the fixture's error hook


def test_v2_timer(v2: Runner, storage_env: dict[str, str], request: pytest.FixtureRequest) -> None:
    need_storage(storage_env, request)
    url = BASE + "/kv/cms:updates"
    before = json.loads(v2.http("GET", url, [], b"")[2])["value"] or 0
    assert v2.call({"op": "timer", "name": TIMER, "past_due": True}) == {"ok": True}
    assert json.loads(v2.http("GET", url, [], b"")[2])["value"] == before + 1


def test_build_fails_naming_a_dependency_without_a_wheel(tmp_path: Path) -> None:
    root = tiny_project(tmp_path / "app")  # no pyproject.toml: requirements.txt is read
    (root / "requirements.txt").write_text("nitro-no-such-package-9f2c\n")
    result = nitro_cli("build", str(root), "--preset", "azure-functions")
    assert result.returncode == 1
    assert "no wheel of nitro-no-such-package-9f2c for Python 3.12" in result.stderr


def test_preview_serves_through_the_function_app(
    built: Path, tmp_path: Path, storage_env: dict[str, str]
) -> None:
    marker = tmp_path / "closed"
    server = preview_server(
        built, tmp_path / "preview.log", env={**storage_env, "FIXTURE_CLOSE_MARKER": str(marker)}
    )
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url) as client:
            hello = client.get("/api/hello")
            assert hello.json() == {"hello": "world"}
            assert hello.headers["x-fixture-hook"] == "1"
            cookies = client.get("/cookies", headers={"cookie": "visitor=v1; other=2"})
            assert len(cookies.headers.get_list("set-cookie")) == 3
            assert client.get("/status").headers["x-many"] == "a, b"
            assert client.post(f"/admin/functions/{TIMER}").status_code == (
                202 if storage_env else 500  # the task needs the data mount
            )
            assert client.post("/admin/functions/nope").status_code == 404
    finally:
        assert server.stop() == 0, server.logs()
    assert marker.read_text() == "closed"  # lifespan shutdown ran the close hooks


@pytest.mark.parametrize(
    ("cron", "now", "kwargs", "expected"),
    [
        ("*/5 * * * *", "12:05:00.300", {}, "12:05:00"),  # on time
        ("*/5 * * * *", "12:04:59.600", {}, "12:05:00"),  # fired early (clock skew)
        ("*/5 * * * *", "12:07:10", {}, "12:05:00"),  # late: the latest tick
        ("*/5 * * * *", "12:04:59.600", {"past_due": True}, "12:00:00"),  # missed: never ahead
        ("*/5 * * * *", "12:07:10", {"status": {"Next": "2026-03-01T11:55:00"}}, "11:55:00"),
        ("*/5 * * * *", "12:07:10", {"status": {"Next": "2026-03-01T12:10:00Z"}}, "12:05:00"),
        ("*/5 * * * *", "12:07:10", {"status": {"Next": "0001-01-01T00:00:00"}}, "12:05:00"),
        ("*/10 * * * * *", "12:00:09.900", {}, "12:00:10"),  # a seconds field
        ("* * * * * *", "12:00:00.700", {}, "12:00:00"),  # every second: tolerance 250 ms
        ("@hourly", "12:59:59.500", {}, "13:00:00"),
    ],
)
def test_scheduled_tick(cron: str, now: str, kwargs: dict[str, Any], expected: str) -> None:
    from datetime import datetime

    from nitro.adapters.azure_functions import scheduled_tick

    tick = scheduled_tick(cron, datetime.fromisoformat(f"2026-03-01T{now}+00:00"), **kwargs)
    assert tick.isoformat() == f"2026-03-01T{expected}+00:00"


def test_repeated_headers_are_folded_but_cookies_kept_apart() -> None:
    from nitro.adapters.azure_functions import fold_headers

    headers = [(b"X-A", b"1"), (b"set-cookie", b"a=1"), (b"x-a", b"2"), (b"set-cookie", b"b=2")]
    assert fold_headers(headers) == [
        (b"x-a", b"1, 2"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
    ]


def test_options_and_host_json(tmp_path: Path) -> None:
    from nitro.bundle.output import BuildError
    from nitro.presets.azure_functions.preset import _options, host_json

    assert _options({}, tmp_path) == {
        "python": "3.12",
        "app_name": tmp_path.name,
        "auth_level": "anonymous",
        "host": {},
    }
    with pytest.raises(BuildError, match="unknown option 'runtime'"):
        _options({"runtime": "python3.12"}, tmp_path)
    with pytest.raises(BuildError, match="auth_level 'public'"):
        _options({"auth_level": "public"}, tmp_path)
    host = host_json({"functionTimeout": "00:10:00", "extensions": {"queues": {"batchSize": 4}}})
    assert host["functionTimeout"] == "00:10:00"
    assert host["extensions"] == {"http": {"routePrefix": ""}, "queues": {"batchSize": 4}}
