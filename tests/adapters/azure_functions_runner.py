"""Drives a built function app in another interpreter (azure-functions 2.x needs Python
3.13): ``python azure_functions_runner.py .output/server``.

Reads one JSON request a line on stdin, answers one JSON line on stdout:

- ``{"op": "http", "method", "url", "headers": [[k, v]], "body": b64}`` ->
  ``{"status", "headers": [[k, v]], "body": b64}``
- ``{"op": "timer", "name", "past_due", "status"}`` -> ``{"ok": true}`` or ``{"error", "type"}``
- ``{"op": "bindings"}`` -> ``{"bindings": {function: [binding, ...]}}``
- ``{"op": "info"}`` -> versions, and the fixture plugin's recorded errors

Everything runs on one event loop, as in the worker. At end of input the app gets its
lifespan shutdown. Only replies go to stdout; anything the app prints goes to stderr.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from pathlib import Path
from typing import Any


def _load_preview() -> Any:
    import importlib.util

    path = (
        Path(__file__).resolve().parents[2] / "nitro" / "presets" / "azure_functions" / "preview.py"
    )
    spec = importlib.util.spec_from_file_location("nitro_azure_functions_preview", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    server = Path(sys.argv[1]).resolve()
    replies = sys.stdout
    sys.stdout = sys.stderr
    sys.path.insert(0, str(server / "_vendor"))
    # The build ships no deploy code: the host comes from this checkout, the app
    # (and the nitro it runs on) from the build.
    preview = _load_preview()
    FunctionsHost, load_function_app = preview.FunctionsHost, preview.load_function_app

    host = FunctionsHost(load_function_app(server), server)
    loop = asyncio.new_event_loop()
    try:
        for line in sys.stdin:
            if line.strip():
                reply = loop.run_until_complete(handle(host, json.loads(line)))
                replies.write(json.dumps(reply) + "\n")
                replies.flush()
        loop.run_until_complete(host.close())
    finally:
        loop.close()
    return 0


async def handle(host: Any, request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    if op == "http":
        status, headers, body = await host.http(
            request["method"],
            request["url"],
            [tuple(h) for h in request["headers"]],
            base64.b64decode(request["body"]),
        )
        return {"status": status, "headers": headers, "body": base64.b64encode(body).decode()}
    if op == "timer":
        try:
            await host.timer(
                request["name"],
                past_due=request.get("past_due", False),
                status=request.get("status"),
            )
        except Exception as exc:
            return {"error": str(exc), "type": type(exc).__name__}
        return {"ok": True}
    if op == "bindings":
        return {"bindings": host.bindings()}
    if op == "info":
        import azure.functions

        nitro_app = sys.modules["function_app"].nitro_app
        return {
            "azure_functions": azure.functions.__version__,
            "python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "errors": nitro_app.state.get("errors", []),
        }
    return {"error": f"unknown op {op!r}", "type": "ValueError"}


if __name__ == "__main__":
    raise SystemExit(main())
