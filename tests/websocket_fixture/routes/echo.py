from nitro import define_websocket_handler


async def message(peer, message):
    await peer.send(message.data)


handler = define_websocket_handler(
    message=message, http=lambda event: {"hint": "connect with a WebSocket"}
)
