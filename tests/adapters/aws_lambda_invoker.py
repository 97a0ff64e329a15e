"""Calls a built ``index.handler`` directly, one event per stdin line (JSON), one
answer per stdout line: ``{"ok": answer}`` or ``{"error": "Type: message"}``.

Run by the tests under the build's Python (its vendored wheels are for that
version): ``python aws_lambda_invoker.py CODE_ROOT``. Standard library only.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import uuid
from typing import Any


class Context:
    """Lambda's context object (https://docs.aws.amazon.com/lambda/latest/dg/python-context.html)."""

    function_name = "fixture-prod"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fixture-prod"
    memory_limit_in_mb = "1024"
    log_group_name = "/aws/lambda/fixture-prod"
    log_stream_name = "tests"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + 30

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def main() -> None:
    sys.path.insert(0, sys.argv[1])
    handler = importlib.import_module("index").handler
    out = sys.stdout
    sys.stdout = sys.stderr  # the app's prints must not mix with answers
    for line in sys.stdin:
        try:
            answer: dict[str, Any] = {"ok": handler(json.loads(line), Context())}
        except Exception as error:
            answer = {"error": f"{type(error).__name__}: {error}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
