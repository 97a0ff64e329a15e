"""The `gcs` driver against gcp-storage-emulator (PyPI), started once per session.

The emulator keeps everything in memory and accepts any credentials; each
`options()` call gets a bucket of its own.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import ServerProcess, free_port, require_service

HOW_TO_START = (
    "pip install gcp-storage-emulator && "
    "gcp-storage-emulator start --host 127.0.0.1 --port 9023 --in-memory"
)
_emulator: dict[str, str] = {}


def start_emulator(config: pytest.Config) -> str | None:
    """The emulator's URL, starting it on first use; None when it cannot run."""
    if "url" in _emulator:
        return _emulator["url"]
    if importlib.util.find_spec("gcp_storage_emulator") is None:
        return None
    port = free_port()
    logs = tempfile.mkdtemp(prefix="gcs-emulator-")
    process = ServerProcess(
        [
            sys.executable,
            "-m",
            "gcp_storage_emulator",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--in-memory",
            "--quiet",
        ],
        cwd=Path(logs),
        port=port,
        log=Path(logs) / "emulator.log",
    )

    def stop() -> None:
        process.stop(timeout=10)
        shutil.rmtree(logs, ignore_errors=True)

    config.add_cleanup(stop)
    process.wait_ready(30, path="/storage/v1/b?project=test")
    _emulator["url"] = process.url
    return process.url


def create_bucket(url: str) -> str:
    name = f"nitro-test-{uuid.uuid4().hex[:12]}"
    response = httpx.post(
        f"{url}/storage/v1/b", params={"project": "test"}, json={"name": name}, timeout=10
    )
    response.raise_for_status()
    return name


async def options(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    url = start_emulator(request.config)
    require_service(url is not None, "gcp-storage-emulator", HOW_TO_START)
    assert url is not None
    return {"bucket": create_bucket(url), "endpoint": url}
