"""``GET /_nitro/tasks`` and ``POST /_nitro/tasks/{name}``.

In dev they answer clients whose socket peer is a loopback address (forwarding
headers never count; others get 403). A production build has them only when
`NITRO_TASKS_SECRET` is set, and then only for requests carrying
``Authorization: Bearer <secret>`` (compared in constant time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import HTTPError
from .handlers import define_handler

if TYPE_CHECKING:
    from .app import NitroApp
    from .event import Event

__all__ = ["is_loopback", "register_task_endpoints"]


def is_loopback(event: Event) -> bool:
    """Whether the request's socket peer is a loopback address."""
    client = event.scope.get("client")
    if not client:
        return False
    import ipaddress  # not at import: cold starts would pay for it on every platform

    try:
        return ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        return False


def register_task_endpoints(app: NitroApp, *, dev: bool, secret: str | None) -> None:
    """Add the task endpoints to `app` when they are allowed (see the module doc)."""
    if not dev and not secret:
        return

    def guard(event: Event) -> None:
        if dev:
            if not is_loopback(event):
                raise HTTPError(403, "Task endpoints answer local clients only")
            return
        header = event.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        import hmac  # here: it imports hashlib (OpenSSL), which most cold starts skip

        if not (secret and hmac.compare_digest(token.encode(), secret.encode())):
            raise HTTPError(
                401, "A valid task secret is required", headers={"www-authenticate": "Bearer"}
            )

    @define_handler
    async def list_tasks(event: Event) -> dict[str, Any]:
        guard(event)
        schedule = app.tasks.schedule
        return {
            "tasks": app.tasks.describe(),
            "scheduled_tasks": [{"cron": cron, "tasks": tasks} for cron, tasks in schedule.items()],
        }

    @define_handler
    async def run_one(event: Event) -> dict[str, Any]:
        guard(event)
        name = event.params["name"]
        payload: dict[str, Any] = dict(event.query())
        from .utils.body import read_body  # not at import: most apps never call this

        body = await read_body(event)
        if body is not None:
            if not isinstance(body, dict):
                raise HTTPError(
                    400, 'The body must be a JSON object (the payload, or {"payload": {...}})'
                )
            update = body["payload"] if "payload" in body else body
            if not isinstance(update, dict):
                raise HTTPError(400, "`payload` must be a JSON object")
            payload.update(update)
        return {"result": await app.tasks.run(name, payload, {"source": "endpoint"})}

    app.add_route("/_nitro/tasks", list_tasks, "GET")
    app.add_route("/_nitro/tasks/:name", run_one, "POST")
