"""`nitro preview [DIR]`: serve the built output through its own platform entry."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ..config import load_dotenv
    from ..presets import get_preset
    from ._errors import ProjectError
    from ._project import log, project_root

    root = project_root(args.dir)
    info_path = root / ".output" / "nitro.json"
    if not info_path.is_file():
        raise ProjectError(f"[nitro] no build in {root / '.output'}; run `nitro build` first")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    preset = get_preset(info["preset"])
    env = dict(os.environ)
    loaded = load_dotenv(root, env)
    if loaded:
        log(f"loaded .env: {', '.join(loaded)}")
    env["NITRO_HOST"] = args.host or env.get("NITRO_HOST") or "127.0.0.1"
    if args.port:
        env["NITRO_PORT"] = str(args.port)
    command = preset.preview(root)
    log(f"previewing the {preset.name} build: {' '.join(command)}")
    return run_forwarding_signals(command, env=env, cwd=root)


def run_forwarding_signals(
    command: list[str], *, env: dict[str, str], cwd: os.PathLike[str] | str
) -> int:
    """Run `command`, passing SIGINT/SIGTERM on to it, and return its exit code."""
    process = subprocess.Popen(command, env=env, cwd=cwd)

    def forward(signum: int, _frame: object) -> None:
        if process.poll() is None:
            process.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
