"""API Gateway WebSocket events: the `EventSource` that recognizes them.

``requestContext.eventType`` is ``CONNECT``, ``MESSAGE`` or ``DISCONNECT`` and
``requestContext.connectionId`` names the client's connection. What they do is in
`aws_lambda_websocket_session`, imported on the first such event: HTTP-only
functions never load it (cold start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from .aws_lambda_source import EventSource

if TYPE_CHECKING:
    from .aws_lambda import LambdaHandler

__all__ = ["EVENT_TYPES", "ApiGatewayWebSocket"]

EVENT_TYPES = ("CONNECT", "MESSAGE", "DISCONNECT")


class ApiGatewayWebSocket(EventSource):
    """API Gateway WebSocket API events (``requestContext.eventType``)."""

    name: ClassVar[str] = "an API Gateway WebSocket event"
    needs_nitro: ClassVar[bool] = True

    @staticmethod
    def infer(event: dict[str, Any]) -> bool:
        context = event.get("requestContext")
        return (
            isinstance(context, dict)
            and context.get("eventType") in EVENT_TYPES
            and "connectionId" in context
        )

    @classmethod
    async def handle(cls, handler: LambdaHandler, event: dict[str, Any], context: Any) -> Any:
        from .aws_lambda_websocket_session import handle_websocket_event  # WebSocket apps only

        assert handler.nitro is not None
        return await handle_websocket_event(handler.nitro, event)
