"""Topics for WebSocket peers: who listens to what, in this process and, with Redis,
in every process.

A topic lives in a namespace (a WebSocket route's request path), so ``chat`` on
``/rooms/a`` and ``chat`` on ``/rooms/b`` are different topics. Publishing reaches
every subscriber but the sender: local peers at once, and with a `bus` the other
processes through Redis. Each process subscribes to one channel pattern as soon as
its hub starts, so a message published anywhere after that start is seen here: no
per-topic subscription races, at the cost of every process receiving every
message (fine for the many-small-topics traffic WebSockets see; shard by
`channel_prefix` past that).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .websocket import Peer

__all__ = ["Bus", "Hub", "RedisBus"]

logger = logging.getLogger("nitro")

Deliver = Callable[[str, str, "str | bytes", "str | None"], Awaitable[None]]


class Bus(Protocol):
    """What carries published messages between processes."""

    async def start(self, deliver: Deliver) -> None:
        """Start listening; `deliver(namespace, topic, data, sender)` for each message
        another process published."""

    async def publish(self, namespace: str, topic: str, data: str | bytes, sender: str) -> None: ...

    async def close(self) -> None: ...


class Hub:
    """The peers of one app and their topics; `publish` is `peer.publish` underneath."""

    def __init__(self, bus: Bus | None = None) -> None:
        self.bus = bus
        self._topics: dict[tuple[str, str], set[Peer]] = {}
        self._started: asyncio.Future[None] | None = None

    @classmethod
    def for_options(cls, options: Mapping[str, Any]) -> Hub:
        """The hub for an app's `websocket` config: over Redis with a ``redis_url``."""
        url = options.get("redis_url")
        prefix = options.get("channel_prefix") or "nitro:ws:"
        return cls(RedisBus(url, channel_prefix=prefix) if url else None)

    async def start(self) -> None:
        """Start the bus once (idempotent; concurrent callers wait for the same start;
        after a failed start the next caller tries again)."""
        if self.bus is None:
            return
        if self._started is None:
            self._started = asyncio.ensure_future(self.bus.start(self._deliver))
        starting = self._started
        try:
            await asyncio.shield(starting)
        except Exception:
            if self._started is starting:
                self._started = None
            raise

    def remove(self, peer: Peer) -> None:
        """Forget a peer that went away (all its subscriptions)."""
        for topic in list(peer.topics):
            self.unsubscribe(peer, topic)

    def subscribe(self, peer: Peer, topic: str) -> None:
        self._topics.setdefault((peer.namespace, topic), set()).add(peer)
        peer.topics.add(topic)

    def unsubscribe(self, peer: Peer, topic: str) -> None:
        key = (peer.namespace, topic)
        members = self._topics.get(key)
        if members is not None:
            members.discard(peer)
            if not members:
                del self._topics[key]
        peer.topics.discard(topic)

    async def publish(
        self, namespace: str, topic: str, data: str | bytes, sender: str | None = None
    ) -> None:
        """Send `data` to every subscriber of `topic` in `namespace` but `sender`, here
        and (with a bus) in every other process."""
        await self._deliver(namespace, topic, data, sender)
        if self.bus is not None:
            await self.start()
            await self.bus.publish(namespace, topic, data, sender or "")

    async def _deliver(
        self, namespace: str, topic: str, data: str | bytes, sender: str | None
    ) -> None:
        members = self._topics.get((namespace, topic))
        if not members:
            return
        for peer in list(members):
            if peer.id != sender:
                await peer.send_quietly(data)

    async def close(self) -> None:
        if self.bus is not None and self._started is not None:
            await self.bus.close()
        self._started = None


class RedisBus:
    """Publishes to Redis channels ``{prefix}{namespace}`` and listens to ``{prefix}*``.

    Messages are JSON: the sending process (whose own messages are skipped: it
    delivered them locally), the topic, the sender peer and the data (base64 for
    bytes). A lost Redis connection is retried with backoff, logged once per outage.
    """

    def __init__(self, url: str, *, channel_prefix: str = "nitro:ws:") -> None:
        self.url = url
        self.prefix = channel_prefix
        self.origin = os.urandom(12).hex()
        self._client: Any = None
        self._listener: asyncio.Task[None] | None = None

    async def start(self, deliver: Deliver) -> None:
        import redis.asyncio as redis

        from .storage import StorageError

        client = redis.from_url(self.url, socket_connect_timeout=5)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(self.prefix + "*")  # active before start returns
        except Exception as exc:
            await client.aclose()
            where = self.url.rsplit("@", 1)[-1]  # never the password
            raise StorageError(f"[nitro:websocket] Redis pub/sub at {where}: {exc}") from None
        self._client = client
        self._listener = asyncio.ensure_future(self._listen(pubsub, deliver))

    async def _listen(self, pubsub: Any, deliver: Deliver) -> None:
        delay = 0.1
        while True:
            try:
                message = await pubsub.get_message(timeout=30.0)
                delay = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis went away: keep trying, the app keeps serving
                logger.warning("[nitro:websocket] Redis pub/sub: %s; retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if message is None or message.get("type") != "pmessage":
                continue
            try:
                envelope = json.loads(message["data"])
                if envelope["o"] == self.origin:
                    continue
                data = base64.b64decode(envelope["d"]) if envelope["b"] else envelope["d"]
                namespace = message["channel"].decode()[len(self.prefix) :]
                await deliver(namespace, envelope["t"], data, envelope["s"] or None)
            except Exception:
                logger.exception("[nitro:websocket] could not deliver a Redis message")

    async def publish(self, namespace: str, topic: str, data: str | bytes, sender: str) -> None:
        binary = isinstance(data, bytes)
        envelope = {
            "o": self.origin,
            "t": topic,
            "s": sender,
            "b": binary,
            "d": base64.b64encode(data).decode() if isinstance(data, bytes) else data,
        }
        await self._client.publish(self.prefix + namespace, json.dumps(envelope))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except (asyncio.CancelledError, Exception):
                pass
            self._listener = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
