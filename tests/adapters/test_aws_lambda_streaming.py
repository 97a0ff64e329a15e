"""Streamed responses on Lambda: examples/chat (``aws_lambda={"streaming": True}``)
built, its zip unzipped, and started as Lambda starts it with an exec wrapper
(``nitro-runtime`` with the runtime's Python as its argument) against a local
Runtime API that reads each streamed chunk as it arrives
(aws_lambda_runtime_api.py). Function URL events stream; every other event is
answered buffered, as under awslambdaric.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from storage_drivers.backends._moto import moto

from adapters import aws_lambda_events as events
from adapters.aws_lambda_runtime_api import InvocationError, RuntimeAPI, Streamed
from adapters.builds import preview_server
from adapters.suite import Request
from adapters.test_aws_lambda import _env, lambda_python
from adapters.test_aws_lambda_websocket import ws_event

from helpers import REPO, nitro_cli

pytestmark = pytest.mark.slow

BROKEN = """
def handler(event):
    def body():
        yield "first part\\n"
        raise RuntimeError("the source went away")

    return body()
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lambda_python()
    root = tmp_path_factory.mktemp("stream") / "chat"
    shutil.copytree(REPO / "examples" / "chat", root)
    (root / "routes" / "broken.get.py").write_text(BROKEN)
    result = nitro_cli("build", str(root), "--preset", "aws-lambda", timeout=300)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="module")
def task_root(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = built
    task = tmp_path_factory.mktemp("var-task")
    with zipfile.ZipFile(root / ".output" / "aws-lambda.zip") as archive:
        archive.extractall(task)
        # zipfile drops permissions; Lambda keeps them: the wrapper must be executable.
        mode = archive.getinfo("nitro-runtime").external_attr >> 16
    assert mode & 0o111, "nitro-runtime is not executable in the zip"
    (task / "nitro-runtime").chmod(mode)
    return task


@pytest.fixture(scope="module")
def runtime(
    task_root: Path, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RuntimeAPI]:
    server = moto(request)
    api = RuntimeAPI()
    log_path = tmp_path_factory.mktemp("logs") / "runtime.log"
    log = log_path.open("wb")
    # What Lambda runs with AWS_LAMBDA_EXEC_WRAPPER set: the wrapper, then the managed
    # runtime's own start command as its arguments.
    process = subprocess.Popen(
        [str(task_root / "nitro-runtime"), str(lambda_python()), "/var/runtime/bootstrap.py"],
        cwd=task_root,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=_env(
            {
                "AWS_LAMBDA_RUNTIME_API": api.address,
                "LAMBDA_TASK_ROOT": str(task_root),
                "AWS_LAMBDA_FUNCTION_NAME": "chat-prod",
                "NITRO_DYNAMODB_TABLE": f"unused-{uuid.uuid4().hex[:6]}",
                "AWS_ENDPOINT_URL": server.url,
                "AWS_ACCESS_KEY_ID": server.access_key_id,
                "AWS_SECRET_ACCESS_KEY": server.secret_access_key,
                "AWS_REGION": server.region,
                "AWS_DEFAULT_REGION": server.region,
            }
        ),
    )
    yield api
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    api.stop()
    log.close()
    assert api.init_errors == [], log_path.read_text()


def split(streamed: Streamed) -> tuple[dict[str, Any], bytes]:
    prelude, delimiter, body = streamed.body.partition(b"\0" * 8)
    assert delimiter, streamed.body[:200]
    return json.loads(prelude), body


def test_sse_arrives_chunk_by_chunk(runtime: RuntimeAPI) -> None:
    answer = runtime.invoke(events.function_url(Request("GET", "/clock?every=0.2")))
    assert isinstance(answer, Streamed)
    assert answer.headers["lambda-runtime-function-response-mode"] == "streaming"
    assert answer.headers["content-type"] == "application/vnd.awslambda.http-integration-response"
    meta, body = split(answer)
    assert meta["statusCode"] == 200
    assert meta["headers"]["content-type"].startswith("text/event-stream")
    assert body.count(b"event: tick") == 5
    arrived = {
        n: next(t for t, chunk in answer.chunks if f"data: {n}\n".encode() in chunk)
        for n in range(5)
    }
    # Each tick reached the Runtime API when it was pushed, not all at the end.
    assert arrived[4] - arrived[0] >= 0.6, arrived
    assert all(arrived[n + 1] > arrived[n] for n in range(4))
    assert answer.trailers == {}


def test_a_buffered_response_is_one_write(runtime: RuntimeAPI) -> None:
    answer = runtime.invoke(events.function_url(Request("GET", "/ws/lobby")))
    meta, body = split(answer)
    assert meta["statusCode"] == 426 and meta["headers"]["upgrade"] == "websocket"
    assert json.loads(body)["status"] == 426
    assert len(answer.chunks) == 1


def test_an_error_mid_stream_is_reported_in_trailers(runtime: RuntimeAPI) -> None:
    answer = runtime.invoke(events.function_url(Request("GET", "/broken")))
    meta, body = split(answer)
    assert meta["statusCode"] == 200 and body == b"first part\n"
    assert answer.trailers["Lambda-Runtime-Function-Error-Type"] == "RuntimeError"
    error = json.loads(base64.b64decode(answer.trailers["Lambda-Runtime-Function-Error-Body"]))
    # nitro reported the generator's error (its error hooks saw it) and ended the
    # response unfinished: the stream says so.
    assert "without completing its response" in error["errorMessage"]
    # The loop goes on: the next invocation is served.
    again = runtime.invoke(events.function_url(Request("GET", "/clock?every=0")))
    assert split(again)[1].count(b"event: tick") == 5


def test_other_events_are_answered_buffered(runtime: RuntimeAPI) -> None:
    # An HTTP API (not a Function URL) invokes for one answer: buffered JSON.
    answer = runtime.invoke(events.http_v2(Request("GET", "/clock?every=0")))
    assert isinstance(answer, dict) and answer["statusCode"] == 200
    assert answer["body"].count("event: tick") == 5
    # Buffered, a body torn mid-way is a 500, never its first part passed off as whole.
    torn = runtime.invoke(events.http_v2(Request("GET", "/broken")))
    assert torn["statusCode"] == 500 and "first part" not in torn["body"]
    # A WebSocket CONNECT refused by `upgrade` (no ?user=) never touches storage.
    refused = runtime.invoke(ws_event("CONNECT", "c1", query={"path": "/ws/lobby"}))
    assert refused["statusCode"] == 401


def test_a_failed_invocation_is_reported_as_awslambdaric_reports_it(runtime: RuntimeAPI) -> None:
    # The same payload shape as awslambdaric's /error (tests/adapters/test_aws_lambda.py
    # checks awslambdaric's): errorType, errorMessage, stackTrace.
    with pytest.raises(InvocationError) as failed:
        runtime.invoke({"unknown": "event"})
    payload = failed.value.payload
    assert payload["errorType"] == "UnsupportedEventError"
    assert "unsupported event" in payload["errorMessage"]
    assert isinstance(payload["stackTrace"], list)
    # ...and the loop goes on.
    assert (
        split(runtime.invoke(events.function_url(Request("GET", "/clock?every=0"))))[0][
            "statusCode"
        ]
        == 200
    )


def test_nitro_preview_of_a_streaming_build_streams(built: Path, tmp_path: Path) -> None:
    server = preview_server(built, tmp_path / "preview.log")
    try:
        server.wait_ready(path="/clock?every=0")
        arrived: list[tuple[float, bytes]] = []
        with httpx.stream("GET", f"{server.url}/clock?every=0.2", timeout=10) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["transfer-encoding"] == "chunked"
            for chunk in response.iter_raw():
                arrived.append((time.monotonic(), chunk))
        first = next(t for t, chunk in arrived if b"data: 0" in chunk)
        last = next(t for t, chunk in arrived if b"data: 4" in chunk)
        assert last - first >= 0.6, arrived
        assert httpx.get(f"{server.url}/ws/lobby").status_code == 426  # buffered, as before
    finally:
        server.stop()
