"""Server-sent events: five ticks, one every `every` seconds (default 0.2)."""

import asyncio

from nitro import create_event_stream, define_handler


@define_handler
async def handler(event):
    every = float(event.query().get("every", "0.2"))
    stream = create_event_stream(event)

    async def ticks():
        for n in range(5):
            await stream.push({"event": "tick", "data": str(n)})
            await asyncio.sleep(every)
        await stream.close()

    event.wait_until(ticks())
    return stream
