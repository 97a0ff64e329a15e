"""``NITRO_LOG_FORMAT=json`` (issue 21): every ``nitro`` log line and the access log are
JSON objects with `time`, `level`, `message`, `request_id`, `method`, `path`, `status`,
`duration_ms` and, for errors, the exception; through a built server (uvicorn, and
granian with two workers: the engine's own lines are JSON too) and a built Lambda function run by awslambdaric, Lambda's
runtime client (each line once, with the invocation's request id)."""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from adapters.builds import tiny_project

from nitro import NitroApp, define_handler
from nitro.testing import TestClient

from helpers import ServerProcess, free_port, nitro_cli

ROUTES = {
    "index.py": (
        "import logging\n\nlog = logging.getLogger('nitro.shop')\n\n\n"
        "def handler(event):\n    log.info('hello from %s', 'shop', extra={'user': 'ada'})\n"
        "    return {'id': event.context.request_id}\n"
    ),
    "boom.py": "def handler(event):\n    raise ValueError('boom')\n",
}
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def project(root: Path, config: str = "") -> Path:
    tiny_project(root, config=config)
    for name, source in ROUTES.items():
        (root / "routes" / name).write_text(source)
    return root


def parsed(text: str) -> list[dict[str, Any]]:
    """Every line of `text` as JSON (a line that is not fails the test)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def check_request_lines(found: list[dict[str, Any]], ok_id: str, boom_id: str) -> None:
    by_id = {}
    for line in found:
        if "request_id" in line:
            by_id.setdefault(line["request_id"], []).append(line)
        assert TIME.fullmatch(line["time"]) and line["level"] in ("INFO", "WARNING", "ERROR")
    hello, access = by_id[ok_id]
    assert hello == {
        "time": hello["time"],
        "level": "INFO",
        "logger": "nitro.shop",
        "message": "hello from shop",
        "request_id": ok_id,
        "method": "GET",
        "path": "/?from=test",
        "user": "ada",
    }
    assert access["logger"] == "nitro.access" and access["message"].startswith(
        "GET /?from=test 200 "
    )
    assert (access["method"], access["path"], access["status"]) == ("GET", "/?from=test", 200)
    assert isinstance(access["duration_ms"], float) and access["duration_ms"] >= 0
    error, failed = by_id[boom_id]
    assert (error["level"], error["error"], error["path"]) == ("ERROR", "ValueError", "/boom")
    assert error["exception"].startswith("Traceback (most recent call last):")
    assert error["exception"].endswith("ValueError: boom")
    assert (failed["logger"], failed["status"]) == ("nitro.access", 500)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("server", "engine_logger"),
    [(None, "uvicorn.error"), ({"engine": "granian", "workers": 2}, "_granian")],
    ids=["uvicorn", "granian-2-workers"],
)
def test_a_built_server_writes_every_line_as_json(
    tmp_path: Path, server: dict[str, Any] | None, engine_logger: str
) -> None:
    root = project(tmp_path / "shop", f"server={server!r}" if server else "")
    result = nitro_cli("build", str(root))
    assert result.returncode == 0, result.stderr
    process = ServerProcess(
        [sys.executable, ".output/server/index.py"],
        cwd=root,
        port=free_port(),
        env={"NITRO_LOG_FORMAT": "json"},
        log=tmp_path / "server.log",
    )
    try:
        process.wait_ready(path="/missing")
        ok = httpx.get(process.url + "/?from=test")
        boom = httpx.get(process.url + "/boom")
    finally:
        assert process.stop() == 0
    assert ok.json()["id"] == ok.headers["x-request-id"]
    found = parsed(process.logs())  # the engine's start and stop lines included
    assert any(line["logger"] == engine_logger for line in found)
    check_request_lines(found, ok.headers["x-request-id"], boom.headers["x-request-id"])


def http_event(target: str) -> dict[str, Any]:
    path, _, query = target.partition("?")
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "abc.lambda-url.us-east-1.on.aws", "x-forwarded-proto": "https"},
        "requestContext": {
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
            "domainName": "abc.lambda-url.us-east-1.on.aws",
        },
        "isBase64Encoded": False,
    }


@pytest.mark.slow
def test_a_lambda_function_writes_each_line_once_as_json_with_the_invocation_id(
    tmp_path: Path,
) -> None:
    from adapters.test_aws_lambda import Runtime, lambda_python

    lambda_python()
    root = project(tmp_path / "shop")
    result = nitro_cli("build", str(root), "--preset", "aws-lambda", timeout=600)
    assert result.returncode == 0, result.stderr
    task_root = tmp_path / "task"
    with zipfile.ZipFile(root / ".output" / "aws-lambda.zip") as archive:
        archive.extractall(task_root)
    runtime = Runtime(task_root, {"NITRO_LOG_FORMAT": "json"}, tmp_path / "runtime.log")
    ok_id, boom_id = "11111111-2222-4333-8444-555555555555", "66666666-7777-4888-9999-000000000000"
    try:
        ok = runtime.api.invoke(http_event("/?from=test"), request_id=ok_id)
        boom = runtime.api.invoke(http_event("/boom"), request_id=boom_id)
    finally:
        runtime.stop()
    assert json.loads(ok["body"]) == {"id": ok_id}
    assert ok["headers"]["x-request-id"] == ok_id and boom["headers"]["x-request-id"] == boom_id
    text = runtime.log.read_text()
    mentions = [line for line in text.splitlines() if ok_id in line or boom_id in line]
    found = parsed("\n".join(mentions))  # Lambda's own handler adds no second, text copy
    check_request_lines(found, ok_id, boom_id)
    assert len(found) == 4


def test_json_lines_carry_fields_given_with_extra_and_keep_values_json_can_hold(
    monkeypatch: pytest.MonkeyPatch, nitro_log: io.StringIO
) -> None:
    import logging

    from nitro.core.observe.logs import JsonFormatter

    record = logging.makeLogRecord(
        {
            "name": "nitro",
            "levelname": "WARNING",
            "msg": "x %s",
            "args": ("y",),
            "user": {"id": 1},
            "when": Path("/tmp"),
            "status": 201,
        }
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "x y" and line["user"] == {"id": 1} and line["when"] == "/tmp"
    assert line["status"] == 201 and "request_id" not in line
    assert list(line)[:4] == ["time", "level", "logger", "message"]


@pytest.mark.anyio
async def test_without_json_logs_nothing_changes(
    monkeypatch: pytest.MonkeyPatch, nitro_log: io.StringIO
) -> None:
    import logging

    monkeypatch.delenv("NITRO_LOG_FORMAT", raising=False)
    logging.getLogger("nitro").setLevel(logging.INFO)
    app = NitroApp(log_requests=True)
    app.add_route("/", define_handler(lambda event: "hi"))
    async with TestClient(app) as client:
        answer = await client.get("/")
    assert app.observer is None and "x-request-id" not in answer.headers
    assert re.fullmatch(r"GET / 200 \d+\.\dms\n", nitro_log.getvalue())
