"""Reading a route file's ``define_route_meta(...)`` from its syntax tree.

Like Nitro's ``defineRouteMeta`` macro, the call is read, never run: its
arguments must be literals (dicts, lists, strings, numbers, True/False/None), so
the scanner stays pure and the meta costs nothing at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from ..core.route_meta import ROUTE_META_KEYS

__all__ = ["read_route_meta"]

_CALL = "define_route_meta"


def read_route_meta(path: Path, file: str, problems: list[str]) -> dict[str, Any] | None:
    """The literal keyword arguments of `path`'s top-level ``define_route_meta(...)``,
    or None. A call nitro cannot read is reported in `problems`, naming `file`."""
    source = path.read_bytes()
    if _CALL.encode() not in source:
        return None  # most route files: no second parse
    try:
        tree = ast.parse(source, filename=file)
    except SyntaxError:
        return None  # the scanner reports it already
    calls = [call for node in tree.body if (call := _meta_call(node)) is not None]
    if not calls:
        return None
    if len(calls) > 1:
        problems.append(
            f"{file}: define_route_meta(...) is called {len(calls)} times; call it once"
        )
        return None
    try:
        return _literal_keywords(calls[0])
    except ValueError as exc:
        problems.append(f"{file}: line {calls[0].lineno}: define_route_meta(...) {exc}")
        return None


def _meta_call(node: ast.stmt) -> ast.Call | None:
    """The ``define_route_meta(...)`` call a top-level statement makes, if any
    (``define_route_meta(...)`` or ``meta = define_route_meta(...)``)."""
    if isinstance(node, (ast.Expr, ast.Assign, ast.AnnAssign)):
        value = node.value
        if isinstance(value, ast.Call):
            func = value.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == _CALL:
                return value
    return None


def _literal_keywords(call: ast.Call) -> dict[str, Any]:
    if call.args:
        raise ValueError("takes keyword arguments only: define_route_meta(openapi={...})")
    meta: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg not in ROUTE_META_KEYS:
            shown = "**" if keyword.arg is None else repr(keyword.arg)
            raise ValueError(f"has no argument {shown} (it takes: {', '.join(ROUTE_META_KEYS)})")
        try:
            value = ast.literal_eval(keyword.value)
        except ValueError:
            raise ValueError(
                f"{keyword.arg}= must be a literal (dicts, lists, strings, numbers, "
                "True/False/None): the scanner reads it without running the file"
            ) from None
        if not isinstance(value, dict):
            raise ValueError(f"{keyword.arg}= must be a dict (an OpenAPI Operation Object)")
        meta[keyword.arg] = _as_json(value, keyword.arg)
    return meta


def _as_json(value: Any, where: str) -> Any:
    """`value` as the manifest's JSON will give it back (``404`` keys -> ``"404"``,
    tuples -> lists), so dev and a build see the same; what JSON cannot hold (a set,
    bytes) is an error."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise ValueError(f"{where}: key {key!r} must be a string (or a status code)")
            out[str(key)] = _as_json(item, f"{where}[{key!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [_as_json(item, f"{where}[{index}]") for index, item in enumerate(value)]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError(f"{where} is a {type(value).__name__}, which JSON cannot hold")
