"""`nitro preview` for a gcp-functions build: functions-framework serving `handler`.

Runs what the platform runs (``functions-framework --target handler`` with the
source directory as the working directory: gunicorn with the uvicorn worker),
bound to `NITRO_HOST`/`NITRO_PORT` (else `HOST`/`PORT`; default 127.0.0.1:3000).
The process replaces itself with functions-framework, so signals reach it directly.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path


def functions_framework_args(source: Path, host: str, port: str) -> list[str]:
    return [
        sys.executable, "-m", "functions_framework",
        "--target", "handler", "--source", str(source / "main.py"),
        "--host", host, "--port", port,
    ]  # fmt: skip


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m nitro.presets.gcp_functions.preview SOURCE_DIR", file=sys.stderr)
        return 2
    source = Path(argv[0]).resolve()
    if not (source / "main.py").is_file():
        print(
            f"[nitro] no main.py in {source}; run `nitro build --preset gcp-functions`",
            file=sys.stderr,
        )
        return 1
    if importlib.util.find_spec("functions_framework") is None:
        print(
            "[nitro] previewing a gcp-functions build needs functions-framework where nitro "
            "runs (Cloud Functions installs it from requirements.txt): "
            'pip install "nitro-py[gcp-functions]"',
            file=sys.stderr,
        )
        return 1
    env = os.environ
    host = env.get("NITRO_HOST") or env.get("HOST") or "127.0.0.1"
    port = env.get("NITRO_PORT") or env.get("PORT") or "3000"
    os.chdir(source)  # the platform runs the function from its source directory
    args = functions_framework_args(source, host, port)
    os.execv(args[0], args)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
