"""A plain Starlette WebSocket broadcast loop, as its documentation shows them: a set of
connections, and each received message sent to every other one in turn."""

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

connections: set[WebSocket] = set()


async def broadcast(websocket: WebSocket) -> None:
    await websocket.accept()
    connections.add(websocket)
    try:
        while True:
            text = await websocket.receive_text()
            for other in list(connections):
                if other is not websocket:
                    await other.send_text(text)
    except WebSocketDisconnect:
        pass
    finally:
        connections.discard(websocket)


app = Starlette(routes=[WebSocketRoute("/broadcast", broadcast)])
