"""How many workers, on which engine: the build's option, then the environment; `auto`
counts the CPUs this process may use (affinity, cgroup quota)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nitro.config import ConfigError
from nitro.core.manifest import Manifest, RouteEntry
from nitro.runtime.workers import (
    ServerPlan,
    available_cpus,
    cgroup_cpu_limit,
    local_publish_warning,
    server_plan,
)


def test_the_build_option_then_nitro_workers_then_web_concurrency() -> None:
    option = {"workers": 3, "engine": "granian"}
    assert server_plan(None, {}) == ServerPlan(1, "uvicorn")
    assert server_plan(option, {}) == ServerPlan(3, "granian")
    assert server_plan(option, {"WEB_CONCURRENCY": "5"}) == ServerPlan(5, "granian")
    assert server_plan(option, {"NITRO_WORKERS": "2", "WEB_CONCURRENCY": "5"}).workers == 2
    assert server_plan(option, {"NITRO_WORKERS": " ", "WEB_CONCURRENCY": "5"}).workers == 5
    assert server_plan(option, {"NITRO_WORKERS": "auto"}).workers == available_cpus()
    assert server_plan({"workers": "auto"}, {}).workers == available_cpus()


@pytest.mark.parametrize("name", ["NITRO_WORKERS", "WEB_CONCURRENCY"])
@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_an_invalid_variable_is_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"{name}='{value}'"):
        server_plan(None, {name: value})


def test_available_cpus_is_at_most_the_affinity() -> None:
    assert 1 <= available_cpus() <= len(os.sched_getaffinity(0))


def test_cgroup_v2_quota_rounds_up(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpu_limit(tmp_path) == 2
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_limit(tmp_path) is None
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert cgroup_cpu_limit(tmp_path) == 1


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("300000\n")
    assert cgroup_cpu_limit(tmp_path) == 3
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpu_limit(tmp_path) is None
    assert cgroup_cpu_limit(tmp_path / "nothing-here") is None


def manifest(*kinds: str) -> Manifest:
    routes = [RouteEntry(f"/r{i}", f"routes/r{i}.py", kind=kind) for i, kind in enumerate(kinds)]
    return Manifest(routes=routes)


def test_publish_warning_only_with_several_workers_websockets_and_no_redis(tmp_path: Path) -> None:
    assert local_publish_warning(tmp_path, manifest("websocket"), 1) is None
    assert local_publish_warning(tmp_path, manifest("http"), 4) is None
    warning = local_publish_warning(tmp_path, manifest("http", "websocket"), 4)
    assert warning and "4 workers" in warning and "redis_url" in warning
    (tmp_path / "nitro.config.py").write_text(
        "from nitro.config import define_nitro_config\n"
        "config = define_nitro_config(websocket={'redis_url': 'redis://127.0.0.1:6379'})\n"
    )
    assert local_publish_warning(tmp_path, manifest("websocket"), 4) is None
