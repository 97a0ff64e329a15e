"""`handle_cache_headers` + `no_content(304)`: conditional requests in a handler.

Through every platform entry it is the suite's "conditional-get" case.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nitro import NitroApp, define_handler, handle_cache_headers, no_content
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio

MODIFIED = datetime(2024, 5, 1, 12, 30, 15, 999_000, tzinfo=UTC)


def cached_page(**options: Any) -> NitroApp:
    calls = []

    def handler(event: Any) -> Any:
        if handle_cache_headers(event, **options):
            return no_content(304)
        calls.append(1)
        return {"body": len(calls)}

    app = NitroApp()
    app.add_route("/", define_handler(handler))
    return app


async def test_headers_are_staged_and_a_matching_etag_is_304() -> None:
    async with TestClient(cached_page(etag="abc", max_age=30)) as client:
        first = await client.get("/")
        fresh = await client.get("/", headers={"if-none-match": 'W/"x", "abc"'})
        changed = await client.get("/", headers={"if-none-match": '"other"'})
        star = await client.get("/", headers={"if-none-match": "*"})
        post = await client.post("/", headers={"if-none-match": '"abc"'})
    assert first.status_code == 200 and first.json() == {"body": 1}
    assert first.headers["etag"] == '"abc"'
    assert first.headers["cache-control"] == "public, max-age=30, s-maxage=30"
    assert fresh.status_code == 304 and fresh.content == b""
    assert fresh.headers["etag"] == '"abc"'  # staged headers go out with the 304
    assert fresh.headers["cache-control"] == "public, max-age=30, s-maxage=30"
    assert "content-length" not in fresh.headers or fresh.headers["content-length"] == "0"
    assert changed.status_code == 200 and star.status_code == 304
    assert post.status_code == 200  # only GET and HEAD can be fresh


async def test_weak_etags_compare_weakly() -> None:
    async with TestClient(cached_page(etag='W/"v2"')) as client:
        response = await client.get("/", headers={"if-none-match": '"v2"'})
    assert response.status_code == 304 and response.headers["etag"] == 'W/"v2"'


async def test_modified_time_and_if_modified_since() -> None:
    async with TestClient(cached_page(modified_time=MODIFIED)) as client:
        first = await client.get("/")
        same = await client.get("/", headers={"if-modified-since": first.headers["last-modified"]})
        older = await client.get(
            "/", headers={"if-modified-since": formatdate(MODIFIED.timestamp() - 1, usegmt=True)}
        )
        nonsense = await client.get("/", headers={"if-modified-since": "yesterday-ish"})
        # If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3)
        both = await client.get(
            "/",
            headers={"if-none-match": '"x"', "if-modified-since": first.headers["last-modified"]},
        )
    assert first.headers["last-modified"] == "Wed, 01 May 2024 12:30:15 GMT"
    assert first.headers["cache-control"] == "public"
    assert same.status_code == 304
    assert older.status_code == 200 and nonsense.status_code == 200 and both.status_code == 200


async def test_epoch_seconds_and_private_directives() -> None:
    app = cached_page(
        modified_time=MODIFIED.timestamp(), max_age=5, cache_controls=["private", "must-revalidate"]
    )
    async with TestClient(app) as client:
        response = await client.get("/")
    assert response.headers["cache-control"] == "private, must-revalidate, max-age=5"
    assert response.headers["last-modified"] == "Wed, 01 May 2024 12:30:15 GMT"


@given(st.text(max_size=80), st.text(max_size=80))
def test_any_conditional_header_is_answered_without_error(inm: str, ims: str) -> None:
    import anyio

    headers = {"if-none-match": inm, "if-modified-since": ims}
    headers = {k: v.encode("ascii", "ignore").decode().strip() for k, v in headers.items()}
    headers = {k: v for k, v in headers.items() if v and "\n" not in v and "\r" not in v}

    async def run() -> int:
        async with TestClient(cached_page(etag="e", modified_time=MODIFIED)) as client:
            return (await client.get("/", headers=headers)).status_code

    assert anyio.run(run) in (200, 304)
