"""`upstash`: Upstash Redis (and Vercel KV, which is Upstash) over its REST API, with httpx.

Each operation is one HTTPS request: a JSON command array POSTed to the database's
REST URL (``["SET", "key", "value", "PX", 60000]``), or several at ``/pipeline``,
with ``Authorization: Bearer <token>``. Replies are asked for with
``Upstash-Encoding: base64``, so every stored byte comes back exactly, whoever
wrote it. Errors come back as ``{"error": "..."}``.

Values: the REST API carries JSON strings, which cannot hold arbitrary bytes. A
value that is UTF-8 text (every JSON value nitro stores) is sent as that text, so
other Upstash clients read it as it is; any other value (or text that itself
starts with ``base64:``) is sent as ``base64:`` + base64 of its bytes. That is
unstorage's convention for raw values, so a JS Nitro app on the same database
reads these values too. Values another client stored as raw bytes read back as
they are.

TTL: native (``SET ... PX``). Metadata: ``size`` (of the value as given, also for
``base64:`` values) and ``ttl``, the time left (``PTTL``) rounded up to whole
seconds (600 right after ``ttl=600``); no ``mtime``. Keys are listed with ``SCAN``
on the escaped prefix. ``set_if_absent`` is ``SET NX``, atomic on the server.

REST API: https://upstash.com/docs/redis/features/restapi
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..core.options import Options
from ._base import DriverBase, check_timeouts, parse_options, public_url
from .redis import escape_glob, expiry_ms, key_meta

if TYPE_CHECKING:
    import httpx

DRIVER_NAME = "upstash"
REQUIRES = ["httpx>=0.27"]
URL_ENV = ("UPSTASH_REDIS_REST_URL", "KV_REST_API_URL")
TOKEN_ENV = ("UPSTASH_REDIS_REST_TOKEN", "KV_REST_API_TOKEN")
MARKER = b"base64:"
SCAN_COUNT = 1000  # keys Upstash looks at per SCAN request (a hint, not a limit)
DELETE_BATCH = 500  # keys per DEL
RETRIES = 2  # failed connection attempts retried by httpx (nothing was sent yet)


class UpstashError(Exception):
    """The REST API refused a command or answered something that is not its protocol."""


class UpstashOptions(Options):
    """Options of the `upstash` driver."""

    url: str = ""
    """The database's REST URL (``https://<name>.upstash.io``). Default: the environment's
    ``UPSTASH_REDIS_REST_URL``, else ``KV_REST_API_URL`` (Vercel KV); usually written
    ``"{{KV_REST_API_URL}}"``."""
    token: str = ""
    """The REST token (never logged). Default: ``UPSTASH_REDIS_REST_TOKEN``, else
    ``KV_REST_API_TOKEN``; usually ``"{{KV_REST_API_TOKEN}}"``."""
    base: str = ""
    """Prefix of every key (``"app"`` or ``"app:"`` stores key ``x`` as ``app:x``).
    Default ``""``: clearing the root mount clears the whole database."""
    timeout: float = 10.0
    """Seconds to wait for each reply (default 10)."""
    connect_timeout: float = 5.0
    """Seconds to open a connection (default 5)."""


def encode_value(value: bytes) -> str:
    """The JSON string that stores `value` (see the module docstring)."""
    if not value.startswith(MARKER):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return MARKER.decode() + base64.b64encode(value).decode("ascii")


def decode_value(stored: bytes) -> bytes:
    """The bytes `encode_value` was given; bytes stored by others are kept as they are."""
    if stored.startswith(MARKER):
        try:
            return base64.b64decode(stored[len(MARKER) :], validate=True)
        except binascii.Error:
            pass  # plain text that happens to start with the marker
    return stored


class UpstashDriver(DriverBase):
    name = DRIVER_NAME
    network = True

    def __init__(self, options: UpstashOptions) -> None:
        self.options = options
        # Requests go to the URL without user info or query (where no token belongs).
        self.url = public_url(options.url)
        self.endpoint = self.url
        base = options.base.strip(":")
        self.base = base + ":" if base else ""
        self._client: httpx.AsyncClient | None = None

    # --- the REST protocol ---

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                headers={
                    "Authorization": f"Bearer {self.options.token}",
                    "Upstash-Encoding": "base64",
                    "Content-Type": "application/json",
                },
                timeout=httpx.Timeout(self.options.timeout, connect=self.options.connect_timeout),
                transport=httpx.AsyncHTTPTransport(retries=RETRIES),
                follow_redirects=False,
            )
        return self._client

    async def _post(self, path: str, payload: list[Any]) -> Any:
        import httpx

        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            response = await self._http().post(self.url + path, content=body)
        except httpx.TimeoutException as exc:
            raise UpstashError(f"no answer in time ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise UpstashError(self._scrub(f"{type(exc).__name__}: {exc}")) from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code != 200:
            detail = data.get("error") if isinstance(data, dict) else None
            reason = f": {detail}" if isinstance(detail, str) else " (no Upstash error JSON)"
            raise UpstashError(self._scrub(f"HTTP {response.status_code}{reason}"))
        if data is None:
            raise UpstashError("malformed response: not JSON")
        return data

    def _scrub(self, text: str) -> str:
        token = self.options.token
        return text.replace(token, "***") if token else text

    def _result(self, reply: Any) -> Any:
        if not isinstance(reply, dict):
            raise UpstashError("malformed response: expected a JSON object")
        if "error" in reply:
            raise UpstashError(self._scrub(str(reply["error"])))
        if "result" not in reply:
            raise UpstashError("malformed response: no 'result'")
        return reply["result"]

    async def _command(self, *args: Any) -> Any:
        return self._result(await self._post("", list(args)))

    async def _pipeline(self, *commands: list[Any]) -> list[Any]:
        replies = await self._post("/pipeline", list(commands))
        if not isinstance(replies, list) or len(replies) != len(commands):
            raise UpstashError("malformed response: expected one reply per pipelined command")
        return [self._result(reply) for reply in replies]

    @staticmethod
    def _bytes(result: Any) -> bytes:
        """A bulk string of a base64-encoded reply."""
        if result == "OK":  # the one string Upstash does not encode
            return b"OK"
        if not isinstance(result, str):
            raise UpstashError(
                f"malformed response: expected a string, got {type(result).__name__}"
            )
        try:
            return base64.b64decode(result, validate=True)
        except binascii.Error:
            raise UpstashError("malformed response: a string that is not base64") from None

    @staticmethod
    def _int(result: Any) -> int:
        if isinstance(result, bool) or not isinstance(result, int):
            raise UpstashError(f"malformed response: expected an integer, got {result!r:.40}")
        return result

    # --- the driver ---

    async def get(self, key: str) -> bytes | None:
        result = await self._command("GET", self.base + key)
        return None if result is None else decode_value(self._bytes(result))

    def _set(self, key: str, value: bytes, ttl: float | None) -> list[Any]:
        command: list[Any] = ["SET", self.base + key, encode_value(value)]
        if ttl is not None:
            command += ["PX", expiry_ms(ttl)]
        return command

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        await self._command(*self._set(key, value, ttl))

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None) -> bool:
        # SET NX is atomic on the server: "OK" for the one writer that created the key.
        return await self._command(*self._set(key, value, ttl), "NX") == "OK"

    async def has(self, key: str) -> bool:
        return self._int(await self._command("EXISTS", self.base + key)) > 0

    async def remove(self, key: str) -> None:
        await self._command("DEL", self.base + key)

    async def _scan(self, prefix: str) -> list[str]:
        """Every full key under base + prefix, each once (SCAN may repeat a key)."""
        full = self.base + prefix
        pattern = escape_glob(full) + "*"
        found: dict[str, None] = {}
        cursor = "0"
        while True:
            result = await self._command("SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT)
            if not (isinstance(result, list) and len(result) == 2 and isinstance(result[1], list)):
                raise UpstashError("malformed response: SCAN did not answer [cursor, keys]")
            cursor = self._cursor(result[0])
            for item in result[1]:
                key = self._bytes(item).decode("utf-8", "replace")
                if key.startswith(full):
                    found[key] = None
            if cursor == "0":
                return list(found)

    def _cursor(self, value: Any) -> str:
        # A bulk string, so base64 like the rest; a plain number is taken as it is.
        if isinstance(value, str) and not value.isdigit():
            value = self._bytes(value).decode("ascii", "replace")
        if not isinstance(value, (str, int)) or not str(value).isdigit():
            raise UpstashError("malformed response: a SCAN cursor that is not a number")
        return str(value)

    async def keys(self, prefix: str) -> list[str]:
        return [key[len(self.base) :] for key in await self._scan(prefix)]

    async def clear(self, prefix: str) -> None:
        found = await self._scan(prefix)
        for start in range(0, len(found), DELETE_BATCH):
            await self._command("DEL", *found[start : start + DELETE_BATCH])

    async def meta(self, key: str) -> dict[str, Any] | None:
        full = self.base + key
        # The head and tail of the stored string tell a base64: value's decoded size.
        size, pttl, head, tail = await self._pipeline(
            ["STRLEN", full],
            ["PTTL", full],
            ["GETRANGE", full, 0, len(MARKER) - 1],
            ["GETRANGE", full, -2, -1],
        )
        if self._int(pttl) == -2:  # no such key
            return None
        size = self._int(size)
        encoded = size - len(MARKER)
        if encoded >= 0 and encoded % 4 == 0 and self._bytes(head) == MARKER:
            size = encoded // 4 * 3 - self._bytes(tail).count(b"=")
        return key_meta(size, pttl)

    async def dispose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _from_env(value: str, names: tuple[str, ...]) -> str:
    if value:
        return value
    return next((os.environ[name] for name in names if os.environ.get(name)), "")


def driver(options: Mapping[str, Any], *, root: Path) -> UpstashDriver:
    parsed = parse_options(UpstashOptions, options, DRIVER_NAME)
    url = _from_env(parsed.url, URL_ENV)
    token = _from_env(parsed.token, TOKEN_ENV)
    if not isinstance(url, str) or urlsplit(url).scheme not in ("https", "http"):
        raise ValueError(
            "[nitro:storage:upstash] url must be the database's REST URL (https://...): set "
            f'"url": "{{{{KV_REST_API_URL}}}}" or the environment\'s {" or ".join(URL_ENV)}'
        )
    if not isinstance(token, str) or not token:
        raise ValueError(
            "[nitro:storage:upstash] token is missing: set "
            f'"token": "{{{{KV_REST_API_TOKEN}}}}" or the environment\'s {" or ".join(TOKEN_ENV)}'
        )
    check_timeouts(parsed, "[nitro:storage:upstash] {name} must be a positive number of seconds")
    import httpx  # noqa: F401  (a missing library fails here, not on first use)

    return UpstashDriver(parsed.replace(url=url, token=token))
