"""Lambda HTTP events <-> ASGI scopes and responses: one small class per event format.

Each format is an `EventSource` of `LambdaHandler` (the first ones it asks: HTTP is
the hot path): `infer` recognizes the format, `handle` runs the request through the
app (`aws_lambda_asgi.run_http`) and answers in the format's response shape.

| format | sent by | request path | response headers |
|---|---|---|---|
| `HttpApiV2` (``"version": "2.0"``) | API Gateway HTTP API, Function URLs | ``rawPath``; ``cookies`` list | ``headers`` (repeats joined with ``", "``) + ``cookies`` |
| `RestApiV1` (``httpMethod``) | API Gateway REST API, HTTP API payload 1.0 | ``path``; ``multiValueHeaders`` | ``headers`` + ``multiValueHeaders`` for repeats |
| `Alb` (``requestContext.elb``) | Application Load Balancer target groups | ``path``; ``multiValueHeaders`` when enabled | ``multiValueHeaders`` when enabled, else ``headers`` |

The same rules as mangum (whose translation the tests compare against), plus: the
path reaches the app percent-encoded as ``raw_path`` (REST, ALB and Function URLs
send it encoded; HTTP APIs send it decoded, so characters that cannot appear in an
encoded path are escaped), so an encoded ``/`` stays inside its segment; ALB query
strings pass through as sent (ALB does not decode them); repeated request headers
stay separate headers. Text in an event was decoded from the client's UTF-8 bytes, so
header values and cookies are encoded back to UTF-8 (the bytes uvicorn would pass on);
a query string keeps its ASCII as sent and percent-encodes anything else as UTF-8, as
a browser sends it (uvicorn refuses a raw non-ASCII request target). Response bodies are text when the content type is textual and
the bytes are UTF-8, else base64 with ``isBase64Encoded``. Responses are buffered:
Lambda's Python runtime cannot stream.

Event formats: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html,
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html,
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, unquote, urlencode

from ..core.errors import status_text_for
from .aws_lambda_asgi import Headers, run_http
from .aws_lambda_source import EventSource

if TYPE_CHECKING:
    from .aws_lambda import LambdaHandler

__all__ = [
    "HTTP_FORMATS",
    "Alb",
    "HttpApiV2",
    "HttpEventFormat",
    "RestApiV1",
    "http_format_of",
    "request_body",
    "scope_for",
]
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/vnd.api+json",
    "application/vnd.oai.openapi",
    "+json",
    "+xml",
)
_BARE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


class HttpEventFormat(EventSource):
    """How one format of Lambda HTTP event maps to an ASGI scope and back."""

    @classmethod
    async def handle(cls, handler: LambdaHandler, event: dict[str, Any], context: Any) -> Any:
        """The request through the app, answered in this format."""
        scope = scope_for(cls, event, context)
        status, headers, body = await run_http(handler.app, scope, request_body(event))
        return cls.response(event, status, headers, body)

    @staticmethod
    def headers(event: dict[str, Any]) -> Headers:
        raise NotImplementedError

    @staticmethod
    def target(event: dict[str, Any]) -> tuple[str, str, bytes]:
        """(method, path as sent, query string)."""
        raise NotImplementedError

    @staticmethod
    def client(event: dict[str, Any], headers: Headers) -> str | None:
        raise NotImplementedError

    @staticmethod
    def response(
        event: dict[str, Any], status: int, headers: Headers, body: bytes
    ) -> dict[str, Any]:
        raise NotImplementedError


class HttpApiV2(HttpEventFormat):
    name: ClassVar[str] = "an HTTP API v2 / Function URL event"

    @staticmethod
    def infer(event: dict[str, Any]) -> bool:
        return event.get("version") == "2.0" and isinstance(event.get("requestContext"), dict)

    @staticmethod
    def headers(event: dict[str, Any]) -> Headers:
        headers = _pairs((event.get("headers") or {}).items())
        cookies = event.get("cookies")
        if cookies:
            headers.append((b"cookie", _utf8("; ".join(cookies))))
        return headers

    @staticmethod
    def target(event: dict[str, Any]) -> tuple[str, str, bytes]:
        context = event["requestContext"]
        path = event.get("rawPath") or context["http"].get("path") or "/"
        stage = context.get("stage")
        if stage and stage != "$default" and (path == f"/{stage}" or path.startswith(f"/{stage}/")):
            path = path[len(stage) + 1 :] or "/"
        return context["http"]["method"], path, _encoded_query(event.get("rawQueryString") or "")

    @staticmethod
    def client(event: dict[str, Any], headers: Headers) -> str | None:
        ip: str | None = event["requestContext"].get("http", {}).get("sourceIp")
        return ip

    @staticmethod
    def response(
        event: dict[str, Any], status: int, headers: Headers, body: bytes
    ) -> dict[str, Any]:
        merged: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in _decoded(headers):
            if name == "set-cookie":
                cookies.append(value)
            else:
                merged[name] = f"{merged[name]}, {value}" if name in merged else value
        text, encoded = _body(body, merged.get("content-type", ""))
        answer: dict[str, Any] = {
            "statusCode": status,
            "headers": merged,
            "body": text,
            "isBase64Encoded": encoded,
        }
        if cookies:
            answer["cookies"] = cookies
        return answer


def _multi_headers(event: dict[str, Any]) -> Headers:
    multi = event.get("multiValueHeaders")
    if multi:
        return _pairs((k, v) for k, vs in multi.items() for v in vs or ())
    return _pairs((event.get("headers") or {}).items())


class RestApiV1(HttpEventFormat):
    name: ClassVar[str] = "an API Gateway REST (v1) event"
    headers = staticmethod(_multi_headers)

    @staticmethod
    def infer(event: dict[str, Any]) -> bool:
        context = event.get("requestContext")
        return "httpMethod" in event and isinstance(context, dict) and "elb" not in context

    @staticmethod
    def target(event: dict[str, Any]) -> tuple[str, str, bytes]:
        params = event.get("multiValueQueryStringParameters") or event.get("queryStringParameters")
        # API Gateway decodes query parameters: encode them again.
        query = urlencode(params, doseq=True).encode("ascii") if params else b""
        return event["httpMethod"], event.get("path") or "/", query

    @staticmethod
    def client(event: dict[str, Any], headers: Headers) -> str | None:
        ip: str | None = (event["requestContext"].get("identity") or {}).get("sourceIp")
        return ip

    @staticmethod
    def response(
        event: dict[str, Any], status: int, headers: Headers, body: bytes
    ) -> dict[str, Any]:
        single: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for name, value in _decoded(headers):
            if name in multi:
                multi[name].append(value)
            elif name in single:
                multi[name] = [single.pop(name), value]
            else:
                single[name] = value
        text, encoded = _body(body, single.get("content-type", ""))
        return {
            "statusCode": status,
            "headers": single,
            "multiValueHeaders": multi,
            "body": text,
            "isBase64Encoded": encoded,
        }


class Alb(HttpEventFormat):
    name: ClassVar[str] = "an ALB event"
    headers = staticmethod(_multi_headers)

    @staticmethod
    def infer(event: dict[str, Any]) -> bool:
        context = event.get("requestContext")
        return isinstance(context, dict) and "elb" in context

    @staticmethod
    def target(event: dict[str, Any]) -> tuple[str, str, bytes]:
        params = event.get("multiValueQueryStringParameters") or event.get("queryStringParameters")
        pairs: list[str] = []
        for name, value in (params or {}).items():  # ALB passes them as sent: keep them so
            for item in value if isinstance(value, list) else [value]:
                pairs.append(f"{name}={item}")
        return event["httpMethod"], event.get("path") or "/", _encoded_query("&".join(pairs))

    @staticmethod
    def client(event: dict[str, Any], headers: Headers) -> str | None:
        forwarded = next((v for k, v in headers if k == b"x-forwarded-for"), b"")
        return forwarded.decode("latin-1").split(",")[-1].strip() or None

    @staticmethod
    def response(
        event: dict[str, Any], status: int, headers: Headers, body: bytes
    ) -> dict[str, Any]:
        multi: dict[str, list[str]] = {}
        for name, value in _decoded(headers):
            multi.setdefault(name, []).append(value)
        content_type = multi.get("content-type", [""])[0]
        text, encoded = _body(body, content_type)
        phrase = status_text_for(status)
        answer: dict[str, Any] = {
            "statusCode": status,
            "statusDescription": f"{status} {phrase}".strip(),
            "body": text,
            "isBase64Encoded": encoded,
        }
        if "multiValueHeaders" in event:  # the target group has multi-value headers on
            answer["multiValueHeaders"] = multi
        else:
            # One value per name: repeats go out under differently-cased names, which
            # ALB passes through as separate headers (the only way to send two cookies).
            answer["headers"] = {
                cased: value
                for name, values in multi.items()
                for cased, value in zip(_casings(name), values, strict=False)
            }
        return answer


# Function URLs and HTTP APIs (v2) first: the default deployment's format.
HTTP_FORMATS: tuple[type[HttpEventFormat], ...] = (HttpApiV2, RestApiV1, Alb)


def http_format_of(event: dict[str, Any]) -> type[HttpEventFormat] | None:
    """The format of an HTTP event, or None when `event` is not one."""
    return next((f for f in HTTP_FORMATS if f.infer(event)), None)


def request_body(event: dict[str, Any]) -> bytes:
    body = event.get("body")
    if not body:
        return b""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def scope_for(format: type[HttpEventFormat], event: dict[str, Any], context: Any) -> dict[str, Any]:
    headers = format.headers(event)
    method, path, query = format.target(event)
    raw_path = _encoded_path(path)
    named = dict(headers)  # one C-level pass; for these three the last value wins anyway
    host = named.get(b"host", b"lambda").decode("latin-1")
    forwarded_port = named.get(b"x-forwarded-port", b"")
    port = int(forwarded_port) if forwarded_port.isdigit() else 443
    scheme = named.get(b"x-forwarded-proto", b"https").decode("latin-1")
    if ":" in host:
        host, _, given = host.rpartition(":")
        port = int(given) if given.isdigit() else port
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": scheme,
        "path": unquote(raw_path.decode("ascii")),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": (format.client(event, headers) or "0.0.0.0", 0),
        "server": (host, port),
        "aws.event": event,
        "aws.context": context,
    }


def _pairs(items: Iterable[tuple[str, str]]) -> Headers:
    # API Gateway and ALB decode header bytes as UTF-8 ("São Paulo" from a CDN's geo
    # header arrives as "São Paulo": https://github.com/honojs/hono/issues/4432), so
    # UTF-8 gives back the bytes the client sent; latin-1 would turn "ã" into b"\xe3".
    pairs = list(items)
    try:
        return [(k.lower().encode(), v.encode()) for k, v in pairs]
    except UnicodeEncodeError:  # an unpaired surrogate from a "\ud800" escape
        return [(_utf8(k.lower()), _utf8(v)) for k, v in pairs]


def _utf8(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")  # still bytes; the app judges them


# A request target holds printable ASCII only; "#" would start a fragment.
_QUERY_SAFE = "".join(chr(code) for code in range(0x21, 0x7F) if chr(code) != "#")


def _encoded_query(query: str) -> bytes:
    """`query` as a request target carries it: ASCII as sent (escapes stay escapes),
    anything else percent-encoded as UTF-8 (``q=日本`` -> ``q=%E6%97%A5%E6%9C%AC``)."""
    if query.isascii() and " " not in query and "#" not in query:
        return query.encode("ascii")
    return quote(query, safe=_QUERY_SAFE, errors="surrogatepass").encode("ascii")


def _decoded(headers: Headers) -> Iterable[tuple[str, str]]:
    return ((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in headers)


def _encoded_path(path: str) -> bytes:
    """`path` percent-encoded: unchanged when it already is; a decoded one is escaped
    (a bare ``%``, spaces, ``?``, ``#``, non-ASCII)."""
    if "%" in path:
        path = _BARE_PERCENT.sub("%25", path)
    if path.isascii() and " " not in path and "?" not in path and "#" not in path:
        return path.encode("ascii")
    return quote(path, safe=_PATH_SAFE).encode("ascii")


def _body(body: bytes, content_type: str) -> tuple[str, bool]:
    if not body:
        return "", False
    if any(kind in content_type for kind in TEXT_TYPES):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def _casings(name: str) -> Iterable[str]:
    """``set-cookie``, ``Set-cookie``, ``sEt-cookie``...: distinct spellings of one name."""

    def walk(rest: str) -> Iterable[str]:
        if not rest:
            yield ""
            return
        first = rest[0]
        for tail in walk(rest[1:]):
            yield first.lower() + tail
            if first.lower() != first.upper():
                yield first.upper() + tail

    return walk(name)
