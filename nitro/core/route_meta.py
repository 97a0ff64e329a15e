"""`define_route_meta`: what a route file says about itself, read without running it.

Like Nitro's ``defineRouteMeta`` macro, the call is read from the route module's
syntax tree when the project is scanned (so its argument must be a literal); at
run time the call does nothing but return what it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ROUTE_META_KEYS", "define_route_meta"]

ROUTE_META_KEYS = ("openapi",)
"""The keyword arguments `define_route_meta` takes."""


def define_route_meta(*, openapi: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Declare a route's metadata at the top level of its route file.

    `openapi` is an OpenAPI Operation Object merged last into the route's operation
    in ``/_openapi.json`` (it wins over what nitro infers); its ``$global`` key is
    merged into the document itself (shared ``components``). The scanner reads it
    from the file's syntax tree, so it must be a literal (no names, no calls).

    Example (``routes/users/[id].get.py``)::

        from nitro import define_handler, define_route_meta

        define_route_meta(openapi={"tags": ["users"], "responses": {404: {"description": "No such user"}}})

        @define_handler
        def handler(id: int):
            return {"id": id}
    """
    return {"openapi": dict(openapi or {})}
