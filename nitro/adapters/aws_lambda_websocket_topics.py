"""WebSocket peers on Lambda: connections and topics in the `data` storage, messages
posted through API Gateway's management API.

A Lambda container holds no socket: API Gateway does, and any container may serve a
connection's next event. So what the server keeps in memory lives in the app's
``data`` mount (DynamoDB by default on aws-lambda), under ``nitro:ws:``:

| key | value |
|---|---|
| ``connections:<id>`` | the connection: its upgrade request (path, query, headers), `peer.context`, namespace, topics, and the outbox (what `open` sent) |
| ``topics:<digest>:<id>`` | ``1``: connection `<id>` listens to the topic whose namespace and name hash to `<digest>` |

One key per (topic, connection) makes subscribing a single write that never races
another container's (a shared list would need a read-modify-write); publishing is one
`get_keys` (on DynamoDB a Scan of the table, page by page: give the ``data`` mount a
table of its own when it holds much else) plus one post per subscriber, made
`FANOUT` at a time on a thread pool of that size (boto3 blocks). A post answered
410 (``GoneException``: the client left without a clean DISCONNECT) drops the
connection from every topic and forgets it.

Management API: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
(endpoint ``https://{domainName}/{stage}``; ``AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI``
overrides it, as boto3 documents, for local tests).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from ..core.pubsub import Hub

if TYPE_CHECKING:
    from ..core.storage_view import StorageView
    from ..core.websocket import Peer

__all__ = ["FANOUT", "Gone", "ManagementApi", "StorageHub", "connection_key"]

logger = logging.getLogger("nitro")

FANOUT = 32  # posts in flight at once while publishing (and the boto3 pool's size)
ENDPOINT_ENV = "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"


class Gone(ConnectionError):
    """The connection is gone (API Gateway answered 410)."""


def connection_key(connection_id: str) -> str:
    return f"connections:{quote(connection_id, safe='')}"


def _topic_base(namespace: str, topic: str) -> str:
    digest = hashlib.sha256(f"{namespace}\n{topic}".encode()).hexdigest()[:32]
    return f"topics:{digest}"


def _member_key(namespace: str, topic: str, connection_id: str) -> str:
    """The key saying `connection_id` is subscribed to `topic` (under `_topic_base`)."""
    return f"{_topic_base(namespace, topic)}:{quote(connection_id, safe='')}"


class ManagementApi:
    """`post_to_connection` and `delete_connection` of one WebSocket API's stage.

    One boto3 client per endpoint and process, made on the first post (a client
    costs tens of milliseconds: never on the HTTP path).
    """

    _clients: dict[str, Any] = {}
    _pool: ThreadPoolExecutor | None = None

    def __init__(self, domain: str, stage: str) -> None:
        self.endpoint = f"https://{domain}/{stage}"

    def _client(self) -> Any:
        override = os.environ.get(ENDPOINT_ENV)
        key = override or self.endpoint
        client = self._clients.get(key)
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                max_pool_connections=FANOUT,
                connect_timeout=5,
                read_timeout=10,
                retries={"mode": "standard", "max_attempts": 3},
            )
            # boto3 reads AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI only when no
            # endpoint_url is passed.
            endpoint = None if override else self.endpoint
            client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)
            self._clients[key] = client
        return client

    async def _run(self, fn: Any, **params: Any) -> None:
        if ManagementApi._pool is None:
            ManagementApi._pool = ThreadPoolExecutor(FANOUT, thread_name_prefix="nitro-ws")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(ManagementApi._pool, lambda: fn(**params))
        except Exception as exc:
            response = getattr(exc, "response", None) or {}
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = response.get("Error", {}).get("Code")
            if status == 410 or code == "GoneException":
                raise Gone(
                    f"[nitro:websocket] connection {params['ConnectionId']} is gone"
                ) from None
            raise

    async def post(self, connection_id: str, data: bytes) -> None:
        client = self._client()
        await self._run(client.post_to_connection, ConnectionId=connection_id, Data=data)

    async def delete(self, connection_id: str) -> None:
        client = self._client()
        try:
            await self._run(client.delete_connection, ConnectionId=connection_id)
        except Gone:
            pass


class StorageHub(Hub):
    """`peer.subscribe`/`unsubscribe`/`publish` of one invocation, kept in `store`.

    `subscribe` and `unsubscribe` are plain calls (as on the server): they are noted
    and written by `flush`, which the event source awaits after each hook and which
    `publish` awaits first (so a peer that subscribes and publishes in one hook is
    a member before its message goes out).
    """

    def __init__(self, store: StorageView, api: ManagementApi) -> None:
        super().__init__(None)
        self.store = store
        self.api = api
        self._changes: list[tuple[bool, str, str, str]] = []  # (add, namespace, topic, id)

    def subscribe(self, peer: Peer, topic: str) -> None:
        if topic not in peer.topics:
            peer.topics.add(topic)
            self._changes.append((True, peer.namespace, topic, peer.id))

    def unsubscribe(self, peer: Peer, topic: str) -> None:
        if topic in peer.topics:
            peer.topics.discard(topic)
            self._changes.append((False, peer.namespace, topic, peer.id))

    def remove(self, peer: Peer) -> None:
        for topic in list(peer.topics):
            self.unsubscribe(peer, topic)

    @property
    def changed(self) -> bool:
        return bool(self._changes)

    async def flush(self) -> None:
        """Write the subscriptions noted since the last flush, in order."""
        changes, self._changes = self._changes, []
        for add, namespace, topic, connection_id in changes:
            key = _member_key(namespace, topic, connection_id)
            if add:
                await self.store.set_item(key, 1)
            else:
                await self.store.remove_item(key)

    async def members(self, namespace: str, topic: str) -> list[str]:
        """The connection ids subscribed to `topic` in `namespace` (one storage read)."""
        keys = await self.store.get_keys(_topic_base(namespace, topic))
        return [unquote(key.rsplit(":", 1)[-1]) for key in keys]

    async def publish(
        self, namespace: str, topic: str, data: str | bytes, sender: str | None = None
    ) -> None:
        """Post `data` to every subscriber but `sender`, `FANOUT` at a time; a gone
        subscriber is dropped from every topic."""
        if self._changes:
            await self.flush()
        targets = [c for c in await self.members(namespace, topic) if c != sender]
        if not targets:
            return
        payload = data.encode() if isinstance(data, str) else data
        bound = asyncio.Semaphore(FANOUT)

        async def post(connection_id: str) -> None:
            async with bound:
                try:
                    await self.api.post(connection_id, payload)
                except Gone:
                    # this topic's key first: the record's list of topics may miss it
                    # (two containers updating one connection's record at once)
                    await self.store.remove_item(_member_key(namespace, topic, connection_id))
                    await self.drop(connection_id)
                except Exception:
                    logger.exception("[nitro:websocket] could not post to %s", connection_id)

        await asyncio.gather(*(post(c) for c in targets))

    async def drop(self, connection_id: str) -> None:
        """Forget a connection: its subscriptions, then its record."""
        record = await self.store.get_item(connection_key(connection_id))
        if record is not None:
            namespace = record.get("namespace", "")
            for topic in record.get("topics", ()):
                await self.store.remove_item(_member_key(namespace, topic, connection_id))
        await self.store.remove_item(connection_key(connection_id))

    async def start(self) -> None:  # nothing to start: storage connects lazily
        return None

    async def close(self) -> None:
        return None
