"""A stand-in for Cloudflare's Workers KV REST API (v4), answering through pytest-httpx.

Nothing real can run here: the real API needs a Cloudflare account and the
internet, and no emulator serves the REST API (miniflare/wrangler emulate the
Workers binding, not ``/client/v4``). So this module implements, over an
in-memory dict, the part of the API the `cloudflare-kv` driver uses, as
Cloudflare documents it
(https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/):

- ``GET|PUT|DELETE /accounts/{account}/storage/kv/namespaces/{ns}/values/{key}``:
  the value as raw bytes; PUT takes the raw body or ``multipart/form-data`` with
  ``value`` and ``metadata`` (JSON, at most 1024 bytes), and ``expiration_ttl``
  (an integer, at least 60) or ``expiration`` (epoch seconds, at least 60 s ahead)
  in the query;
- ``GET .../metadata/{key}``: the key's metadata in the envelope;
- ``GET .../keys?prefix=&limit=&cursor=``: names in byte order with
  ``expiration`` and ``metadata``, ``limit`` 10..1000, an opaque cursor in
  ``result_info`` (``""`` on the last page); pages hold at most `page_size`
  keys, so a client has to follow the cursor;
- ``POST .../bulk/delete`` (and the older ``DELETE .../bulk``): a JSON array of
  at most 10,000 names;
- every answer but a value is the envelope ``{"success", "errors": [{"code",
  "message"}], "messages", "result"}``; 403/10000 for a wrong bearer token or
  account, 404/10013 for an unknown namespace, 404/10009 for a missing key,
  404/7003 for an unknown route. Key names are percent-decoded per path segment
  and limited to 512 bytes.

Expired keys vanish, as on Cloudflare. Cloudflare publishes the messages of the
60 s minimum and the 512-byte limit but not their numeric codes: `INVALID_CODE`
stands in for them (the driver relies on statuses and message text, not on it).
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

API_URL = "https://api.cloudflare.com/client/v4"
AUTH_ERROR = 10000
KEY_NOT_FOUND = 10009
NAMESPACE_NOT_FOUND = 10013
NO_ROUTE = 7003
INVALID_CODE = 10020  # stand-in: see the module docstring
MAX_KEY_BYTES = 512
MAX_METADATA_BYTES = 1024
MAX_VALUE_BYTES = 25 * 1024 * 1024
MIN_EXPIRATION_TTL = 60


@dataclass
class Entry:
    value: bytes
    metadata: Any = None
    expiration: int | None = None  # epoch seconds


@dataclass
class FakeCloudflareKV:
    """Accounts' KV namespaces in memory; `handle` answers one `httpx.Request`."""

    api_url: str = API_URL
    account_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    token: str = field(default_factory=lambda: "cf-test-token-" + uuid.uuid4().hex)
    page_size: int = 3
    namespaces: dict[str, dict[str, Entry]] = field(default_factory=dict)

    def new_namespace(self) -> str:
        namespace_id = uuid.uuid4().hex
        self.namespaces[namespace_id] = {}
        return namespace_id

    def install(self, httpx_mock: Any) -> FakeCloudflareKV:
        """Answer every request under `api_url`, as often as asked, used or not."""
        httpx_mock.add_callback(
            self.handle,
            url=re.compile(re.escape(self.api_url) + r"(/.*)?(\?.*)?$"),
            is_reusable=True,
            is_optional=True,
        )
        return self

    def entries(self, namespace_id: str) -> dict[str, Entry]:
        """The namespace's live keys (expired ones dropped first)."""
        store = self.namespaces[namespace_id]
        now = time.time()
        for name in [
            n for n, e in store.items() if e.expiration is not None and e.expiration <= now
        ]:
            del store[name]
        return store

    # --- routing ---

    def handle(self, request: httpx.Request) -> httpx.Response:
        root = httpx.URL(self.api_url).raw_path.rstrip(b"/")
        raw_path = request.url.raw_path.split(b"?", 1)[0]
        if not raw_path.startswith(root + b"/"):
            return _fail(404, NO_ROUTE, "No route for that URI")
        # Split before decoding, so an encoded "/" stays inside its key name.
        segments = [unquote(s) for s in raw_path[len(root) + 1 :].decode("ascii").split("/")]
        if segments[:1] != ["accounts"] or len(segments) < 2:
            return _fail(404, NO_ROUTE, "No route for that URI")
        if request.headers.get("authorization") != f"Bearer {self.token}" or (
            segments[1] != self.account_id
        ):
            return _fail(403, AUTH_ERROR, "Authentication error")
        if len(segments) < 7 or segments[2:5] != ["storage", "kv", "namespaces"]:
            return _fail(404, NO_ROUTE, "No route for that URI")
        namespace_id, rest = segments[5], segments[6:]
        if namespace_id not in self.namespaces:
            return _fail(404, NAMESPACE_NOT_FOUND, "namespace not found")
        store = self.entries(namespace_id)
        method = request.method
        if len(rest) == 2 and rest[0] in ("values", "metadata"):
            key = rest[1]
            size = len(key.encode())
            if size > MAX_KEY_BYTES:
                return _fail(
                    414,
                    INVALID_CODE,
                    f"UTF-8 encoded length of {size} exceeds key length limit of {MAX_KEY_BYTES}.",
                )
            if rest[0] == "metadata" and method == "GET":
                return self._get_metadata(store, key)
            if rest[0] == "values" and method == "GET":
                return self._get_value(store, key)
            if rest[0] == "values" and method == "PUT":
                return self._put_value(store, key, request)
            if rest[0] == "values" and method == "DELETE":
                store.pop(key, None)
                return _ok(None)
        if rest == ["keys"] and method == "GET":
            return self._list_keys(store, request.url.params)
        if (rest == ["bulk", "delete"] and method == "POST") or (
            rest == ["bulk"] and method == "DELETE"
        ):
            return self._bulk_delete(store, request.content)
        return _fail(404, NO_ROUTE, "No route for that URI")

    # --- endpoints ---

    def _get_value(self, store: dict[str, Entry], key: str) -> httpx.Response:
        entry = store.get(key)
        if entry is None:
            return _fail(404, KEY_NOT_FOUND, "get: 'key not found'")
        return httpx.Response(
            200, content=entry.value, headers={"content-type": "application/octet-stream"}
        )

    def _get_metadata(self, store: dict[str, Entry], key: str) -> httpx.Response:
        entry = store.get(key)
        if entry is None:
            return _fail(404, KEY_NOT_FOUND, "get: 'key not found'")
        return _ok(entry.metadata)

    def _put_value(
        self, store: dict[str, Entry], key: str, request: httpx.Request
    ) -> httpx.Response:
        if key in (".", ".."):
            return _fail(400, INVALID_CODE, "Illegal key name.")
        now = time.time()
        params = request.url.params
        expiration: int | None = None
        if "expiration_ttl" in params:
            raw = params["expiration_ttl"]
            if not re.fullmatch(r"\d+", raw) or int(raw) <= 0:
                return _fail(
                    400,
                    INVALID_CODE,
                    f"Invalid expiration_ttl of {raw}. Please specify integer greater than 0.",
                )
            if int(raw) < MIN_EXPIRATION_TTL:
                return _fail(
                    400,
                    INVALID_CODE,
                    f"Invalid expiration_ttl of {raw}. "
                    f"Expiration TTL must be at least {MIN_EXPIRATION_TTL}.",
                )
            expiration = math.floor(now) + int(raw)
        elif "expiration" in params:
            raw = params["expiration"]
            if not re.fullmatch(r"\d+", raw) or int(raw) < now + MIN_EXPIRATION_TTL:
                return _fail(
                    400,
                    INVALID_CODE,
                    f"Invalid expiration of {raw}. Expiration times must be at least "
                    f"{MIN_EXPIRATION_TTL} seconds in the future.",
                )
            expiration = int(raw)
        metadata: Any = None
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            try:
                parts = parse_multipart(content_type, request.content)
            except ValueError as exc:
                return _fail(400, INVALID_CODE, f"Invalid multipart body: {exc}")
            if "value" not in parts:
                return _fail(400, INVALID_CODE, "Missing value in multipart body.")
            value = parts["value"]
            if "metadata" in parts:
                raw_metadata = parts["metadata"]
                if len(raw_metadata) > MAX_METADATA_BYTES:
                    return _fail(
                        413,
                        INVALID_CODE,
                        f"Metadata length of {len(raw_metadata)} exceeds limit of "
                        f"{MAX_METADATA_BYTES}.",
                    )
                try:
                    metadata = json.loads(raw_metadata)
                except ValueError:
                    return _fail(400, INVALID_CODE, "Metadata is not valid JSON.")
        else:
            value = request.content
        if len(value) > MAX_VALUE_BYTES:
            return _fail(413, INVALID_CODE, "Value length exceeds limit.")
        store[key] = Entry(value, metadata, expiration)
        return _ok(None)

    def _list_keys(self, store: dict[str, Entry], params: httpx.QueryParams) -> httpx.Response:
        limit_raw = params.get("limit", "1000")
        if not re.fullmatch(r"\d+", limit_raw) or not 10 <= int(limit_raw) <= 1000:
            return _fail(
                400,
                INVALID_CODE,
                f"Invalid key_count_limit of {limit_raw}. Please specify an integer "
                "greater than or equal to 10 and less than or equal to 1000.",
            )
        prefix = params.get("prefix", "")
        after = ""
        if params.get("cursor"):
            try:
                after = base64.urlsafe_b64decode(params["cursor"].encode()).decode()
            except ValueError:
                return _fail(400, INVALID_CODE, "Invalid cursor.")
        names = sorted(
            (
                n
                for n in store
                if n.startswith(prefix) and (not after or n.encode() > after.encode())
            ),
            key=lambda n: n.encode(),
        )
        page = names[: min(int(limit_raw), self.page_size)]
        more = len(names) > len(page)
        result = []
        for name in page:
            item: dict[str, Any] = {"name": name}
            entry = store[name]
            if entry.expiration is not None:
                item["expiration"] = entry.expiration
            if entry.metadata is not None:
                item["metadata"] = entry.metadata
            result.append(item)
        cursor = base64.urlsafe_b64encode(page[-1].encode()).decode() if more else ""
        return _ok(result, result_info={"count": len(result), "cursor": cursor})

    def _bulk_delete(self, store: dict[str, Entry], content: bytes) -> httpx.Response:
        try:
            names = json.loads(content)
        except ValueError:
            return _fail(400, INVALID_CODE, "Request body is not valid JSON.")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return _fail(400, INVALID_CODE, "Request body must be an array of key names.")
        if len(names) > 10_000:
            return _fail(413, INVALID_CODE, "Too many keys in one request (10,000 at most).")
        for name in names:
            store.pop(name, None)
        return _ok({"successful_key_count": len(names), "unsuccessful_keys": []})


def parse_multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    """The parts of a ``multipart/form-data`` body by field name, byte for byte."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise ValueError("no boundary")
    delimiter = b"--" + match.group(1).encode()
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise ValueError("the body does not end with the closing boundary")
    parts: dict[str, bytes] = {}
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            raise ValueError("a part is not framed by CRLF")
        head, sep, content = chunk[2:-2].partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a part has no header end")
        name = re.search(rb'name="([^"]*)"', head)
        if name is None:
            raise ValueError("a part has no name")
        parts[name.group(1).decode()] = content
    return parts


def _envelope(success: bool, result: Any, errors: list[dict[str, Any]], **extra: Any) -> Any:
    return {"success": success, "errors": errors, "messages": [], "result": result, **extra}


def _ok(result: Any, **extra: Any) -> httpx.Response:
    return httpx.Response(200, json=_envelope(True, result, [], **extra))


def _fail(status: int, code: int, message: str) -> httpx.Response:
    return httpx.Response(status, json=_envelope(False, None, [{"code": code, "message": message}]))


def error_response(status: int, code: int, message: str) -> httpx.Response:
    """An API error answer, for tests that stage failures."""
    return _fail(status, code, message)


_FAKE = pytest.StashKey["FakeCloudflareKV"]()


def fake_for(request: pytest.FixtureRequest) -> FakeCloudflareKV:
    """The current test's fake API, installed on its `httpx_mock` on first use."""
    stash = request.node.stash
    if _FAKE not in stash:
        stash[_FAKE] = FakeCloudflareKV().install(request.getfixturevalue("httpx_mock"))
    return stash[_FAKE]
