"""The `server` option: how the server and docker presets (and `nitro preview`) serve.

``server={"workers": 4, "engine": "granian"}``: `workers` is a count of processes or
``"auto"`` (the CPUs this process may use), `engine` the HTTP server that runs in each
of them. Defaults: one uvicorn worker. ``NITRO_WORKERS`` (then ``WEB_CONCURRENCY``)
override `workers` at start-up (`nitro.runtime.workers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.options import did_you_mean

__all__ = ["ENGINES", "SERVER_DEFAULTS", "check_server", "check_workers"]

ENGINES = ("uvicorn", "granian")
SERVER_DEFAULTS: dict[str, Any] = {"workers": 1, "engine": "uvicorn"}


def check_workers(value: Any, where: str) -> int | str:
    """`value` as a worker count (an int >= 1, or a digit string) or ``"auto"``; else a
    ValueError whose message starts with `where` (the option or variable given)."""
    given = value
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "auto":
            return "auto"
        if text.isdigit():
            value = int(text)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ValueError(f"{where}={given!r}: give a number of worker processes (1, 2, ...) or 'auto'")


def check_server(value: Any) -> dict[str, Any]:
    """The checked `server` option with its defaults filled in."""
    from .options import ConfigError  # options imports this module for its table

    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise ConfigError(
            "[nitro:config] server must be a dict such as {'workers': 'auto', 'engine': 'uvicorn'}"
        )
    for key in value:
        if key not in SERVER_DEFAULTS:
            raise ConfigError(
                f"[nitro:config] server: unknown option {key!r}"
                f"{did_you_mean(str(key), SERVER_DEFAULTS, label='options')}"
            )
    merged = {**SERVER_DEFAULTS, **value}
    try:
        merged["workers"] = check_workers(merged["workers"], "server workers")
    except ValueError as exc:
        raise ConfigError(f"[nitro:config] {exc}") from None
    if merged["engine"] not in ENGINES:
        raise ConfigError(
            f"[nitro:config] server engine must be one of {', '.join(ENGINES)}, "
            f"got {merged['engine']!r}"
        )
    return merged
