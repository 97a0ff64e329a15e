"""Each preset's entry module: imported and run in-process as a module, on a code root
laid out as its build lays it out; and the file a build writes only imports it."""

from __future__ import annotations

import ast
import importlib
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nitro.core.manifest import Schedule
from nitro.presets import PRESETS, get_preset
from nitro.runtime.scan import routes_for_env, scan_project
from nitro.testing import TestClient

PRESETS_DIR = Path(importlib.import_module("nitro.presets").__file__ or "").parent
CRON = "0 3 * * *"
TASK = """from nitro import define_task

@define_task
def task(payload, context):
    return payload
"""


@pytest.fixture(autouse=True)
def _keep_sys_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(sys, "path", list(sys.path))  # load_app puts the project on it
    yield


def code_root(tmp_path: Path, preset: str, schedules: list[Schedule], **options: Any) -> Path:
    """A project (one route, one task) laid out as `preset`'s build lays out its code
    root: ``app/``, ``manifest.json`` with the preset's record, ``public/``."""
    project = tmp_path / "project"
    (project / "routes").mkdir(parents=True)
    (project / "routes" / "index.py").write_text("def handler(event):\n    return 'hi'\n")
    (project / "tasks").mkdir()
    (project / "tasks" / "report.py").write_text(TASK)
    root = tmp_path / "code"
    shutil.copytree(project, root / "app")
    (root / "public").mkdir()
    manifest = scan_project(root / "app")
    manifest.routes = routes_for_env(manifest.routes, "prod")
    manifest.preset = get_preset(preset).record(schedules, options)
    manifest.write(root / "manifest.json")
    return root


def test_every_preset_but_docker_has_an_entry_module() -> None:
    folders = sorted(p.parent.name for p in PRESETS_DIR.glob("*/entry.py"))
    assert folders == sorted(m.split(".")[2] for m in PRESETS.values() if "docker" not in m)
    for folder in folders:
        module = importlib.import_module(f"nitro.presets.{folder}.entry")
        assert module.__all__ and all(callable(getattr(module, name)) for name in module.__all__)


@pytest.mark.parametrize(
    ("module", "template", "folder"),
    [
        ("nitro.presets.server.preset", "ENTRY", "server"),
        ("nitro.presets.aws_lambda.preset", "ENTRY", "aws_lambda"),
        ("nitro.presets.gcp_functions.preset", "ENTRY", "gcp_functions"),
        ("nitro.presets.azure_functions.preset", "ENTRY", "azure_functions"),
        ("nitro.presets.vercel.preset", "ENTRY_SOURCE", "vercel"),
    ],
)
def test_the_generated_file_only_imports_the_entry_module(
    module: str, template: str, folder: str
) -> None:
    source = getattr(importlib.import_module(module), template).replace("{preset}", "server")
    tree = ast.parse(source)
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert {name for name in imported if name.startswith("nitro")} == {f"nitro.presets.{folder}"}
    # Beyond the docstring and the path bootstrap, the entry's calls only.
    assert len(source.splitlines()) <= 20


@pytest.mark.anyio
async def test_server_entry(tmp_path: Path) -> None:
    from nitro.presets.server import entry

    root = code_root(tmp_path, "server", [Schedule(CRON, ("report",))])
    app = entry.create_app(root)
    assert app.sync_to_thread is True and app.serverless is False
    assert app.scheduler is None  # only the running server (`scheduler=True`) schedules
    assert entry.create_app(root, scheduler=True).scheduler is not None
    async with TestClient(app) as client:
        assert (await client.get("/")).text == "hi"


def test_aws_lambda_entry(tmp_path: Path) -> None:
    from nitro.presets.aws_lambda import entry

    schedules = [Schedule(CRON, ("report",), "-cron-0123456789", "cron(0 3 * * ? *)")]
    handler = entry.create_handler(code_root(tmp_path, "aws-lambda", schedules))
    try:
        assert handler.nitro is not None
        assert handler.nitro.sync_to_thread is False and handler.nitro.serverless is True
        assert handler.schedules == {"-cron-0123456789": CRON}
        event = {
            "version": "2.0",
            "rawPath": "/",
            "rawQueryString": "",
            "headers": {"host": "example.com"},
            "requestContext": {"http": {"method": "GET", "path": "/", "sourceIp": "1.2.3.4"}},
        }
        answer = handler(event, None)
        assert answer["statusCode"] == 200 and answer["body"] == "hi"
    finally:
        handler.close()


KINESIS = """from nitro.adapters.aws_lambda import EventSource


class KinesisRecords(EventSource):
    name = "Kinesis records"
    needs_nitro = True

    @staticmethod
    def infer(event):
        records = event.get("Records")
        return bool(records) and records[0].get("eventSource") == "aws:kinesis"

    @classmethod
    async def handle(cls, handler, event, context):
        return {"records": len(event["Records"])}


NotASource = object()
"""


def test_aws_lambda_entry_asks_the_projects_event_sources_first(tmp_path: Path) -> None:
    from nitro.presets.aws_lambda import entry
    from nitro.presets.aws_lambda.preset import lambda_options

    options = lambda_options({"event_sources": ["kinesis:KinesisRecords"]})
    root = code_root(tmp_path, "aws-lambda", [], **options)
    (root / "app" / "kinesis.py").write_text(KINESIS)
    handler = entry.create_handler(root)
    try:
        assert handler.sources[0].__name__ == "KinesisRecords"
        event = {"Records": [{"eventSource": "aws:kinesis"}, {"eventSource": "aws:kinesis"}]}
        assert handler(event, None) == {"records": 2}
        with pytest.raises(TypeError, match="'kinesis:NotASource' is not a subclass"):
            entry.event_source("kinesis:NotASource")
    finally:
        handler.close()


def test_gcp_functions_entry(tmp_path: Path) -> None:
    from nitro.presets.gcp_functions import entry

    handler, tasks = entry.create_targets(code_root(tmp_path, "gcp-functions", []))
    # functions-framework finds a target by the name `main.py` binds it to.
    assert (handler.__name__, tasks.__name__) == ("handler", "tasks")


def test_azure_functions_entry(tmp_path: Path) -> None:
    from nitro.presets.azure_functions import entry

    schedules = [Schedule(CRON, ("report",), "nitro_cron_abc", "0 0 3 * * *")]
    nitro_app = entry.create_app(
        code_root(tmp_path, "azure-functions", schedules, auth_level="function")
    )
    assert nitro_app.serverless is True
    functions = entry.function_app_for(nitro_app).get_functions()
    bindings = {f.get_function_name(): json.loads(f.get_function_json()) for f in functions}
    assert sorted(bindings) == ["nitro_cron_abc", "nitro_http"]
    http = next(b for b in bindings["nitro_http"]["bindings"] if b["type"] == "httpTrigger")
    assert http["authLevel"] == "FUNCTION"
    [timer] = bindings["nitro_cron_abc"]["bindings"]
    assert timer["schedule"] == "0 0 3 * * *"


@pytest.mark.anyio
async def test_vercel_entry(tmp_path: Path) -> None:
    from nitro.presets.vercel import entry

    app = entry.create_app(code_root(tmp_path, "vercel", [Schedule(CRON, ("report",))]))
    assert app.sync_to_thread is False and app.serverless is True
    async with TestClient(app) as client:
        assert (await client.get("/")).text == "hi"
        # The cron route answers for the recorded schedule (no CRON_SECRET set here).
        ran = await client.get("/_vercel/cron", params={"schedule": CRON})
        assert ran.json()["results"] == {"report": {"scheduled_time": ran.json()["scheduled_time"]}}


# What a cold start does not need stays unloaded: scheduling (croniter) until a tick
# fires, the waiting mounts' stand-ins, the task endpoints without their secret,
# bundling and the presets' build code.
NOT_AT_COLD_START = (
    "croniter",
    "nitro.core.schedule",
    "nitro.core.tasks_endpoints",
    "nitro.runtime.deferred",
    "nitro.runtime.scan",
    "nitro.bundle",
    "nitro.presets.base",
    "nitro.presets.aws_lambda.preset",
)


def test_a_cold_start_loads_only_what_it_needs(tmp_path: Path) -> None:
    import subprocess

    schedules = [Schedule(CRON, ("report",), "-cron-0123456789", "cron(0 3 * * ? *)")]
    root = code_root(tmp_path, "aws-lambda", schedules)
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from nitro.presets.aws_lambda import entry\n"
        f"handler = entry.create_handler(Path({str(root)!r}))\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "NITRO_DYNAMODB_TABLE": "t", "AWS_REGION": "us-east-1"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert [m for m in loaded if m.startswith(NOT_AT_COLD_START)] == []
