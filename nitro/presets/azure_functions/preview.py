"""`nitro preview` for the azure-functions preset: local HTTP through the built function app.

The Functions host (Core Tools) cannot be installed everywhere: its npm package
downloads the host from a Microsoft CDN at install time. So `FunctionsHost` plays the
host's and the Python worker's part in this process: it indexes `app` from
``function_app.py`` as the worker does (``get_functions()``), hands each request to
the HTTP function as a ``func.HttpRequest`` (headers as one value per name, as the
host passes them), and encodes the returned ``func.HttpResponse`` with the library's
own converter, as the worker does for the host: one value per header name, cookies
apart. ``POST /admin/functions/<name>`` runs a timer function, like the host's admin
API for non-HTTP functions (https://learn.microsoft.com/azure/azure-functions/functions-manually-run-non-http).

Run: ``python -m nitro.presets.azure_functions.preview .output/server`` (what
`nitro preview` does); it serves on ``NITRO_HOST``/``NITRO_PORT`` (127.0.0.1:3000).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import sys
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.cookies import Morsel
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.types import Receive, Scope, Send

__all__ = ["FunctionsHost", "PreviewServer", "load_function_app", "main"]

Headers = list[tuple[str, str]]


@dataclass
class InvocationContext:
    """What the worker passes as ``context`` (``func.Context``'s attributes)."""

    function_name: str
    function_directory: str
    invocation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    trace_context: Any = None
    retry_context: Any = None
    thread_local_storage: Any = None


def load_function_app(server: Path) -> Any:
    """Import ``function_app.py`` as the worker does (module ``function_app``, the
    app root on ``sys.path``) and return its `app`."""
    server = server.resolve()
    if str(server) not in sys.path:
        sys.path.insert(0, str(server))
    spec = importlib.util.spec_from_file_location("function_app", server / "function_app.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"[nitro] no function_app.py in {server}; run `nitro build`")
    module = importlib.util.module_from_spec(spec)
    sys.modules["function_app"] = module
    spec.loader.exec_module(module)
    return module.app


class FunctionsHost:
    """Invokes a function app's functions as the Functions host and worker would."""

    def __init__(self, app: Any, directory: Path | None = None) -> None:
        self.app = app
        self.directory = str(directory or Path.cwd())
        # get_functions() may run once per app: it records names as it validates them.
        self.functions = {f.get_function_name(): f for f in app.get_functions()}
        http = [name for name, f in self.functions.items() if f.is_http_function()]
        if len(http) != 1:
            raise RuntimeError(f"[nitro] expected one HTTP function, found {http}")
        self.http_function = http[0]

    def bindings(self) -> dict[str, list[dict[str, Any]]]:
        """Each function's bindings, as the host reads them."""
        return {
            name: json.loads(f.get_function_json())["bindings"]
            for name, f in self.functions.items()
        }

    async def http(
        self, method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> tuple[int, Headers, bytes]:
        """One HTTP invocation: status, headers (lower-case names) and body."""
        import azure.functions as func
        from azure.functions.http import HttpResponseConverter

        merged: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            separator = "; " if key == "cookie" else ", "
            merged[key] = f"{merged[key]}{separator}{value}" if key in merged else value
        parts = urlsplit(url)
        request = func.HttpRequest(
            method=method.upper(),
            url=url,
            headers=merged,
            params=dict(parse_qsl(parts.query, keep_blank_values=True)),
            route_params={"route": parts.path.lstrip("/")},
            body=body,
        )
        user_function = self.functions[self.http_function].get_user_function()
        response = await user_function(request, self._context(self.http_function))
        value = HttpResponseConverter.encode(response, expected_type=None).value
        out: Headers = [(name.lower(), datum.value) for name, datum in value["headers"].items()]
        for cookie in value["cookies"] or ():
            out += [("set-cookie", _set_cookie(morsel)) for morsel in cookie.values()]
        return int(value["status_code"].value), out, value["body"].value or b""

    async def timer(
        self, name: str, *, past_due: bool = False, status: Mapping[str, str] | None = None
    ) -> None:
        """One timer invocation, from the JSON the host sends for a timer trigger."""
        from azure.functions import meta
        from azure.functions.timer import TimerRequestConverter

        function = self.functions.get(name)
        if function is None or function.is_http_function():
            raise KeyError(f"[nitro] no timer function {name!r}")
        info = {
            "Schedule": {"AdjustForDST": True},
            "ScheduleStatus": dict(status) if status else None,
            "IsPastDue": past_due,
        }
        timer = TimerRequestConverter.decode(
            meta.Datum(json.dumps(info), "json"), trigger_metadata=None
        )
        await function.get_user_function()(timer=timer)

    async def close(self) -> None:
        """Send the ASGI lifespan shutdown (the app's ``close`` hooks), once."""
        if getattr(self.app, "startup_task_done", False):
            self.app.startup_task_done = False  # AsgiFunctionApp.__del__ would do it again
            await self.app.middleware.notify_shutdown()

    def _context(self, name: str) -> InvocationContext:
        return InvocationContext(function_name=name, function_directory=self.directory)


class PreviewServer:
    """The ASGI app uvicorn serves: every request through `host`."""

    def __init__(self, host: FunctionsHost) -> None:
        self.host = host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.host.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        path = scope["path"]
        if scope["method"] == "POST" and path.startswith("/admin/functions/"):
            status, out, content = await self._admin(scope, path.rsplit("/", 1)[-1])
        else:
            host = dict(headers).get("host") or "{}:{}".format(*scope["server"])
            target = scope.get("raw_path") or path.encode()
            query = scope.get("query_string", b"")
            url = f"{scope['scheme']}://{host}{target.decode('latin-1')}"
            url += f"?{query.decode('latin-1')}" if query else ""
            status, out, content = await self.host.http(scope["method"], url, headers, body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out],
            }
        )
        await send({"type": "http.response.body", "body": content})

    async def _admin(self, scope: Scope, name: str) -> tuple[int, Headers, bytes]:
        client = scope.get("client")
        if not client or not ipaddress.ip_address(client[0]).is_loopback:
            return 403, [], b""
        try:
            await self.host.timer(name)
        except KeyError as exc:
            return _json(404, {"error": str(exc.args[0])})
        except Exception as exc:
            return _json(500, {"error": f"{type(exc).__name__}: {exc}"})
        return 202, [], b""


def _set_cookie(morsel: Morsel[str]) -> str:
    # The worker sends each cookie's fields (name, value, attributes), not the line:
    # the host writes the value as it is, where SimpleCookie would quote an empty one.
    attributes = morsel.OutputString()[len(f"{morsel.key}={morsel.coded_value}") :]
    return f"{morsel.key}={morsel.value}{attributes}"


def _json(status: int, data: Any) -> tuple[int, Headers, bytes]:
    return status, [("content-type", "application/json")], json.dumps(data).encode()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    server = Path(args[0] if args else ".output/server").resolve()
    try:
        import azure.functions  # noqa: F401
    except ImportError:
        raise SystemExit(
            "[nitro] previewing an azure-functions build needs the azure-functions library "
            "where nitro runs (Azure installs it from requirements.txt): "
            'pip install "nitro-py[azure-functions]"'
        ) from None
    from ...adapters.uvicorn import serve

    host = FunctionsHost(load_function_app(server), server)
    serve(PreviewServer(host))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
