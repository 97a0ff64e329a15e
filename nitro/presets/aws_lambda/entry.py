"""The aws-lambda preset's entry: ``index.handler`` of a build.

The built ``index.py`` puts ``_vendor`` (nitro and the dependencies) on the path
and calls this module::

    from nitro.presets.aws_lambda import entry

    handler = entry.create_handler(HERE)

The app is loaded from the build's manifest, with what the preset recorded: the
DynamoDB `data` mount, ``serverless`` (`wait_until` work ends before the invocation
returns) and sync code inline (one request at a time per container: a thread hop
is pure cost). EventBridge rules that send the "Scheduled Event" envelope are
matched to their cron by the rule-name suffix the build recorded.
"""

from __future__ import annotations

from pathlib import Path

from nitro.adapters.aws_lambda import LambdaHandler
from nitro.runtime.app import load_app, preset_record

__all__ = ["create_handler"]


def create_handler(code_root: Path) -> LambdaHandler:
    """The Lambda handler of the build whose code root is `code_root`."""
    app = load_app(
        code_root / "app", manifest=code_root / "manifest.json", public_dir=code_root / "public"
    )
    schedules = {s.trigger: s.cron for s in preset_record(app).schedules}
    return LambdaHandler(app, schedules=schedules)
