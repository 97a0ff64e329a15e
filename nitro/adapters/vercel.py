"""Vercel: the app runs under Vercel's own Python launcher, `vercel-runtime`.

Vercel's launcher (``vercel_runtime.vc_init``, vendored into the function) imports
the function's entry module and serves its `app` with uvicorn, lifespan included,
so HTTP needs no translation here: a `NitroApp` *is* the ASGI app Vercel hosts
(https://vercel.com/docs/functions/runtimes/python). Start-up runs once per
instance, and `wait_until` work finishes before the ASGI call returns
(``serverless=True``), which Vercel counts as part of the invocation.

What this module adds is the schedule entry point. `config.json` lists one Vercel
cron per `scheduled_tasks` schedule, each calling
``GET /_vercel/cron?schedule=<cron>`` (https://vercel.com/docs/cron-jobs). That
route:

- answers 401 unless the request carries ``Authorization: Bearer $CRON_SECRET``
  (compared in constant time), whenever `CRON_SECRET` is set. Vercel sends that
  header on its cron calls only when the variable is set; without it the route
  runs for any caller (a warning says so at start-up), like Nitro's;
- runs that schedule's tick at the time of the call through
  ``app.tasks.run_scheduled`` (the rule every platform follows: every task with
  ``{"scheduled_time": <the tick>}``), once per tick across instances when a
  `claim` is given (Vercel may deliver a cron event twice);
- answers ``{"success": true, "results": {task: value}}``, or 500 with
  ``"success": false`` and ``errors`` when a task failed (Vercel then records the
  run as failed); an unknown schedule is 404 (`UnknownScheduleError`), a missing
  one 400.
"""

from __future__ import annotations

import hmac
import logging
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nitro.core.errors import HTTPError
from nitro.core.handlers import define_handler
from nitro.core.observe.request_id import HEADER_STATE
from nitro.core.schedule import Claim, ScheduledRun, ScheduledTaskError

if TYPE_CHECKING:
    from nitro.core.app import NitroApp
    from nitro.core.event import Event

__all__ = ["CRON_PATH", "vercel_app"]

logger = logging.getLogger("nitro")

CRON_PATH = "/_vercel/cron"


def vercel_app(
    app: NitroApp, *, claim: Claim | None = None, cron_secret: str | None = None
) -> NitroApp:
    """Add the Vercel cron route to `app` and return it (the function's `app`).

    `cron_secret` defaults to the `CRON_SECRET` environment variable.
    """
    app.state[HEADER_STATE] = b"x-vercel-id"  # the platform's id of each request
    secret = cron_secret if cron_secret is not None else os.environ.get("CRON_SECRET", "")
    if app.tasks.schedule and not secret:
        logger.warning(
            "[nitro:vercel] CRON_SECRET is not set: %s runs scheduled tasks for any caller; "
            "set it in the project's environment variables",
            CRON_PATH,
        )

    @define_handler
    async def cron(event: Event) -> dict[str, Any]:
        if secret:
            header = event.headers.get("authorization", "")
            # Compare the whole header in constant time: no early exit on the prefix.
            if not hmac.compare_digest(header.encode(), f"Bearer {secret}".encode()):
                raise HTTPError(
                    401, "A valid cron secret is required", headers={"www-authenticate": "Bearer"}
                )
        wanted = _schedule_param(event)
        context = {"source": "vercel-cron", "schedule": wanted}
        try:
            run = await app.tasks.run_scheduled(
                wanted, datetime.now(UTC), context=context, claim=claim, event=event
            )
        except ScheduledTaskError as failed:
            event.res.status = 500
            run = failed.run
        return _answer(run)

    app.add_route(CRON_PATH, cron, "GET")
    return app


def _schedule_param(event: Event) -> str:
    value = event.query().get("schedule")
    if isinstance(value, list):
        value = value[0] if value else None
    # Nitro's JS preset reads the schedule from this header; accept it too.
    value = value or event.headers.get("x-vercel-cron-schedule")
    if not value:
        raise HTTPError(400, "Missing ?schedule=<cron>")
    return value


def _answer(run: ScheduledRun) -> dict[str, Any]:
    body: dict[str, Any] = {
        "success": not run.failures,
        "schedule": run.cron,
        "scheduled_time": run.scheduled_time,
        "results": run.results,
    }
    if run.skipped:
        body["skipped"] = run.skipped
    if run.failures:
        # The body names the failure, never its message: without CRON_SECRET anyone
        # may call this route. The log has the traceback.
        body["errors"] = {
            task: error.message if isinstance(error, HTTPError) else type(error).__name__
            for task, error in run.failures.items()
        }
    return body
