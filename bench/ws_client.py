"""The WebSocket broadcast client, run in its own process (pinned apart from the server).

    python bench/ws_client.py URL PEERS BURST PACED

Connects PEERS receivers and one sender to URL, then:
- burst: BURST messages sent back to back; deliveries per second until every
  receiver has every message;
- paced: PACED messages one at a time (the next once all receivers have the
  previous); the latency of each delivery (send to receipt, one clock).
Prints one JSON line: {"deliveries_per_s", "p50_ms", "p99_ms", "deliveries"}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from websockets.asyncio.client import ClientConnection, connect


async def main(url: str, peers: int, burst: int, paced: int) -> dict[str, float]:
    receivers: list[ClientConnection] = []
    for _ in range(peers):
        receivers.append(await connect(url, max_size=None, ping_interval=None))
    sender = await connect(url, ping_interval=None)
    latencies: list[float] = []
    counts: dict[int, int] = {}
    all_in: dict[int, asyncio.Future[None]] = {}

    async def read(ws: ClientConnection) -> None:
        async for raw in ws:
            now = time.perf_counter()
            number, sent = raw.split(":") if isinstance(raw, str) else raw.decode().split(":")
            n = int(number)
            if n >= burst:  # a paced message: its latency counts
                latencies.append(now - float(sent))
            counts[n] = counts.get(n, 0) + 1
            if counts[n] == peers:
                all_in[n].set_result(None)

    loop = asyncio.get_running_loop()
    for n in range(burst + paced):
        all_in[n] = loop.create_future()
    readers = [asyncio.ensure_future(read(ws)) for ws in receivers]
    await asyncio.sleep(0.2)  # every peer has subscribed (open runs right after accept)

    started = time.perf_counter()
    for n in range(burst):
        await sender.send(f"{n}:{time.perf_counter()}")
    await asyncio.wait_for(asyncio.gather(*(all_in[n] for n in range(burst))), 120)
    elapsed = time.perf_counter() - started

    for n in range(burst, burst + paced):
        await sender.send(f"{n}:{time.perf_counter()}")
        await asyncio.wait_for(all_in[n], 30)

    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in [*receivers, sender]), return_exceptions=True)
    latencies.sort()
    return {
        "deliveries_per_s": burst * peers / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "deliveries": (burst + paced) * peers,
    }


if __name__ == "__main__":
    url, peers, burst, paced = sys.argv[1], *map(int, sys.argv[2:5])
    print(json.dumps(asyncio.run(main(url, peers, burst, paced))))
