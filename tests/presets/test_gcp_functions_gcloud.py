"""gcp-functions options, the Cloud Scheduler mapping and the deploy commands (pure)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from nitro.bundle.output import BuildError
from nitro.config import NitroConfig
from nitro.presets.gcp_functions.gcloud import deploy_commands, options, schedule_jobs


def test_defaults_and_the_function_name_from_the_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "My_Shop.API"\n')
    opts = options(tmp_path, NitroConfig())
    assert (opts.runtime, opts.python, opts.name) == ("python312", "3.12", "my-shop-api")
    assert (opts.region, opts.memory, opts.timeout) == ("us-central1", "512Mi", 60)


@pytest.mark.parametrize(
    ("gcp", "message"),
    [
        ({"regoin": "x"}, "unknown option 'regoin'"),
        ({"runtime": "3.12"}, "runtime '3.12' is not a Python runtime id"),
        ({"name": "Bad_Name"}, "function name 'Bad_Name'"),
        ({"timeout": 0}, "timeout must be 1-3600 seconds"),
    ],
)
def test_bad_options_fail_the_build(tmp_path: Path, gcp: dict[str, object], message: str) -> None:
    with pytest.raises(BuildError, match=message):
        options(tmp_path, NitroConfig(gcp_functions=gcp))


def test_one_scheduler_job_per_cron_with_its_message(tmp_path: Path) -> None:
    opts = options(tmp_path, NitroConfig(gcp_functions={"name": "shop", "region": "europe-west1"}))
    jobs = schedule_jobs({"@hourly": ["a", "b"], "*/5 * * * *": ["c"]}, opts)
    assert [(j["cron"], j["schedule"], j["tasks"]) for j in jobs] == [
        ("@hourly", "0 * * * *", ["a", "b"]),
        ("*/5 * * * *", "*/5 * * * *", ["c"]),
    ]
    assert jobs[0]["message"] == {"nitro:cron": "@hourly"}  # the config's key, as the app has it
    assert shlex.split(jobs[1]["command"]) == [
        "gcloud", "scheduler", "jobs", "create", "pubsub", jobs[1]["job"],
        "--location=europe-west1", "--schedule=*/5 * * * *", "--time-zone=UTC",
        "--topic=shop-tasks", '--message-body={"nitro:cron": "*/5 * * * *"}',
    ]  # fmt: skip
    assert jobs[0]["job"].startswith("shop-cron-") and jobs[0]["job"] != jobs[1]["job"]
    assert schedule_jobs({"@hourly": ["a"]}, opts)[0]["job"] == jobs[0]["job"]  # stable names


def test_a_cron_cloud_scheduler_cannot_run_fails_the_build(tmp_path: Path) -> None:
    opts = options(tmp_path, NitroConfig())
    with pytest.raises(BuildError, match="Cloud Scheduler cannot schedule by the second"):
        schedule_jobs({"*/10 * * * * *": ["a"]}, opts)


def test_the_tasks_function_timeout_stays_within_the_event_limit(tmp_path: Path) -> None:
    opts = options(tmp_path, NitroConfig(gcp_functions={"name": "shop", "timeout": 3600}))
    jobs = schedule_jobs({"0 0 * * *": ["a"]}, opts)
    commands = deploy_commands(opts, {}, jobs)
    assert "--timeout=3600s" in str(commands["deploy"])
    assert "--timeout=540s" in str(commands["deploy_tasks"])
    assert "--set-env-vars" not in str(commands["deploy"])
    assert commands["topic"] == "gcloud pubsub topics create shop-tasks"
    assert deploy_commands(opts, {}, [])["deploy_tasks"] is None  # no schedules, no tasks function
