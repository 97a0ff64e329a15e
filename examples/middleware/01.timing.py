import time

from nitro import define_middleware


@define_middleware
async def handler(event):
    event.context.started = time.perf_counter()
