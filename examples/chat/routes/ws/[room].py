"""A chat room: wss://HOST/ws/ROOM?user=NAME (on Lambda: wss://API/STAGE?path=/ws/ROOM&user=NAME)."""

from nitro import HTTPError, define_websocket_handler


def upgrade(request):
    user = request.query().get("user")
    if not isinstance(user, str) or not user:
        raise HTTPError(401, "Say who you are: ?user=NAME")
    return {"context": {"user": user}}


async def open(peer):
    peer.subscribe("chat")
    await peer.send({"system": f"welcome to {peer.request.params['room']}, {peer.context.user}"})
    await peer.publish("chat", {"system": f"{peer.context.user} joined"})


async def message(peer, message):
    text = message.text()
    if text == "/leave":
        await peer.close(1000, "bye")
        return
    await peer.publish("chat", {"user": peer.context.user, "text": text})


async def close(peer, details):
    await peer.publish("chat", {"system": f"{peer.context.user} left"})


handler = define_websocket_handler(upgrade=upgrade, open=open, message=message, close=close)
