"""What drives a built function app in the tests, as the Functions worker would.

`InProcess`: azure-functions 1.x in the test process (Python 3.11), one event loop.
`Runner`: azure-functions 2.x (Python >= 3.13 only) in azure_functions_runner.py,
in a cached venv. The venv lives in ~/.cache/nitro-tests/azure-py313, made on first use with pyenv's (or
PATH's) Python 3.13 and the built app's requirements.txt plus ``azure-functions>=2``;
a stamp of what was installed makes later sessions reuse it as it is.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from nitro.bundle.vendor import find_python
from nitro.presets.azure_functions.preview import FunctionsHost, load_function_app

VENV = Path.home() / ".cache" / "nitro-tests" / "azure-py313"
AZURE_FUNCTIONS = "azure-functions>=2,<3"
RUNNER = Path(__file__).with_name("azure_functions_runner.py")
HOW_TO_GET = "pyenv install 3.13 (azure-functions 2.x needs Python >= 3.13)"


Answer = tuple[int, list[tuple[str, str]], bytes]


class InProcess:
    """azure-functions 1.x in this process, every call on one event loop (the worker's)."""

    def __init__(self, server: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.host = FunctionsHost(load_function_app(server), server)
        self.module = sys.modules["function_app"]

    def http(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        return self.loop.run_until_complete(self.host.http(method, url, headers, body))

    def timer(self, name: str, **kwargs: Any) -> None:
        self.loop.run_until_complete(self.host.timer(name, **kwargs))

    def close(self) -> None:
        self.loop.run_until_complete(self.host.close())
        self.loop.close()
        sys.modules.pop("function_app", None)


def ensure_venv(requirements: Path) -> Path | None:
    """The venv's python, creating or updating the venv when needed; None without 3.13."""
    python = VENV / "bin" / "python"
    wanted = requirements.read_text(encoding="utf-8") + AZURE_FUNCTIONS
    stamp = VENV / "nitro-stamp"
    digest = hashlib.sha256(wanted.encode()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    base = find_python("3.13")
    if base is None:
        return None
    if not python.exists():
        subprocess.run([base, "-m", "venv", str(VENV)], check=True, timeout=300)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(requirements), AZURE_FUNCTIONS], check=True, timeout=900)
    stamp.write_text(digest)
    return python


class Runner:
    """azure_functions_runner.py in the 2.x venv, serving one built function app."""

    def __init__(self, python: Path, server: Path, env: dict[str, str], log: Path) -> None:
        self._log = log.open("wb")
        self.log_path = log
        self.process = subprocess.Popen(
            [str(python), str(RUNNER), str(server)],
            cwd=server,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        stdin: IO[str] | None = self.process.stdin
        stdout: IO[str] | None = self.process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(json.dumps(request) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"the runner exited:\n{self.logs()}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def http(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        reply = self.call(
            {
                "op": "http",
                "method": method,
                "url": url,
                "headers": headers,
                "body": base64.b64encode(body).decode(),
            }
        )
        if "status" not in reply:
            raise RuntimeError(f"{reply}\n{self.logs()}")
        headers_out = [(str(k), str(v)) for k, v in reply["headers"]]
        return reply["status"], headers_out, base64.b64decode(reply["body"])

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def close(self) -> int:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            code = self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()
        return code
