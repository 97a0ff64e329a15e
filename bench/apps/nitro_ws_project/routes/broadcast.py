"""Every peer subscribes to "all"; a message is published to every other peer."""

from nitro import define_websocket_handler


def open(peer):
    peer.subscribe("all")


async def message(peer, message):
    await peer.publish("all", message.data)


handler = define_websocket_handler(open=open, message=message)
