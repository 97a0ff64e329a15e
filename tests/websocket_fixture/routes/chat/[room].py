"""A chat room: token required, messages published to everyone else in the room."""

from nitro import HTTPError, define_websocket_handler, use_storage


def upgrade(request):
    token = request.query().get("token")
    if not token:
        raise HTTPError(401, "a token is required")
    return {"context": {"user": token}}


async def open(peer):
    peer.subscribe("chat")
    await peer.send(
        {
            "joined": peer.context.user,
            "room": peer.request.params["room"],
            "via_middleware": peer.context.via_middleware,
        }
    )


async def message(peer, message):
    text = message.text()
    if text == "boom":
        raise RuntimeError("the hook failed")
    if text.startswith("{"):
        await peer.send({"parsed": message.json()})
        return
    if text == "bad-json-handled":
        try:
            message.json()
        except ValueError as error:
            await peer.send({"error": str(error)})
        return
    if text == "bad-json":
        message.json()  # not handled: the peer is closed with 1007
    if text == "bytes":
        await peer.send(message.bytes() + b"!")
        return
    if text == "bye":
        await peer.close(4000, "asked to leave")
        return
    await peer.publish("chat", {"from": peer.context.user, "text": text})


async def close(peer, details):
    await use_storage("data").set_item(
        f"closed:{peer.context.user}",
        {"code": details.code, "reason": details.reason, "error": peer.context.get("error")},
    )


def error(peer, error):
    peer.context.error = f"{type(error).__name__}: {error}"


handler = define_websocket_handler(
    upgrade=upgrade, open=open, message=message, close=close, error=error
)
