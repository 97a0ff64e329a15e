"""`nitro.presets` modules import each other in one direction: no cycle, counting the
imports inside functions too (a cycle there works only while every caller imports
the modules in the right order, and ties a preset to its writers both ways)."""

from __future__ import annotations

import ast
from pathlib import Path

import nitro

PACKAGE = Path(nitro.__file__).parent
PRESETS = PACKAGE / "presets"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, known: set[str]) -> set[str]:
    """The modules of `known` that `path` imports, anywhere in it."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from . import runner` imports the module `runner` of the package.
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph`, or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph[module]):
            found = visit(imported, [*path, module])
            if found:
                return found
        done.add(module)
        return None

    for module in sorted(graph):
        found = visit(module, [])
        if found:
            return found
    return None


def test_preset_modules_have_no_import_cycle() -> None:
    paths = {module_name(p): p for p in PRESETS.rglob("*.py")}
    known = set(paths)
    graph = {name: imports(path, known) - {name} for name, path in paths.items()}
    assert cycle(graph) is None
    # The template is written from the deploy's description, not from the preset.
    assert "nitro.presets.aws_lambda.deploy.resources" in graph["nitro.presets.aws_lambda.sam"]
    assert "nitro.presets.aws_lambda.preset" not in graph["nitro.presets.aws_lambda.sam"]


def test_a_cycle_is_found() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None
