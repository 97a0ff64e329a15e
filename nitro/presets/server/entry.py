"""The server preset's entry: what ``python .output/server/index.py`` runs.

The built ``index.py`` only puts a vendored nitro on the path (the docker preset
ships one) and calls this module::

    from nitro.presets.server import entry

    app = entry.create_app(HERE, scheduler=__name__ == "__main__")
    if __name__ == "__main__":
        entry.serve(app)

Only the running server schedules `scheduled_tasks`: a process that imports
``index.py`` (the build's import check, or ``uvicorn index:app``) gets the app alone.
"""

from __future__ import annotations

from pathlib import Path

from nitro.core.app import NitroApp
from nitro.runtime.app import load_app

__all__ = ["create_app", "serve"]


def create_app(server: Path, *, scheduler: bool = False) -> NitroApp:
    """The app of the build whose ``.output/server`` is `server` (public assets in
    ``.output/public``); `scheduler` runs its schedule in this process."""
    return load_app(
        server / "app",
        manifest=server / "manifest.json",
        public_dir=server.parent / "public",
        scheduler=scheduler,
    )


def serve(app: NitroApp) -> None:
    """Serve `app` with uvicorn until SIGTERM or SIGINT (`nitro.adapters.uvicorn`); a
    stop waits for in-flight requests up to the app's `shutdown_timeout`."""
    import gc

    from nitro.adapters.uvicorn import serve as serve_with_uvicorn

    # This process is the server's: what it has loaded lives as long as it does, so keep
    # it out of the garbage collector's full passes, which would otherwise walk all of
    # it (multi-millisecond pauses in tail latency).
    gc.freeze()
    serve_with_uvicorn(app, shutdown_timeout=app.shutdown_timeout)
