"""Forwarding a request to another server (h3's `proxyRequest`), streamed both ways."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from starlette.responses import StreamingResponse

from ..errors import HTTPError

if TYPE_CHECKING:
    import httpx

    from ..event import Event

__all__ = ["HOP_BY_HOP", "proxy_request"]

# RFC 9110 §7.6.1 connection-specific headers, never forwarded in either direction.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


async def proxy_request(
    event: Event,
    target: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    forward_host: bool = False,
) -> StreamingResponse:
    """Send the request to `target` and stream the upstream answer back.

    Hop-by-hop headers are dropped; redirects are passed through, not followed.
    A timeout is a 504, an unreachable upstream a 502.

    Example::

        return await proxy_request(event, f"https://api.example.com{event.path}")
    """
    try:
        import httpx
    except ImportError:  # a platform build ships httpx only for proxy rules to other servers
        raise RuntimeError(
            "[nitro] proxy_request needs httpx, which this build does not include: "
            "add httpx to the project's dependencies"
        ) from None

    client = _client(event)
    outgoing = [
        (name, value)
        for name, value in event.headers.items()
        if name not in HOP_BY_HOP and (forward_host or name != "host")
    ]
    if headers:
        lowered = {k.lower() for k in headers}
        outgoing = [(n, v) for n, v in outgoing if n not in lowered] + list(headers.items())
    content = None if event.method in _BODYLESS else _body(event)
    request = client.build_request(
        event.method, target, headers=outgoing, content=content, timeout=timeout
    )
    try:
        upstream = await client.send(request, stream=True)
    except httpx.TimeoutException:
        raise HTTPError(504, f"Upstream {_host(target)} timed out") from None
    except httpx.HTTPError as exc:
        raise HTTPError(502, f"Upstream {_host(target)} failed: {type(exc).__name__}") from None
    response = StreamingResponse(_relay(upstream), status_code=upstream.status_code)
    response.raw_headers = [
        (name.lower(), value)
        for name, value in upstream.headers.raw
        if name.lower().decode("latin-1") not in HOP_BY_HOP
    ]
    return response


async def _body(event: Event) -> AsyncIterator[bytes]:
    async for chunk in event.request.stream():
        if chunk:
            yield chunk


async def _relay(upstream: httpx.Response) -> AsyncIterator[bytes]:
    import httpx

    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    except httpx.HTTPError:
        # Headers are gone already: all we can do is end the stream early.
        return
    finally:
        await upstream.aclose()


def _client(event: Event) -> httpx.AsyncClient:
    app: Any = event.app
    client = app.state.get("proxy_client")
    if client is None:
        import httpx

        client = httpx.AsyncClient(follow_redirects=False, timeout=30.0)
        app.state["proxy_client"] = client
        app.hooks.hook("close", client.aclose)
    return client


def _host(target: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(target).netloc or target
