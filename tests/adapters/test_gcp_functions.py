"""The gcp-functions preset: the fixture built, then served by functions-framework on
Python 3.12 with only `requirements.txt` installed (as the buildpack does), over
real HTTP: the conformance suite, streaming, CloudEvents running tasks, preview."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent
from storage_drivers.backends import gcs

from adapters.builds import build_fixture, preview_server, tiny_project
from adapters.gcp_functions_runtime import functions_framework, runtime_python, without_nitro
from adapters.suite import Case, cases, run_case_over_http

from helpers import ServerProcess, nitro_cli

pytestmark = pytest.mark.slow
PUBSUB = "google.cloud.pubsub.topic.v1.messagePublished"
SCHEDULER = "google.cloud.scheduler.job.v1.executed"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root, result = build_fixture(tmp_path_factory, "gcp-functions")
    assert "import-checking .output/server/main.py with Python 3.12" in result.stderr
    return root


@pytest.fixture(scope="module")
def source(built: Path) -> Path:
    return built / ".output" / "server"


@pytest.fixture(scope="module")
def runtime(source: Path) -> str:
    return runtime_python(source / "requirements.txt")


@pytest.fixture(scope="module")
def gcs_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The default `data` mount (GCS) backed by gcp-storage-emulator, bucket created."""
    url = gcs.start_emulator(request.config)
    gcs.require_service(url is not None, "gcp-storage-emulator", gcs.HOW_TO_START)
    assert url is not None
    return {"STORAGE_EMULATOR_HOST": url, "NITRO_GCS_BUCKET": gcs.create_bucket(url)}


def _serve(
    runtime: str, source: Path, target: str, env: dict[str, str], tmp: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    server = functions_framework(
        runtime, source, target, env=env, log=tmp.mktemp("logs") / f"{target}.log"
    )
    try:
        yield server
    finally:
        assert server.stop() == 0, server.logs()


@pytest.fixture(scope="module")
def http_server(
    runtime: str, source: Path, gcs_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    yield from _serve(runtime, source, "handler", gcs_env, tmp_path_factory)


@pytest.fixture(scope="module")
def tasks_server(
    runtime: str, source: Path, gcs_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    yield from _serve(runtime, source, "tasks", gcs_env, tmp_path_factory)


def test_output_is_a_cloud_functions_source_directory(built: Path, source: Path) -> None:
    assert (source / "main.py").is_file()
    requirements = (source / "requirements.txt").read_text().splitlines()
    assert "fastapi" in requirements  # the project's own dependency
    assert any(r.startswith("functions-framework>=3.10") for r in requirements)
    assert any(r.startswith("google-cloud-storage") for r in requirements)  # the data mount
    assert any(r.startswith("starlette") for r in requirements)  # nitro's runtime needs
    assert not any(r.startswith("nitro") for r in requirements)  # not on PyPI: copied
    assert (source / "_vendor" / "nitro" / "adapters" / "gcp_functions.py").is_file()
    assert (source / "public" / "hello.txt").is_file()
    manifest = json.loads((source / "manifest.json").read_text())
    record = manifest["preset"]
    assert record["storage_defaults"]["data"] == {
        "driver": "gcs",
        "bucket": "{{NITRO_GCS_BUCKET}}",
        "base": "data",
    }
    [schedule] = record["schedules"]
    assert schedule["cron"] == "0 0 1 1 *" and schedule["tasks"] == ["cms:update"]
    info = json.loads((built / ".output" / "nitro.json").read_text())
    assert info["preset"] == "gcp-functions"
    deploy = info["commands"]["deploy"]
    assert deploy.startswith("gcloud functions deploy fixture --gen2 --runtime=python312")
    for flag in ("--source=.output/server", "--entry-point=handler", "--trigger-http"):
        assert flag in deploy
    assert "--set-env-vars=NITRO_GCS_BUCKET=$NITRO_GCS_BUCKET" in deploy
    assert "--entry-point=tasks --trigger-topic=fixture-tasks" in info["commands"]["deploy_tasks"]
    [job] = info["gcp_functions"]["schedules"]
    assert job["message"] == {"nitro:cron": "0 0 1 1 *"} and job["time_zone"] == "UTC"
    assert job["command"] == (
        f"gcloud scheduler jobs create pubsub {job['job']} --location=us-central1 "
        "'--schedule=0 0 1 1 *' --time-zone=UTC --topic=fixture-tasks "
        """'--message-body={"nitro:cron": "0 0 1 1 *"}'"""
    )
    assert info["commands"]["schedule"] == job["command"]


def test_the_runtime_has_no_nitro_but_the_build_copy(runtime: str) -> None:
    assert without_nitro(runtime)


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.id)
def test_conformance(http_server: ServerProcess, case: Case) -> None:
    run_case_over_http(case, http_server.url)


def _chunks(port: int, path: str) -> tuple[bytes, list[bytes]]:
    """GET `path` over a raw socket: the head and the body's chunks, as framed on the wire."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    chunks = []
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        chunks.append(body[:size])
        body = body[size + 2 :]
    return head.lower(), chunks


def test_a_streamed_response_arrives_chunked(http_server: ServerProcess) -> None:
    head, chunks = _chunks(http_server.port, "/stream")
    assert b"transfer-encoding: chunked" in head
    assert chunks == [b"line 0\n", b"line 1\n", b"line 2\n"]  # one chunk per yield: not buffered


def test_server_sent_events_stream(http_server: ServerProcess) -> None:
    head, chunks = _chunks(http_server.port, "/sse")
    assert b"content-type: text/event-stream" in head and b"transfer-encoding: chunked" in head
    assert b"".join(chunks).startswith(b"data: first\n\n")
    assert len(chunks) >= 2  # each event went out as it was pushed


def _pubsub(body: dict[str, Any]) -> CloudEvent:
    message = {
        "data": base64.b64encode(json.dumps(body).encode()).decode(),
        "messageId": "1",
        "publishTime": "2026-01-01T00:00:03.123456789Z",
    }
    return CloudEvent(
        {"type": PUBSUB, "source": "//pubsub.googleapis.com/projects/p/topics/fixture-tasks"},
        {"message": message, "subscription": "projects/p/subscriptions/fixture-tasks"},
    )


def _scheduler_job(body: dict[str, Any]) -> CloudEvent:
    data = {
        "customData": base64.b64encode(json.dumps(body).encode()).decode(),
        "executionTime": "2026-01-01T00:00:01Z",
    }
    source = "//cloudscheduler.googleapis.com/projects/p/locations/us-central1/jobs/j"
    return CloudEvent({"type": SCHEDULER, "source": source}, data)


def _post(server: ServerProcess, event: CloudEvent, mode: str) -> httpx.Response:
    headers, body = to_binary(event) if mode == "binary" else to_structured(event)
    if mode == "binary":
        headers["content-type"] = "application/json"
    return httpx.post(server.url + "/", headers=headers, content=body, timeout=30)


def _updates(http_server: ServerProcess) -> int:
    return httpx.get(f"{http_server.url}/kv/cms:updates").json()["value"] or 0


@pytest.mark.parametrize("mode", ["binary", "structured"])
@pytest.mark.parametrize("shape", [_pubsub, _scheduler_job], ids=["pubsub", "scheduler-job"])
def test_a_cloud_event_runs_the_tasks_of_its_cron(
    http_server: ServerProcess, tasks_server: ServerProcess, mode: str, shape: Any
) -> None:
    before = _updates(http_server)
    response = _post(tasks_server, shape({"nitro:cron": "0 0 1 1 *"}), mode)
    assert response.status_code == 200, tasks_server.logs()
    assert _updates(http_server) == before + 1  # cms:update ran, against GCS


def test_a_cloud_event_runs_one_named_task(tasks_server: ServerProcess) -> None:
    event = _pubsub({"nitro:task": "db:migrate", "payload": {"dry": True}})
    assert _post(tasks_server, event, "binary").status_code == 200, tasks_server.logs()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"nitro:task": "nope"}, "unknown task 'nope'; known tasks: cms:update, db:migrate"),
        ({"nitro:cron": "* * * * *"}, "no scheduled_tasks entry for cron '* * * * *'"),
        ({"hello": 1}, "the message has neither 'nitro:cron' nor 'nitro:task'"),
    ],
    ids=["unknown-task", "unknown-cron", "not-a-task-message"],
)
def test_a_bad_task_event_fails_clearly(
    tasks_server: ServerProcess, body: dict[str, Any], message: str
) -> None:
    response = _post(tasks_server, _pubsub(body), "structured")
    assert response.status_code == 500
    tasks_server.wait_for_log(message)


def test_preview_serves_through_functions_framework(
    built: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    preview = preview_server(
        built,
        tmp_path_factory.mktemp("logs") / "preview.log",
        env={"NITRO_HOST": "", "NITRO_PORT": ""},
    )
    try:
        preview.wait_ready(timeout=60)
        response = httpx.get(f"{preview.url}/api/hello")
        assert response.json() == {"hello": "world"}
        assert response.headers["server"] == "uvicorn"  # functions-framework's uvicorn worker
        assert "nitro.presets.gcp_functions.preview" in preview.logs()
    finally:
        assert preview.stop() == 0, preview.logs()


def test_a_dependency_without_a_wheel_for_python312_fails_the_build(tmp_path: Path) -> None:
    # numpy 1.21.0 ships wheels for CPython 3.7-3.9 only.
    root = tiny_project(tmp_path / "app", ["numpy==1.21.0"])
    result = nitro_cli("build", str(root), "--preset", "gcp-functions")
    assert result.returncode == 1
    assert "no wheel of numpy==1.21.0 for Python 3.12 on Linux x86_64" in result.stderr
    assert "done in" not in result.stderr
