"""`AppSettings`: how a `NitroApp` behaves, as the project's config and its preset decide.

What an app is made of (routes, middleware, plugins, public assets, storage, the
server entry) is given to `NitroApp` beside these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .options import Options

__all__ = ["DEFAULT_MAX_BODY_SIZE", "DEFAULT_SHUTDOWN_TIMEOUT", "AppSettings"]

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024  # bytes
DEFAULT_SHUTDOWN_TIMEOUT = 30.0  # seconds (NITRO_SHUTDOWN_TIMEOUT)


class AppSettings(Options):
    """A `NitroApp`'s behaviour; each option is also a keyword of `NitroApp`.

    Example::

        app = NitroApp(AppSettings(dev=True, max_body_size=1024 * 1024))
        app = NitroApp(dev=True, max_body_size=1024 * 1024)  # the same
    """

    dev: bool = False
    """Development mode: error pages show the stack, routes and config reload."""
    runtime_config: Mapping[str, Any] = {}
    """What `use_runtime_config()` returns (env overrides already applied)."""
    max_body_size: int | None = DEFAULT_MAX_BODY_SIZE
    """Bytes a request body may have (413 beyond); None: no limit."""
    base_url: str = "/"
    """The path the app is mounted under."""
    error_handler: Callable[..., Any] | None = None
    """``error_handler(error, event)``: a response replaces the default error response."""
    route_rules: Mapping[str, Mapping[str, Any]] = {}
    """`route_rules` of the config."""
    websocket: Mapping[str, Any] = {}
    """`websocket` options of the config (``redis_url``, ``max_message_size``...)."""
    serverless: bool = False
    """One request per instance at a time: `wait_until` work finishes before the answer."""
    log_requests: bool = False
    """Log one line per request (method, path, status, time)."""
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    """Seconds shutdown waits for running tasks and `wait_until` work."""
    sync_to_thread: bool = True
    """Where sync user code runs: a worker thread (True), or inline on the event loop."""

    def validate(self) -> None:
        size = self.max_body_size
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size <= 0):
            raise ValueError("max_body_size must be a positive number of bytes, or None")
        if not isinstance(self.base_url, str) or not self.base_url.startswith("/"):
            raise ValueError("base_url must be a path starting with '/'")
        if self.error_handler is not None and not callable(self.error_handler):
            raise ValueError("error_handler must be a function (error, event) -> response | None")
        timeout = self.shutdown_timeout
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
            raise ValueError("shutdown_timeout must be a number of seconds >= 0")
        if not isinstance(self.sync_to_thread, bool):
            raise ValueError("sync_to_thread must be True or False")
