"""`cloudflare-kv`: Cloudflare Workers KV through its REST API (v4), with httpx.

For an app outside a Worker (a server, a Lambda) sharing a KV namespace with
one. Values are stored as they are (bytes), each with KV metadata ``{"mtime",
"size"[, "ttl", "expires"]}`` written in the same request, which `meta()`
reports and `keys()` receives with the listing at no extra cost.

TTL: KV expires keys natively (``expiration_ttl``) but refuses TTLs under 60
seconds. So a key with a TTL gets ``expiration_ttl = max(60, ceil(ttl))``, which
makes Cloudflare delete it in the end, and its exact expiry in its metadata,
which reads and listings check: a key with ``ttl=5`` is missing after 5 s and
gone from KV after 60 s. An expired key is not deleted when seen (Cloudflare
does that), since a delete racing another process's fresh write of the same
key would lose that write.

Keys are ``<base><key>`` (at most 512 bytes, UTF-8), percent-encoded in URLs;
``.`` and ``..`` are refused (a URL would resolve them to the namespace
itself). KV is eventually consistent: another location may see a write up to
60 s late, and Cloudflare allows one write per second to the same key.

API: https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..core.options import Options
from ..core.storage import normalize_base
from ._base import DriverBase, check_timeouts, parse_options

if TYPE_CHECKING:
    import httpx

DRIVER_NAME = "cloudflare-kv"
REQUIRES: list[str] = ["httpx>=0.27"]

MAX_KEY_BYTES = 512
MIN_EXPIRATION_TTL = 60
LIST_LIMIT = 1000  # the API's maximum page
BULK_DELETE_LIMIT = 10_000  # keys per bulk delete request
AUTH_ERROR = 10000
KEY_NOT_FOUND = 10009
RETRY_DELAYS = (0.2, 0.5)  # after a refused connection, a 429 or a 5xx
RETRY_AFTER_CAP = 2.0


class CloudflareKVOptions(Options):
    """Options of the `cloudflare-kv` driver."""

    account_id: str = ""
    """The Cloudflare account id (required)."""
    namespace_id: str = ""
    """The KV namespace id (required; ``wrangler kv namespace list`` shows it)."""
    api_token: str = ""
    """An API token with "Workers KV Storage" read and write permission (required);
    write ``"{{CLOUDFLARE_API_TOKEN}}"`` to take it from the environment."""
    base: str = ""
    """Prefix of every key in the namespace (``"app"`` stores ``users:1`` as
    ``app:users:1``), so several apps can share one namespace. Default: none."""
    api_url: str = "https://api.cloudflare.com/client/v4"
    """The API's root URL (another one for a proxy or a test double)."""
    connect_timeout: float = 5.0
    """Seconds to wait for a connection to the API."""
    timeout: float = 10.0
    """Seconds to wait for each API response."""


class CloudflareKVError(RuntimeError):
    """The API answered with an error, or with something that is not its answer."""


MISSING = object()  # the key does not exist (as opposed to existing without metadata)


class CloudflareKVDriver(DriverBase):
    name = DRIVER_NAME
    network = True

    def __init__(self, options: CloudflareKVOptions) -> None:
        self._options = options
        self._api_url = options.api_url.rstrip("/")
        self._base = normalize_base(options.base)
        self._namespace = (
            f"/accounts/{quote(options.account_id, safe='')}"
            f"/storage/kv/namespaces/{quote(options.namespace_id, safe='')}"
        )
        self.endpoint = self._api_url + self._namespace
        self._client: httpx.AsyncClient | None = None

    # --- operations ---

    async def get(self, key: str) -> bytes | None:
        full = self._full_key(key)
        # The value endpoint returns no metadata: both requests go out together.
        value, info = await asyncio.gather(self._read_value(full), self._read_metadata(full))
        if value is None or info is MISSING or _expired(info, time.time()):
            return None
        return value

    async def has(self, key: str) -> bool:
        info = await self._read_metadata(self._full_key(key))
        return info is not MISSING and not _expired(info, time.time())

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        now = time.time()
        metadata: dict[str, Any] = {"mtime": now, "size": len(value)}
        params: dict[str, int] = {}
        if ttl is not None:
            metadata.update(ttl=ttl, expires=now + ttl)
            params["expiration_ttl"] = max(MIN_EXPIRATION_TTL, math.ceil(ttl))
        response = await self._send(
            "PUT",
            _value_path(self._full_key(key)),
            params=params,
            data={"metadata": json.dumps(metadata)},
            files={"value": ("value", value, "application/octet-stream")},
        )
        self._envelope(response)

    async def remove(self, key: str) -> None:
        response = await self._send("DELETE", _value_path(self._full_key(key)))
        if not _is_missing(response):
            self._envelope(response)

    async def keys(self, prefix: str) -> list[str]:
        now = time.time()
        return [
            entry["name"][len(self._base) :]
            for entry in await self._list(self._base + prefix)
            if not _expired(entry.get("metadata"), now)
            and not (
                isinstance(entry.get("expiration"), (int, float)) and entry["expiration"] <= now
            )
        ]

    async def clear(self, prefix: str) -> None:
        names = [entry["name"] for entry in await self._list(self._base + prefix)]
        for start in range(0, len(names), BULK_DELETE_LIMIT):
            await self._bulk_delete(names[start : start + BULK_DELETE_LIMIT])

    async def meta(self, key: str) -> dict[str, Any] | None:
        full = self._full_key(key)
        info = await self._read_metadata(full)
        if info is MISSING or _expired(info, time.time()):
            return None
        info = info if isinstance(info, dict) else {}
        meta: dict[str, Any] = {}
        if isinstance(info.get("mtime"), (int, float)):
            meta["mtime"] = float(info["mtime"])
        if isinstance(info.get("size"), int):
            meta["size"] = info["size"]
        else:  # written by another tool: the value tells its size
            value = await self._read_value(full)
            if value is None:
                return None
            meta["size"] = len(value)
        if isinstance(info.get("ttl"), (int, float)):
            meta["ttl"] = info["ttl"]
        return meta

    async def dispose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # --- API calls ---

    async def _read_value(self, full: str) -> bytes | None:
        response = await self._send("GET", _value_path(full))
        if response.is_success:
            return response.content
        if _is_missing(response):
            return None
        raise self._error(response)

    async def _read_metadata(self, full: str) -> Any:
        """The key's metadata (None when it has none), or MISSING."""
        response = await self._send("GET", "/metadata/" + quote(full, safe=""))
        return MISSING if _is_missing(response) else self._envelope(response).get("result")

    async def _list(self, prefix: str) -> list[dict[str, Any]]:
        """Every key under `prefix` as the API lists it (name, expiration, metadata)."""
        entries: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": LIST_LIMIT, **({"prefix": prefix} if prefix else {})}
        while True:
            body = self._envelope(await self._send("GET", "/keys", params=params))
            result, info = body.get("result"), body.get("result_info")
            if not isinstance(result, list):
                raise CloudflareKVError(f"GET /keys: expected a list of keys, got {result!r:.200}")
            entries.extend(e for e in result if isinstance(e, dict) and "name" in e)
            cursor = info.get("cursor") if isinstance(info, dict) else None
            if not cursor:
                return entries
            if cursor == params.get("cursor"):  # a broken answer must not loop forever
                raise CloudflareKVError(f"GET /keys: the API repeated the cursor {cursor!r}")
            params["cursor"] = cursor

    async def _bulk_delete(self, names: list[str]) -> None:
        for _ in range(2):
            response = await self._send("POST", "/bulk/delete", json=names)
            result = self._envelope(response).get("result")
            failed = result.get("unsuccessful_keys") if isinstance(result, dict) else None
            if not failed:
                return
            names = list(failed)  # the API asks for these to be retried
        raise CloudflareKVError(
            f"POST /bulk/delete: {len(names)} key(s) could not be deleted, e.g. {names[0]!r}"
        )

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One API call; a refused connection, a 429 or a 5xx is tried again (all calls
        are idempotent), a timeout is not (it already took its time)."""
        import httpx

        client = self._http()
        for delay in (*RETRY_DELAYS, None):
            try:
                response = await client.request(method, self._namespace + path, **kwargs)
            except httpx.ConnectError as exc:
                if delay is None:
                    raise CloudflareKVError(f"{method} {path}: cannot connect: {exc}") from None
            except httpx.TimeoutException as exc:
                raise CloudflareKVError(
                    f"{method} {path}: no answer in time ({type(exc).__name__}; connect_timeout="
                    f"{self._options.connect_timeout:g}s, timeout={self._options.timeout:g}s)"
                ) from None
            except httpx.HTTPError as exc:
                raise CloudflareKVError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
            else:
                if delay is None or not (
                    response.status_code == 429 or response.status_code >= 500
                ):
                    return response
                delay = _retry_after(response) or delay
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                base_url=self._api_url,
                headers={"Authorization": f"Bearer {self._options.api_token}"},
                timeout=httpx.Timeout(self._options.timeout, connect=self._options.connect_timeout),
                follow_redirects=False,
            )
        return self._client

    # --- answers ---

    def _envelope(self, response: httpx.Response) -> dict[str, Any]:
        """The answer's ``{"success": true, "result": ...}``; anything else raises."""
        body = _json_envelope(response)
        if body is None or body["success"] is not True or not response.is_success:
            raise self._error(response)
        return body

    def _error(self, response: httpx.Response) -> CloudflareKVError:
        body = _json_envelope(response)
        errors = body.get("errors") if body is not None else None
        errors = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
        if errors:
            detail = "; ".join(f"{e.get('code')} {e.get('message')}" for e in errors)
        elif body is None and response.content:
            detail = f"the answer is not the API's JSON: {response.text[:120]!r}"
        else:
            detail = response.reason_phrase or "no error details"
        status = response.status_code
        if status in (401, 403) or any(e.get("code") == AUTH_ERROR for e in errors):
            detail += " (check api_token, its Workers KV permission and account_id)"
        elif status == 429:
            detail += " (rate limited: at most one write per second to a key)"
        path = response.request.url.raw_path.decode("ascii").split("?")[0]
        path = path.partition(self._namespace)[2] or path
        message = f"{response.request.method} {path}: HTTP {status}: {detail}"
        if token := self._options.api_token:  # never echo it, whatever the answer says
            message = message.replace(token, "***")
        return CloudflareKVError(message)

    def _full_key(self, key: str) -> str:
        full = self._base + key
        size = len(full.encode("utf-8", "surrogatepass"))
        if size > MAX_KEY_BYTES:
            with_base = f" with the base {self._base!r}" if self._base else ""
            raise ValueError(
                f"[nitro:storage:{DRIVER_NAME}] key {key!r} is {size} bytes{with_base}; "
                f"Cloudflare KV keys are at most {MAX_KEY_BYTES} bytes (UTF-8)"
            )
        if full in (".", ".."):  # a URL would resolve them to the namespace itself
            raise ValueError(f"[nitro:storage:{DRIVER_NAME}] Cloudflare KV refuses the key {key!r}")
        return full


def _value_path(full: str) -> str:
    return "/values/" + quote(full, safe="")


def _json_envelope(response: httpx.Response) -> dict[str, Any] | None:
    """The answer's JSON envelope, or None when the answer is something else."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and "success" in body else None


def _is_missing(response: httpx.Response) -> bool:
    """A 404 for the key; a 404 for anything else (the namespace) is an error."""
    body = _json_envelope(response) if response.status_code == 404 else None
    errors = body.get("errors") if body is not None else None
    return isinstance(errors, list) and any(
        isinstance(e, dict) and e.get("code") == KEY_NOT_FOUND for e in errors
    )


def _expired(metadata: Any, now: float) -> bool:
    expires = metadata.get("expires") if isinstance(metadata, dict) else None
    return isinstance(expires, (int, float)) and expires <= now


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return min(max(float(response.headers.get("retry-after", "")), 0.0), RETRY_AFTER_CAP)
    except ValueError:
        return None


def driver(options: Mapping[str, Any], *, root: Path) -> CloudflareKVDriver:
    import httpx  # noqa: F401  (a missing library surfaces here, not on first use)

    parsed = parse_options(CloudflareKVOptions, options, DRIVER_NAME)
    fail = f"[nitro:storage:{DRIVER_NAME}]"
    for name in ("account_id", "namespace_id", "api_token"):
        if not str(getattr(parsed, name) or "").strip():
            raise ValueError(f"{fail} the option {name!r} is required")
    if not str(parsed.api_url).startswith(("https://", "http://")):
        raise ValueError(f"{fail} api_url must be an http(s) URL, got {parsed.api_url!r}")
    check_timeouts(parsed, fail + " {name} must be a positive number of seconds")
    return CloudflareKVDriver(parsed)
