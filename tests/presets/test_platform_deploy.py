"""`nitro deploy gcp|azure|vercel`: the platform's CLI gets the exact arguments (a fake
executable on PATH records them), and without the CLI the commands are printed with
what to install. The project is built for real with each preset."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from _aws_deploy import OPTIONS, SCHEDULE, write_project

from helpers import nitro_cli

pytestmark = pytest.mark.slow

FAKE = """#!{python}
import json, os, sys
tool = os.path.basename(sys.argv[0])
with open(os.environ["FAKE_CLI_LOG"], "a") as log:
    log.write(json.dumps({{"tool": tool, "argv": sys.argv[1:], "cwd": os.getcwd()}}) + "\\n")
if "describe" in sys.argv:
    sys.exit(0 if os.environ.get("FAKE_CLI_EXISTS") else 1)
if tool == "vercel":
    print("https://shop-abc123.vercel.app")
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("platforms") / "shop", SCHEDULE, OPTIONS)


def build(root: Path, preset: str) -> None:
    result = nitro_cli("build", str(root), "--preset", preset, timeout=600)
    assert result.returncode == 0, result.stderr


def fake_tools(tmp_path: Path, *tools: str) -> dict[str, str]:
    """An environment whose PATH has only fake `tools` that log their calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    for tool in tools:
        path = bin_dir / tool
        path.write_text(FAKE.format(python=sys.executable))
        path.chmod(0o755)
    return {"PATH": str(bin_dir), "FAKE_CLI_LOG": str(tmp_path / "calls.jsonl")}


def calls(env: dict[str, str]) -> list[dict[str, Any]]:
    log = Path(env["FAKE_CLI_LOG"])
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_vercel_builds_then_runs_vercel_deploy_prebuilt(project: Path, tmp_path: Path) -> None:
    env = fake_tools(tmp_path, "vercel")
    # Without --prebuilt: it builds first (the build's own tools are found by path).
    done = nitro_cli("deploy", "vercel", str(project), env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "[nitro] building shop for vercel" in done.stderr
    assert (project / ".vercel" / "output" / "config.json").is_file()
    assert calls(env) == [{"tool": "vercel", "argv": ["deploy", "--prebuilt"], "cwd": str(project)}]
    assert done.stdout.strip() == "https://shop-abc123.vercel.app"


def test_vercel_missing_prints_the_command(project: Path, tmp_path: Path) -> None:
    build(project, "vercel")
    env = fake_tools(tmp_path)
    done = nitro_cli("deploy", "vercel", str(project), "--prebuilt", env=env)
    assert done.returncode == 1
    assert done.stdout == "vercel deploy --prebuilt\n"
    assert "vercel is not installed (not on PATH): install the Vercel CLI" in done.stderr
    assert "npm install -g vercel" in done.stderr


def test_azure_publishes_the_function_app(project: Path, tmp_path: Path) -> None:
    build(project, "azure-functions")
    env = fake_tools(tmp_path, "func")
    done = nitro_cli("deploy", "azure", str(project), "--prebuilt", env=env)
    assert done.returncode == 0, done.stderr
    assert "deploying the azure-functions build in .output/ (--prebuilt)" in done.stderr
    assert calls(env) == [
        {
            "tool": "func",
            "argv": ["azure", "functionapp", "publish", "shop"],
            "cwd": str(project / ".output" / "server"),
        }
    ]
    missing = nitro_cli(
        "deploy", "azure", str(project), "--prebuilt", env=fake_tools(tmp_path / "none")
    )
    assert missing.returncode == 1
    assert missing.stdout == "cd .output/server && func azure functionapp publish shop\n"
    assert "azure-functions-core-tools@4" in missing.stderr


def test_gcp_deploys_the_functions_topic_and_jobs(project: Path, tmp_path: Path) -> None:
    build(project, "gcp-functions")
    env = {**fake_tools(tmp_path, "gcloud"), "NITRO_GCS_BUCKET": "shop-data"}
    done = nitro_cli("deploy", "gcp", str(project), "--prebuilt", env=env)
    assert done.returncode == 0, done.stderr
    common = [
        "--gen2",
        "--runtime=python312",
        "--region=us-central1",
        "--source=.output/server",
        "--memory=512Mi",
        "--timeout=60s",
    ]
    info = json.loads((project / ".output" / "nitro.json").read_text())["gcp_functions"]
    jobs = {job["cron"]: job["job"] for job in info["schedules"]}
    argvs = [c["argv"] for c in calls(env)]
    assert {c["cwd"] for c in calls(env)} == {str(project)}
    assert argvs == [
        ["functions", "deploy", "shop", *common, "--entry-point=handler", "--trigger-http",
         "--allow-unauthenticated", "--set-env-vars=NITRO_GCS_BUCKET=shop-data"],
        ["pubsub", "topics", "describe", "shop-tasks"],
        ["pubsub", "topics", "create", "shop-tasks"],
        ["functions", "deploy", "shop-tasks", *common, "--entry-point=tasks",
         "--trigger-topic=shop-tasks", "--set-env-vars=NITRO_GCS_BUCKET=shop-data"],
        *[
            step
            for cron in SCHEDULE
            for step in (
                ["scheduler", "jobs", "describe", jobs[cron], "--location=us-central1"],
                ["scheduler", "jobs", "create", "pubsub", jobs[cron], "--location=us-central1",
                 f"--schedule={cron}", "--time-zone=UTC", "--topic=shop-tasks",
                 f"--message-body={json.dumps({'nitro:cron': cron})}"],
            )
        ],
    ]  # fmt: skip

    # Again, with the topic and the jobs there: the topic is kept, the jobs updated.
    Path(env["FAKE_CLI_LOG"]).unlink()
    again = nitro_cli(
        "deploy", "gcp", str(project), "--prebuilt", env={**env, "FAKE_CLI_EXISTS": "1"}
    )
    assert again.returncode == 0, again.stderr
    argvs = [c["argv"] for c in calls(env)]
    assert ["pubsub", "topics", "create", "shop-tasks"] not in argvs
    assert [a[:4] for a in argvs if a[:2] == ["scheduler", "jobs"] and a[2] != "describe"] == [
        ["scheduler", "jobs", "update", "pubsub"]
    ] * len(SCHEDULE)


def test_gcp_needs_the_bucket_variable_and_prints_commands_without_gcloud(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project, "gcp-functions")
    env = fake_tools(tmp_path, "gcloud")
    monkeypatch.delenv("NITRO_GCS_BUCKET", raising=False)
    done = nitro_cli("deploy", "gcp", str(project), "--prebuilt", env=env)
    assert done.returncode == 1 and calls(env) == []
    assert "needs $NITRO_GCS_BUCKET: set NITRO_GCS_BUCKET and deploy again" in done.stderr

    none = fake_tools(tmp_path / "none")
    missing = nitro_cli("deploy", "gcp", str(project), "--prebuilt", env=none)
    assert missing.returncode == 1
    recorded = json.loads((project / ".output" / "nitro.json").read_text())
    lines = missing.stdout.splitlines()
    assert lines[0] == recorded["commands"]["deploy"]
    assert "--set-env-vars=NITRO_GCS_BUCKET=$NITRO_GCS_BUCKET" in lines[0]
    assert lines[1:3] == [recorded["commands"]["topic"], recorded["commands"]["deploy_tasks"]]
    assert lines[3:] == [job["command"] for job in recorded["gcp_functions"]["schedules"]]
    assert "gcloud is not installed" in missing.stderr
    assert "https://cloud.google.com/sdk/docs/install" in missing.stderr
