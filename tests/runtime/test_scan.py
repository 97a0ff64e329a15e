from __future__ import annotations

from pathlib import Path

import pytest

from nitro.core.manifest import Manifest
from nitro.runtime.scan import ScanError, routes_for_env, scan, scan_project

HANDLER = "from nitro import define_handler\n\n@define_handler\nasync def handler(event):\n    return 'x'\n"


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def table(root: Path) -> list[tuple[str, str | None, str]]:
    return sorted((e.route, e.method, e.file) for e in scan(root))


def test_file_names_to_routes(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "routes/index.py": HANDLER,
            "routes/about.py": HANDLER,
            "routes/users/index.get.py": HANDLER,
            "routes/users/index.post.py": HANDLER,
            "routes/users/[id].py": HANDLER,
            "routes/users/[user-id]/posts.py": HANDLER,
            "routes/opt/[[page]].py": HANDLER,
            "routes/blog/[...slug].py": HANDLER,
            "routes/any/[...].py": HANDLER,
            "routes/(group)/grouped.py": HANDLER,
            "routes/robots.txt.py": HANDLER,
            "routes/_private.py": HANDLER,
            "routes/_lib/helper.py": "raise SystemExit('never imported')",
            "routes/__init__.py": "",
            "routes/.hidden/x.py": HANDLER,
            "routes/notes.md": "not python",
            "api/index.py": HANDLER,
            "api/v1/items.delete.py": HANDLER,
        },
    )
    assert table(root) == [
        ("/", None, "routes/index.py"),
        ("/about", None, "routes/about.py"),
        ("/any/**", None, "routes/any/[...].py"),
        ("/api", None, "api/index.py"),
        ("/api/v1/items", "delete", "api/v1/items.delete.py"),
        ("/blog/**:slug", None, "routes/blog/[...slug].py"),
        ("/grouped", None, "routes/(group)/grouped.py"),
        ("/opt/:page?", None, "routes/opt/[[page]].py"),
        ("/robots.txt", None, "routes/robots.txt.py"),
        ("/users", "get", "routes/users/index.get.py"),
        ("/users", "post", "routes/users/index.post.py"),
        ("/users/:id", None, "routes/users/[id].py"),
        ("/users/:user_id/posts", None, "routes/users/[user-id]/posts.py"),
    ]


def test_env_suffixes_and_env_selection(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "routes/a.py": HANDLER,
            "routes/a.dev.py": HANDLER,
            "routes/b.get.prod.py": HANDLER,
            "routes/c.py": HANDLER,
        },
    )
    entries = scan(root)
    assert {(e.file, e.env) for e in entries} >= {
        ("routes/a.dev.py", "dev"),
        ("routes/b.get.prod.py", "prod"),
    }
    dev = {e.file for e in routes_for_env(entries, "dev")}
    prod = {e.file for e in routes_for_env(entries, "prod")}
    assert dev == {"routes/a.dev.py", "routes/c.py"}
    assert prod == {"routes/a.py", "routes/b.get.prod.py", "routes/c.py"}


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"routes/post-[id].py": HANDLER},
            "routes/post-[id].py: 'post-[id]' mixes text and a [param]",
        ),
        ({"routes/[a b].py": HANDLER}, "routes/[a b].py: '[a b]' is not a valid param name"),
        (
            {"routes/[...rest]/x.py": HANDLER},
            "routes/[...rest]/x.py: a catch-all [...rest] must be the last part",
        ),
        (
            {"routes/[[a]]/x.py": HANDLER},
            "routes/[[a]]/x.py: an optional param [[a]] must be the last part",
        ),
        ({"routes/x.py": "value = 1\n"}, "routes/x.py: has no `handler` and no"),
        (
            {
                "routes/x.py": "from nitro import define_handler\na = define_handler(print)\nb = define_handler(print)\n"
            },
            "routes/x.py: defines several handlers (a, b); name the one to use `handler`",
        ),
        ({"routes/x.py": "def handler(:\n"}, "routes/x.py: syntax error on line 1"),
        (
            {"routes/users/[id].py": HANDLER, "routes/users/[name].py": HANDLER},
            "routes/users/[name].py: any method /users/:name is also handled by routes/users/[id].py",
        ),
        (
            {"routes/api/x.get.py": HANDLER, "api/x.get.py": HANDLER},
            "routes/api/x.get.py: GET /api/x is also handled by api/x.get.py",
        ),
        (
            {"routes/opt.py": HANDLER, "routes/opt/[[id]].py": HANDLER},
            "routes/opt/[[id]].py: any method /opt/:id? is also handled by routes/opt.py",
        ),
        ({"middleware/01.x.py": "x = 1\n"}, "middleware/01.x.py: has no `handler`"),
        (
            {"plugins/01.x.py": "x = 1\n"},
            "plugins/01.x.py: has no `plugin` and no define_plugin(...) object",
        ),
        ({"server.py": "x = 1\n"}, "server.py: export `app`"),
        (
            {"routes/admin/_middleware.py": "x = 1\n"},
            "routes/admin/_middleware.py: has no `handler`",
        ),
    ],
)
def test_problems_name_the_file(tmp_path: Path, files: dict[str, str], message: str) -> None:
    root = project(tmp_path, files)
    with pytest.raises(ScanError) as info:
        scan_project(root)
    assert any(problem.startswith(message) for problem in info.value.problems), info.value.problems


def test_tolerant_mode_collects_problems_and_marks_routes(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {"routes/good.py": HANDLER, "routes/bad.py": "nothing = 1\n", "routes/[oops.py": HANDLER},
    )
    problems: list[str] = []
    manifest = scan_project(root, problems)
    assert len(problems) == 2
    bad = next(e for e in manifest.routes if e.file == "routes/bad.py")
    assert bad.problem is not None and bad.export is None
    assert next(e for e in manifest.routes if e.file == "routes/good.py").problem is None


def test_handler_detection_forms(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "routes/plain.py": "def handler(event):\n    return 1\n",
            "routes/assigned.py": "from nitro import define_handler\nshow = define_handler(lambda e: 1)\n",
            "routes/decorated.py": "import nitro\n\n@nitro.define_handler(middleware=[])\ndef show(event):\n    return 1\n",
            "routes/imported.py": "from lib.handlers import handler\n",
            "routes/cached.py": "from nitro import define_cached_handler\n\n@define_cached_handler(max_age=5)\nasync def page(event):\n    return 1\n",
            "routes/ws.py": "from nitro import define_websocket_handler\nsocket = define_websocket_handler(open=None)\n",
        },
    )
    exports = {e.file: (e.export, e.kind) for e in scan(root)}
    assert exports == {
        "routes/plain.py": ("handler", "http"),
        "routes/assigned.py": ("show", "http"),
        "routes/decorated.py": ("show", "http"),
        "routes/imported.py": ("handler", "http"),
        "routes/cached.py": ("page", "http"),
        "routes/ws.py": ("socket", "websocket"),
    }


def test_scoped_middleware_outermost_first(tmp_path: Path) -> None:
    mw = "from nitro import define_middleware\nhandler = define_middleware(lambda e: None)\n"
    root = project(
        tmp_path,
        {
            "routes/_middleware.py": mw,
            "routes/admin/_middleware.py": mw,
            "routes/admin/(tools)/_middleware.py": mw,
            "routes/admin/(tools)/panel.py": HANDLER,
            "routes/public.py": HANDLER,
        },
    )
    by_file = {e.file: e.middleware for e in scan(root)}
    assert by_file["routes/admin/(tools)/panel.py"] == (
        "routes/_middleware.py",
        "routes/admin/_middleware.py",
        "routes/admin/(tools)/_middleware.py",
    )
    assert by_file["routes/public.py"] == ("routes/_middleware.py",)


def test_middleware_plugins_tasks_and_server(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "middleware/10.late.py": "from nitro import define_middleware\nlate = define_middleware(print)\n",
            "middleware/02.early.py": "def handler(event):\n    pass\n",
            "plugins/01.a.py": "from nitro import define_plugin\nplugin = define_plugin(print)\n",
            "tasks/db/migrate.py": "from nitro import define_task\n\n@define_task(description='Run migrations')\ndef task(payload, context):\n    pass\n",
            "tasks/index.py": "from nitro import define_task\nt = define_task(name='root:task', run=print)\n",
            "tasks/cms/update.py": "from nitro import define_task\n\n@define_task\ndef run(payload, context):\n    pass\n",
            "server.py": "from fastapi import FastAPI\napp = FastAPI()\n\ndef handler(event):\n    pass\n",
        },
    )
    manifest = scan_project(root)
    assert [(m.file, m.export) for m in manifest.middleware] == [
        ("middleware/02.early.py", "handler"),
        ("middleware/10.late.py", "late"),
    ]
    assert [(p.file, p.export) for p in manifest.plugins] == [("plugins/01.a.py", "plugin")]
    assert [(t.name, t.export, t.description) for t in manifest.tasks] == [
        ("cms:update", "run", ""),
        ("db:migrate", "task", "Run migrations"),
        ("root:task", "t", ""),
    ]
    assert manifest.server_app is not None and manifest.server_app.export == "app"
    assert manifest.server_handler is not None and manifest.server_handler.export == "handler"


def test_scanning_never_imports_user_code(tmp_path: Path) -> None:
    boom = "raise SystemExit('imported!')\nhandler = None\n"
    root = project(
        tmp_path,
        {"routes/a.py": boom, "middleware/a.py": boom, "plugins/a.py": "plugin = 1\n" + boom},
    )
    assert len(scan_project(root).routes) == 1


def test_manifest_round_trips_through_json(tmp_path: Path) -> None:
    root = project(
        tmp_path, {"routes/users/[id].get.py": HANDLER, "routes/_middleware.py": HANDLER}
    )
    manifest = scan_project(root)
    again = Manifest.from_json(manifest.to_json())
    assert again.routes == manifest.routes
    assert manifest.to_json()["routes"] == [
        {
            "route": "/users/:id",
            "file": "routes/users/[id].get.py",
            "method": "get",
            "export": "handler",
            "middleware": ["routes/_middleware.py"],
        }
    ]
    with pytest.raises(ValueError, match="rebuild"):
        Manifest.from_json({"version": 0})
