"""House rules that keep the package's shape: import direction, lazy extras, the facade."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import nitro

PACKAGE = Path(nitro.__file__).parent
# Who may import whom (DESIGN.md section 1): cli -> presets -> bundle -> config -> core;
# a preset's entry module uses runtime and its platform's adapter; runtime -> config,
# core (and the registries of drivers and connectors it mounts); adapters, storage
# drivers and SQL connectors -> core. Imports inside functions count too. "nitro" is
# the package itself (its __version__).
LAYERS: dict[str, set[str]] = {
    "core": {"core"},
    "config": {"config", "core"},
    "storage_drivers": {"storage_drivers", "core"},
    "sql_connectors": {"sql_connectors", "core"},
    "adapters": {"adapters", "core"},
    "secret_stores": {"secret_stores", "core"},
    # ... and the secret store its options name, when the app starts.
    "runtime": {
        "runtime",
        "config",
        "core",
        "storage_drivers",
        "sql_connectors",
        "secret_stores",
    },
    # Bundling runs the app (prerender: runtime, testing) and reads the registries
    # (what a build must ship); never the other way round.
    "bundle": {
        "bundle",
        "runtime",
        "testing",
        "config",
        "core",
        "storage_drivers",
        "sql_connectors",
        "nitro",
    },
    # Previews serve with the uvicorn adapter; entry modules: ENTRY_ADAPTERS.
    "presets": {"presets", "bundle", "runtime", "config", "core", "adapters.uvicorn"},
    "testing": {"testing", "runtime", "core"},
    "cli": {"cli", "presets", "bundle", "runtime", "config", "core", "adapters.uvicorn", "nitro"},
    "__init__": {"config", "core"},
    "__main__": {"cli"},
    "py.typed": set(),
}
# A preset's entry module (presets/<folder>/entry.py) imports runtime, core and its
# platform's adapter only: it is what a deployed function runs.
ENTRY_ADAPTERS: dict[str, str | tuple[str, ...]] = {
    "server": ("uvicorn", "granian"),  # server={"engine": ...}
    "aws_lambda": "aws_lambda",
    "gcp_functions": "gcp_functions",
    "azure_functions": "azure_functions",
    "vercel": "vercel",
}
PLATFORMS = ("uvicorn", "granian", "aws_lambda", "gcp_functions", "azure_functions", "vercel")


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = ".".join(
                    path.relative_to(PACKAGE.parent).with_suffix("").parts[: -node.level]
                )
                base = f"{package}.{base}" if base else package
            names.append(base)
    return names


def layer_of(module: str) -> str:
    """``nitro.adapters.uvicorn`` -> ``adapters.uvicorn``; ``nitro.core.app`` -> ``core``."""
    parts = module.split(".")
    if len(parts) == 1:
        return "nitro"
    if parts[1] == "adapters" and len(parts) > 2:
        return f"adapters.{parts[2]}"
    return parts[1]


def nitro_imports(path: Path) -> list[str]:
    return [n for n in imported_modules(path) if n == "nitro" or n.startswith("nitro.")]


def test_every_folder_of_the_package_has_a_place_in_the_layers() -> None:
    top = {p.name.removesuffix(".py") for p in PACKAGE.iterdir() if p.name != "__pycache__"}
    assert top == set(LAYERS)
    assert {p.parent.name for p in (PACKAGE / "presets").glob("*/entry.py")} == set(ENTRY_ADAPTERS)


def test_imports_go_one_way_between_layers() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        layer = rel.parts[0].removesuffix(".py")
        if rel.parts[0] == "presets" and rel.name == "entry.py":
            continue  # test_preset_entries_use_runtime_and_their_platforms_adapter
        allowed = LAYERS[layer]
        for name in nitro_imports(path):
            target = layer_of(name)
            if target not in allowed and target.split(".")[0] not in allowed:
                offenders.append(f"{rel} imports {name}")
    assert offenders == []


def test_preset_entries_use_runtime_and_their_platforms_adapter() -> None:
    offenders = []
    for folder, adapter in ENTRY_ADAPTERS.items():
        path = PACKAGE / "presets" / folder / "entry.py"
        for name in nitro_imports(path):
            target = layer_of(name)
            if target in ("runtime", "core"):
                continue
            if target.startswith("adapters.") and target.split(".")[1].startswith(adapter):
                continue
            offenders.append(f"presets/{folder}/entry.py imports {name}")
    assert offenders == []


def test_an_adapter_imports_only_core_and_its_own_platform() -> None:
    offenders = []
    for path in (PACKAGE / "adapters").glob("*.py"):
        platform = next((p for p in PLATFORMS if path.stem.startswith(p)), None)
        for name in nitro_imports(path):
            target = layer_of(name)
            if target == "core" or (
                platform is not None
                and target.startswith("adapters.")
                and target.split(".")[1].startswith(platform)
            ):
                continue
            offenders.append(f"adapters/{path.name} imports {name}")
    assert offenders == []


# Extras, plus required dependencies that only some code paths need (kept out of
# cold start). python-multipart is not listed: starlette.responses imports it.
OPTIONAL = [
    "pydantic",
    "a2wsgi",
    "httpx",
    "uvicorn",
    "redis",
    "boto3",
    "botocore",
    "mangum",
    "functions_framework",
    "azure",
    "google",
    "psycopg",
    "asyncpg",
    "aiomysql",
    "asyncmy",
    "croniter",
    "fastapi",
    "dotenv",
    "watchfiles",
    "cryptography",
    "opentelemetry",
]


def test_import_nitro_loads_no_optional_dependency() -> None:
    def loaded(statement: str) -> set[str]:
        code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
        return set(json.loads(subprocess.check_output([sys.executable, "-c", code], text=True)))

    # Only what `import nitro` adds: some installed packages' .pth files import
    # modules in every interpreter (functions-framework's namespace package does).
    added = loaded("import nitro; nitro.NitroApp") - loaded("pass")
    heavy = sorted(name for name in added if name.split(".")[0] in OPTIONAL)
    assert heavy == []


# Serving a handler's JSON, an error, a redirect or a CORS preflight needs none of
# these: Starlette's responses and requests, and anyio with its imports, are most of
# a serverless cold start. They load on first use (hooks, streams, files, forms,
# sync handlers).
FIRST_USE_ONLY = (
    "starlette.responses",
    "starlette.requests",
    "starlette.datastructures",
    "anyio",
    "email.utils",
)

SERVE_ASYNC_APP = """
import asyncio, json, sys
from pathlib import Path
from nitro import NitroApp, define_handler, redirect, html, handle_cors
from nitro.core.storage import Storage
from nitro.storage_drivers.fs import driver as fs_driver
from nitro.sql_connectors.sqlite import connector as sqlite_connector

async def hello(event):
    return {"hello": event.headers.get("x-name", "world")}

async def moved(event):
    return redirect("/elsewhere")

async def page(event):
    return html("<p>{name}</p>", name="<b>")

async def preflight(event):
    return handle_cors(event)

async def broken(event):
    raise ValueError("boom")

app = NitroApp(route_rules={"/old": {"redirect": "/new"}})
for path, fn in [("/", hello), ("/moved", moved), ("/page", page), ("/cors", preflight),
                 ("/broken", broken)]:
    app.add_route(path, define_handler(fn))
app.storage.mount("assets", fs_driver({"base": "."}, root=Path.cwd()))
sqlite_connector({"path": ":memory:"}, root=Path.cwd())  # made at start, never queried

async def call(path, method="GET", headers=()):
    sent = []
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        sent.append(message)
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": list(headers), "http_version": "1.1",
             "scheme": "https", "server": ("example.com", 443), "client": ("1.2.3.4", 5)}
    await app(scope, receive, send)
    return sent[0]["status"]

async def main():
    statuses = [await call("/"), await call("/moved"), await call("/page"),
                await call("/cors", "OPTIONS", [(b"origin", b"https://a.example"),
                                                 (b"access-control-request-method", b"GET")]),
                await call("/old"), await call("/broken"), await call("/nothing")]
    print(json.dumps({"statuses": statuses, "modules": sorted(sys.modules)}))

asyncio.run(main())
"""


def test_serving_common_responses_loads_no_starlette_responses_or_anyio() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SERVE_ASYNC_APP], capture_output=True, text=True, check=True
    )
    answer = json.loads(result.stdout)
    assert answer["statuses"] == [200, 302, 200, 204, 307, 500, 404]
    loaded = [m for m in answer["modules"] if m.startswith(FIRST_USE_ONLY)]
    assert loaded == []


def test_facade_imports_a_module_when_one_of_its_names_is_used() -> None:
    code = (
        "import sys, nitro; before = set(sys.modules); nitro.define_handler; "
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('nitro')))"
    )
    before_use = subprocess.check_output(
        [sys.executable, "-c", "import sys, nitro; print(sorted(sys.modules))"], text=True
    )
    assert "nitro.core" not in before_use and "nitro.config" not in before_use
    used = subprocess.check_output([sys.executable, "-c", code], text=True)
    assert "nitro.core.handlers" in used and "nitro.core.websocket" not in used


def test_define_nitro_config_is_the_same_from_nitro_and_nitro_config() -> None:
    code = (
        "from nitro import define_nitro_config as a; "
        "from nitro.config import define_nitro_config as b; print(a is b)"
    )
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "True"


def test_facade_type_checking_imports_match_the_lazy_table() -> None:
    # Type checkers read the `if TYPE_CHECKING:` imports, the runtime reads
    # `_EXPORTED_FROM`: they must name the same things from the same modules.
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If))
    for_checkers = {
        (alias.name, (node.module or ""))
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    at_runtime = {
        (name, module) for module, names in nitro._EXPORTED_FROM.items() for name in names
    }
    assert for_checkers == at_runtime
    assert sorted(name for name, _ in at_runtime) == [e for e in EXPORTS if e != "__version__"]


EXPORTS = [
    "DatabaseError",
    "Event",
    "HTTPError",
    "NitroApp",
    "Storage",
    "StorageError",
    "__version__",
    "append_response_header",
    "assert_method",
    "basic_auth",
    "clear_session",
    "create_error",
    "create_event_stream",
    "define_cached_function",
    "define_cached_handler",
    "define_handler",
    "define_middleware",
    "define_nitro_config",
    "define_plugin",
    "define_route_meta",
    "define_task",
    "define_websocket_handler",
    "delete_cookie",
    "get_cookie",
    "get_query",
    "get_request_header",
    "get_request_headers",
    "get_request_host",
    "get_request_ip",
    "get_request_protocol",
    "get_request_url",
    "get_router_param",
    "get_router_params",
    "get_session",
    "get_validated_query",
    "handle_cache_headers",
    "handle_cors",
    "html",
    "is_error",
    "is_method",
    "no_content",
    "on_dispose",
    "parse_cookies",
    "proxy_request",
    "read_body",
    "read_form_data",
    "read_raw_body",
    "read_validated_body",
    "redirect",
    "redirect_back",
    "require_basic_auth",
    "require_content_type",
    "run_task",
    "send_stream",
    "set_cookie",
    "set_response_header",
    "set_response_headers",
    "set_response_status",
    "set_server_timing",
    "update_session",
    "use_database",
    "use_event",
    "use_nitro_app",
    "use_runtime_config",
    "use_session",
    "use_storage",
    "with_server_timing",
]


def test_facade_is_pinned_and_documented() -> None:
    assert nitro.__all__ == EXPORTS
    for name in EXPORTS[7:]:
        assert getattr(nitro, name).__doc__, f"nitro.{name} has no docstring"


def test_no_module_is_a_thousand_liner() -> None:
    sizes = {
        p.relative_to(PACKAGE).as_posix(): len(p.read_text().splitlines())
        for p in PACKAGE.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > 500} == {}
