"""The `azure-blob` driver against Azurite (npm), started once per session.

Azurite is installed on first use into ~/.cache/nitro-tests/azurite (npm; once
per machine), listens on a free port with its data in a temporary directory, and
is reached with its well-known ``devstoreaccount1`` account. Each `options()`
call gets a container of its own.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from helpers import ServerProcess, free_port, require_service

CACHE = Path.home() / ".cache" / "nitro-tests" / "azurite"
BINARY = CACHE / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT = "devstoreaccount1"
# Azurite's documented development key (public, the same in every install).
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
HOW_TO_START = (
    f"npm install --prefix {CACHE} azurite@3 && {BINARY} --blobHost 127.0.0.1 "
    "--blobPort 10000 --location /tmp/azurite --silent --skipApiVersionCheck --loose"
)
_azurite: dict[str, str] = {}


def install() -> str | None:
    """The azurite-blob executable, installing it with npm when missing; None (and
    the reason in `_azurite["error"]`) when that cannot be done."""
    if BINARY.exists():
        return str(BINARY)
    npm = shutil.which("npm")
    if npm is None:
        _azurite["error"] = "npm is not installed"
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "azurite@3"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0 or not BINARY.exists():
        _azurite["error"] = f"npm install failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        return None
    return str(BINARY)


def start_azurite(config: pytest.Config) -> str | None:
    """Azurite's blob endpoint (``http://127.0.0.1:<port>/devstoreaccount1``),
    starting it on first use; None when it cannot be installed."""
    if "url" in _azurite:
        return _azurite["url"]
    binary = install()
    if binary is None:
        return None
    port = free_port()
    location = tempfile.mkdtemp(prefix="azurite-")
    process = ServerProcess(
        [
            binary,
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            location,
            "--silent",
            "--skipApiVersionCheck",
            "--loose",
            "--disableTelemetry",
        ],
        cwd=Path(location),
        port=port,
        log=Path(location) / "azurite.log",
    )

    def stop() -> None:
        process.stop(timeout=10)
        shutil.rmtree(location, ignore_errors=True)

    config.add_cleanup(stop)
    process.wait_ready(60, path=f"/{ACCOUNT}?comp=list")  # any answer (403 unsigned) means up
    _azurite["url"] = f"{process.url}/{ACCOUNT}"
    return _azurite["url"]


def connection_string(url: str, key: str = KEY) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};BlobEndpoint={url};"
    )


async def create_container(url: str) -> str:
    from azure.storage.blob.aio import ContainerClient

    name = f"nitro-test-{uuid.uuid4().hex[:12]}"
    async with ContainerClient.from_connection_string(connection_string(url), name) as client:
        await client.create_container()
    return name


def require_azurite(config: pytest.Config) -> str:
    url = start_azurite(config)
    how = HOW_TO_START + (f"\n({_azurite['error']})" if "error" in _azurite else "")
    require_service(url is not None, "Azurite", how)
    assert url is not None
    return url


def options_for(url: str, container: str) -> dict[str, Any]:
    return {"container": container, "connection_string": connection_string(url)}


async def options(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    url = require_azurite(request.config)
    return options_for(url, await create_container(url))
