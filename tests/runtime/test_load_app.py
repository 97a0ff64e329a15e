"""`load_app` from a build's manifest: what the preset recorded is what the app starts
with (its schedule, not the config's again), the arguments and the config win; and
`NITRO_SHUTDOWN_TIMEOUT`, read in one place."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nitro.config import ConfigError
from nitro.core.manifest import PresetRecord, Schedule
from nitro.runtime.app import load_app, shutdown_timeout
from nitro.runtime.scan import scan_project

TASK = "from nitro import define_task\n\n@define_task\ndef task(payload, context):\n    return 1\n"


@pytest.fixture(autouse=True)
def _keep_sys_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(sys, "path", list(sys.path))  # load_app puts the project on it
    yield


def built(root: Path, record: PresetRecord, config: str = "") -> Path:
    """`root` (a task "report", `config` in nitro.config.py) with a manifest holding `record`."""
    (root / "tasks").mkdir(parents=True)
    (root / "tasks" / "report.py").write_text(TASK)
    (root / "nitro.config.py").write_text(
        f"from nitro.config import define_nitro_config\nconfig = define_nitro_config({config})\n"
    )
    manifest = scan_project(root)
    manifest.preset = record
    manifest.write(root / "manifest.json")
    return root / "manifest.json"


def test_the_record_is_what_the_app_starts_with(tmp_path: Path) -> None:
    record = PresetRecord(
        "aws-lambda",
        [Schedule("0 3 * * *", ["report"], "-cron-0123456789", "cron(0 3 * * ? *)")],
        {"data": {"driver": "memory"}},
        sync_to_thread=False,
        serverless=True,
    )
    # The config's own scheduled_tasks is not read again: the build checked it.
    manifest = built(tmp_path, record, "scheduled_tasks={'@daily': ['gone']}")
    app = load_app(tmp_path, manifest=manifest)
    assert app.tasks.schedule == {"0 3 * * *": ["report"]}
    assert app.sync_to_thread is False and app.serverless is True
    assert app.state["manifest"].preset == record
    # Arguments replace the record's defaults.
    again = load_app(tmp_path, manifest=manifest, sync_to_thread=True, serverless=False)
    assert again.sync_to_thread is True and again.serverless is False


def test_the_configs_sync_to_thread_wins(tmp_path: Path) -> None:
    manifest = built(tmp_path, PresetRecord("vercel", sync_to_thread=False), "sync_to_thread=True")
    assert load_app(tmp_path, manifest=manifest).sync_to_thread is True


def test_without_a_build_the_config_is_the_schedule(tmp_path: Path) -> None:
    built(tmp_path, PresetRecord("server"), "scheduled_tasks={'@daily': 'report'}")
    app = load_app(tmp_path)  # scanned: no manifest given
    assert app.tasks.schedule == {"@daily": ["report"]}
    assert app.sync_to_thread is True and app.serverless is False


@pytest.mark.parametrize(
    ("raw", "seconds"), [(None, 30.0), ("", 30.0), ("12.5", 12.5), (" 0 ", 0.0)]
)
def test_shutdown_timeout(raw: str | None, seconds: float) -> None:
    environ = {} if raw is None else {"NITRO_SHUTDOWN_TIMEOUT": raw}
    assert shutdown_timeout(environ) == seconds


@pytest.mark.parametrize("raw", ["abc", "-1", "nan"])
def test_a_bad_shutdown_timeout_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match=f"NITRO_SHUTDOWN_TIMEOUT='{raw}': give a number"):
        shutdown_timeout({"NITRO_SHUTDOWN_TIMEOUT": raw})
