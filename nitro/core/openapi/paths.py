"""Router notation -> OpenAPI paths.

OpenAPI path parameters are always required and name exactly one template, so
the routes that match more than one shape are listed once per shape:

==========================  ==============================================  =====
route (``nitro routes``)    OpenAPI paths                                   rank
==========================  ==============================================  =====
``/users/:id``              ``/users/{id}``                                 0
``/opt/:id?``               ``/opt/{id}``, and ``/opt`` (no param)          0, 1
``/blog/**:slug``           ``/blog/{slug}`` (one or more segments)         0
``/files/**``               ``/files/{_}``, and ``/files`` (zero segments)  0, 2
==========================  ==============================================  =====

A catch-all's value may hold ``/`` (sent encoded as ``%2F``, or as is): its
parameter says so. `rank` orders forms that land on the same path and method the
way the router does: a route's own shape beats an optional param's short form,
which beats a zero-segment catch-all.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["PathForm", "openapi_paths", "template_shape"]


class PathForm(NamedTuple):
    """One OpenAPI path a route answers: its template, its params in order, its rank."""

    path: str
    params: tuple[str, ...]
    rank: int
    catch_all: str | None = None  # the param that takes the rest of the path


def openapi_paths(route: str) -> list[PathForm]:
    """The OpenAPI paths of `route` (router notation).

    Example::

        openapi_paths("/opt/:id?")
        # [PathForm("/opt/{id}", ("id",), 0), PathForm("/opt", (), 1)]
    """
    segments = [s for s in route.split("/") if s]
    out: list[str] = []
    params: list[str] = []
    for seg in segments[:-1]:
        out.append(_template(seg, params))
    if not segments:
        return [PathForm("/", (), 0)]
    last = segments[-1]
    head = "/" + "/".join(out) if out else ""
    if last.startswith(":") and last.endswith("?"):
        name = last[1:-1]
        return [
            PathForm(f"{head}/{{{name}}}", (*params, name), 0),
            PathForm(head or "/", tuple(params), 1),
        ]
    if last == "**":
        return [
            PathForm(f"{head}/{{_}}", (*params, "_"), 0, "_"),
            PathForm(head or "/", tuple(params), 2),
        ]
    if last.startswith("**:"):
        name = last[3:]
        return [PathForm(f"{head}/{{{name}}}", (*params, name), 0, name)]
    path = f"{head}/{_template(last, params)}"
    return [PathForm(path, tuple(params), 0)]


def template_shape(path: str) -> str:
    """`path` with its param names blanked: ``/users/{id}`` -> ``/users/{}``. OpenAPI
    forbids two paths of one shape, which the router treats as one position."""
    return "/".join("{}" if s.startswith("{") else s for s in path.split("/"))


def _template(seg: str, params: list[str]) -> str:
    if seg.startswith(":"):
        params.append(seg[1:])
        return "{" + seg[1:] + "}"
    return seg
