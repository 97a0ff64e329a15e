"""`nitro task list [DIR]` and `nitro task run NAME [DIR] --payload JSON`.

Both load the project in-process (dev configuration: `.env`, `dev_storage`), so no
server needs to be running. `run` prints ``{"result": ...}`` on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import anyio

    from ..config import load_dotenv
    from ._project import project_root

    payload: Any = None
    if args.task_command == "run":
        try:
            payload = json.loads(args.payload)
        except ValueError as exc:
            parser.error(f"--payload is not valid JSON: {exc}")
        if not isinstance(payload, dict):
            parser.error("--payload must be a JSON object, e.g. '{\"dry_run\": true}'")
    root = project_root(args.dir)
    load_dotenv(root)
    return anyio.run(_main, args, root, payload)


async def _main(args: argparse.Namespace, root: Any, payload: Any) -> int:
    from ..core.response import encode_json
    from ..runtime.app import load_app

    app = load_app(root, dev=True, log_requests=False)
    await app.startup()
    try:
        if args.task_command == "list":
            schedules: dict[str, list[str]] = {}
            for cron, names in app.tasks.schedule.items():
                for name in names:
                    schedules.setdefault(name, []).append(cron)
            for name, info in app.tasks.describe().items():
                crons = f"[{', '.join(schedules[name])}]" if name in schedules else ""
                print("  ".join(part for part in (name, info["description"], crons) if part))
            return 0
        result = await app.tasks.run(args.name, payload, {"source": "cli"})
        sys.stdout.write(encode_json({"result": result}).decode() + "\n")
        return 0
    finally:
        await app.shutdown()
