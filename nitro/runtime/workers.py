"""How many worker processes the server runs, and on which engine.

The build records the checked `server` option in the preset's record; at start-up
``NITRO_WORKERS``, then ``WEB_CONCURRENCY`` (the name Heroku, gunicorn and uvicorn
read), override its `workers`. ``auto`` is the CPUs this process may use: its CPU
affinity, capped by a cgroup CPU quota (a container given ``--cpus 2`` on a 16-core
host gets 2), as Go's runtime and Java's container support count them.
"""

from __future__ import annotations

import math
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..config import ConfigError, load_config
from ..config.server import SERVER_DEFAULTS, check_workers

if TYPE_CHECKING:
    from ..core.manifest import Manifest

__all__ = [
    "WORKERS_ENV",
    "ServerPlan",
    "available_cpus",
    "cgroup_cpu_limit",
    "end_with_parent",
    "local_publish_warning",
    "server_plan",
]

WORKERS_ENV = ("NITRO_WORKERS", "WEB_CONCURRENCY")
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class ServerPlan(NamedTuple):
    """What the server entry runs: `workers` processes of `engine`."""

    workers: int
    engine: str


def server_plan(options: Mapping[str, Any] | None, environ: Mapping[str, str]) -> ServerPlan:
    """The plan from the build's checked `server` option and the environment.

    Example::

        server_plan({"workers": 2, "engine": "granian"}, {"NITRO_WORKERS": "auto"})
        # ServerPlan(workers=<the CPUs this process may use>, engine="granian")
    """
    merged = {**SERVER_DEFAULTS, **(options or {})}
    workers: int | str = merged["workers"]
    for name in WORKERS_ENV:
        raw = environ.get(name, "").strip()
        if raw:
            try:
                workers = check_workers(raw, name)
            except ValueError as exc:
                raise ConfigError(f"[nitro:server] {exc}") from None
            break
    count = available_cpus() if workers == "auto" else int(workers)
    return ServerPlan(count, str(merged["engine"]))


def available_cpus() -> int:
    """The CPUs this process may use: its affinity mask, capped by a cgroup CPU quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    limit = cgroup_cpu_limit()
    if limit is not None:
        cpus = min(cpus, limit)
    return max(cpus, 1)


def cgroup_cpu_limit(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """The CPU quota of this process's cgroup, rounded up to whole CPUs; None without one.

    cgroup v2 writes ``cpu.max`` as ``"<quota> <period>"`` (``"max 100000"``: no
    quota), in the process's own group (``/proc/self/cgroup``: ``0::/path``) or, inside
    a container's namespace, at the root; v1 splits it into ``cpu.cfs_quota_us`` (-1:
    none) and ``cpu.cfs_period_us`` under the ``cpu`` controller.
    """
    try:
        own = Path("/proc/self/cgroup").read_text()
    except OSError:
        own = ""
    groups = [
        line.split(":", 2)[2].strip().lstrip("/")
        for line in own.splitlines()
        if line.startswith("0::")
    ]
    for folder in [root / group for group in groups if group] + [root]:
        try:
            quota, period = (folder / "cpu.max").read_text().split()[:2]
        except (OSError, ValueError):
            continue
        return None if quota == "max" else _whole_cpus(float(quota), float(period))
    for folder in (root / "cpu", root / "cpu,cpuacct"):
        try:
            quota_us = float((folder / "cpu.cfs_quota_us").read_text())
            period_us = float((folder / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return _whole_cpus(quota_us, period_us)
    return None


def _whole_cpus(quota: float, period: float) -> int | None:
    if quota <= 0 or period <= 0:
        return None
    return max(1, math.ceil(quota / period))


def local_publish_warning(root: Path, manifest: Manifest, workers: int) -> str | None:
    """What to say at start-up when WebSocket `publish` cannot cross workers: several
    workers, WebSocket routes, and no ``websocket={"redis_url": ...}`` (`nitro.core.pubsub`)."""
    if workers < 2 or not any(entry.kind == "websocket" for entry in manifest.routes):
        return None
    if load_config(root).websocket.get("redis_url"):
        return None
    return (
        f"[nitro:websocket] {workers} workers and no websocket redis_url: peer.publish() "
        "reaches only the peers connected to the same worker; set "
        "websocket={'redis_url': '{{REDIS_URL}}'} in nitro.config.py to reach them all"
    )


def end_with_parent() -> None:
    """Linux: this process gets SIGTERM when its parent dies, even by SIGKILL, so no
    orphan outlives it (a server worker still holding the port, a Vite dev server).
    Elsewhere, or without prctl, nothing: the parent's own stop still ends it."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
