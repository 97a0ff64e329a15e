"""Telling ASGI apps from WSGI apps, and wrapping WSGI ones (Flask, Django)."""

from __future__ import annotations

import inspect
from typing import Any

from starlette.types import ASGIApp

from .sync import is_async_callable

__all__ = ["as_asgi", "is_asgi_app"]


def is_asgi_app(app: Any) -> bool:
    """True for an ASGI 3 callable: ``async (scope, receive, send)``."""
    return is_async_callable(app)


def as_asgi(app: Any) -> ASGIApp:
    """`app` as an ASGI app: ASGI apps as they are, WSGI apps wrapped (needs `a2wsgi`)."""
    if is_asgi_app(app):
        return app
    if callable(app) and _takes_two_args(app):
        try:
            from a2wsgi import WSGIMiddleware
        except ImportError:
            raise TypeError(
                'a WSGI app needs the wsgi extra: pip install "nitro-py[wsgi]"'
            ) from None
        return WSGIMiddleware(app)  # type: ignore[return-value]  # a2wsgi's stricter ASGI types
    raise TypeError(f"`app` must be an ASGI or WSGI application, got {type(app).__name__}")


def _takes_two_args(app: Any) -> bool:
    # inspect.signature sees through functions, methods and objects with __call__.
    try:
        params = inspect.signature(app).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 2
