"""The aws-lambda preset's entry: ``index.handler`` of a build.

The built ``index.py`` puts ``_vendor`` (nitro and the dependencies) on the path
and calls this module::

    from nitro.presets.aws_lambda import entry

    handler = entry.create_handler(HERE)

The app is loaded from the build's manifest, with what the preset recorded: the
DynamoDB `data` mount, ``serverless`` (`wait_until` work ends before the invocation
returns) and sync code inline (one request at a time per container: a thread hop
is pure cost), and started there, in Lambda's init phase. EventBridge rules that send the "Scheduled Event" envelope are
matched to their cron by the rule-name suffix the build recorded, and the project's
own event sources (``aws_lambda={"event_sources": ["lib.kinesis:KinesisRecords"]}``)
are asked before the built-in ones.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from nitro.adapters.aws_lambda import EventSource, LambdaHandler
from nitro.runtime.app import IMPORT_CHECK_ENV, load_app, preset_record

__all__ = ["create_handler", "event_source", "stream_function_url"]


def create_handler(code_root: Path) -> LambdaHandler:
    """The Lambda handler of the build whose code root is `code_root`."""
    app = load_app(
        code_root / "app", manifest=code_root / "manifest.json", public_dir=code_root / "public"
    )
    record = preset_record(app)
    schedules = {s.trigger: s.cron for s in record.schedules}
    sources = [event_source(ref) for ref in record.options.get("event_sources", ())]
    handler = LambdaHandler(app, schedules=schedules, sources=sources)
    if os.environ.get(IMPORT_CHECK_ENV) != "1":  # the build imports the entry, never starts it
        # Start in Lambda's init phase, as Nitro's entry does (its plugins run when the
        # module loads): the first invocation then costs what a warm one does, a start-up
        # failure is reported as the init error it is, and a SnapStart snapshot holds
        # the started app.
        handler.start()
    return handler


def event_source(ref: str) -> type[EventSource]:
    """The project's `EventSource` class named ``"module:Class"`` (the project root is
    on the path: `load_app` put it there)."""
    module_name, _, name = ref.partition(":")
    found = getattr(importlib.import_module(module_name), name, None)
    if not (isinstance(found, type) and issubclass(found, EventSource)):
        raise TypeError(
            f"[nitro:aws-lambda] aws_lambda event_sources: {ref!r} is not a subclass of "
            "nitro.adapters.aws_lambda.EventSource"
        )
    return found


def stream_function_url(handler: LambdaHandler, event: Any, context: Any, sink: Any) -> None:
    """A Function URL event answered as a stream into `sink` (`nitro preview` of a
    streaming build; nitro's runtime loop calls the adapter directly). Imported on
    use: a build that does not stream never loads it."""
    from nitro.adapters.aws_lambda_stream import stream_function_url as stream

    stream(handler, event, context, sink)
