"""Each test gets the `nitro` logger as it found it (JSON logs install a handler)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest


@pytest.fixture
def nitro_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """What the `nitro` logger writes, as the app configures it at start-up; the
    logger's handlers, level and propagation are put back afterwards."""
    from nitro.core.observe.logs import JsonFormatter

    logger = logging.getLogger("nitro")
    saved = (list(logger.handlers), logger.level, logger.propagate, JsonFormatter.trace_ids)
    stream = io.StringIO()
    logger.handlers = [logging.StreamHandler(stream)]
    try:
        yield stream
    finally:
        logger.handlers, level, logger.propagate, JsonFormatter.trace_ids = (
            saved[0], saved[1], saved[2], saved[3]
        )  # fmt: skip
        logger.setLevel(level)
