"""The `gcs` driver against gcp-storage-emulator (PyPI), started once per session.

The emulator keeps everything in memory and accepts any credentials; each
`options()` call gets a bucket of its own.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import free_port, require_service

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
    log = tempfile.NamedTemporaryFile(prefix="gcs-emulator-", suffix=".log", delete=False)
    process = subprocess.Popen(
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
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def stop() -> None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        Path(log.name).unlink(missing_ok=True)

    config.add_cleanup(stop)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gcp-storage-emulator exited with {process.returncode}:\n"
                + Path(log.name).read_text(errors="replace")
            )
        try:
            if httpx.get(f"{url}/storage/v1/b?project=test", timeout=1).status_code == 200:
                _emulator["url"] = url
                return url
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"gcp-storage-emulator not ready on {url} after 30s")


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
