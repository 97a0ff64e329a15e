"""Lambda events built from the conformance suite's requests, and replies read back.

Built as AWS documents each event (field names, casing, which fields are decoded):

- REST API v1 (proxy integration), ``binaryMediaTypes = ["application/octet-stream"]``:
  https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
  (header names as the client sent them, ``headers`` keeps the last value,
  ``multiValueHeaders`` all; query parameters decoded; ``path`` as sent, without
  the stage; ``requestContext.path`` with it).
- HTTP API v2: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
  (lower-case header names, repeats joined with commas, ``cookies`` split out,
  ``rawPath`` decoded, ``rawQueryString`` as sent, non-text bodies base64).
- Function URL: https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
  (the v2 shape; ``rawPath`` percent-encoded as sent; domain ``<id>.lambda-url.<region>.on.aws``).
- ALB: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
  (lower-case header names; query parameters *not* decoded; ``multiValueHeaders`` and
  ``multiValueQueryStringParameters`` instead of the single-value fields when the
  target group enables multi-value headers).
- SQS: https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html;
  EventBridge Scheduled Event: https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-scheduled.html
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from adapters.suite import Reply, Request

REGION = "us-east-1"
ACCOUNT = "123456789012"
TEXT = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded")
# How a browser would spell the headers the suite sends (REST keeps the client's casing).
CASED = {"content-type": "Content-Type", "cookie": "Cookie", "x-name": "X-Name"}


def _headers(request: Request, host: str) -> list[tuple[str, str]]:
    sent = [("host", host), ("user-agent", "nitro-tests/1.0"), ("accept", "*/*")]
    sent += [(name.lower(), value) for name, value in request.headers]
    if request.body:
        sent.append(("content-length", str(len(request.body))))
    sent += [("x-forwarded-for", "203.0.113.7"), ("x-forwarded-port", "443")]
    sent.append(("x-forwarded-proto", "https"))
    return sent


def _body(request: Request, base64_if: Callable[[str], bool]) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    content_type = dict((k.lower(), v) for k, v in request.headers).get("content-type", "")
    if base64_if(content_type):
        return base64.b64encode(request.body).decode(), True
    return request.body.decode("utf-8"), False


def _not_text(content_type: str) -> bool:
    return not any(kind in content_type for kind in TEXT)


def rest_v1(request: Request) -> dict[str, Any]:
    parts = urlsplit(request.path)
    host = "abc123.execute-api.us-east-1.amazonaws.com"
    multi: dict[str, list[str]] = {}
    for name, value in _headers(request, host):
        multi.setdefault(CASED.get(name, name.title()), []).append(value)
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(name, []).append(value)
    body, encoded = _body(request, lambda t: t == "application/octet-stream")
    now = time.time()
    return {
        "resource": "/{proxy+}",
        "path": parts.path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in multi.items()},
        "multiValueHeaders": multi,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": parts.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "domainName": host,
            "domainPrefix": "abc123",
            "extendedRequestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "httpMethod": request.method,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "nitro-tests/1.0"},
            "path": f"/prod{parts.path}",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": "123456",
            "resourcePath": "/{proxy+}",
            "stage": "prod",
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


def _v2(request: Request, host: str, raw_path: str) -> dict[str, Any]:
    parts = urlsplit(request.path)
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in _headers(request, host):
        if name == "cookie":
            cookies += [c.strip() for c in value.split(";")]
        else:
            headers[name] = f"{headers[name]},{value}" if name in headers else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    body, encoded = _body(request, _not_text)
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": parts.query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": host.split(".", 1)[0],
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": unquote(parts.path),
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "nitro-tests/1.0",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = body
    return event


def http_v2(request: Request) -> dict[str, Any]:
    # HTTP APIs hand the path over decoded.
    return _v2(
        request, "abc123.execute-api.us-east-1.amazonaws.com", unquote(urlsplit(request.path).path)
    )


def function_url(request: Request) -> dict[str, Any]:
    event = _v2(request, "abcdefg.lambda-url.us-east-1.on.aws", urlsplit(request.path).path)
    event["requestContext"]["apiId"] = "abcdefg"
    return event


def _alb(request: Request, multi_value: bool) -> dict[str, Any]:
    parts = urlsplit(request.path)
    pairs = [tuple(p.split("=", 1)) if "=" in p else (p, "") for p in parts.query.split("&") if p]
    body, encoded = _body(request, _not_text)
    event: dict[str, Any] = {
        "requestContext": {
            "elb": {
                "targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/nitro/6d0ecf831eec9f09"
            }
        },
        "httpMethod": request.method,
        "path": parts.path,
        "body": body or "",
        "isBase64Encoded": encoded,
    }
    headers = _headers(request, "nitro-alb-123.us-east-1.elb.amazonaws.com")
    if multi_value:
        multi: dict[str, list[str]] = {}
        for name, value in headers:
            multi.setdefault(name, []).append(value)
        query: dict[str, list[str]] = {}
        for name, value in pairs:
            query.setdefault(name, []).append(value)
        event["multiValueHeaders"] = multi
        event["multiValueQueryStringParameters"] = query
    else:
        event["headers"] = dict(headers)
        event["queryStringParameters"] = dict(pairs)
    return event


def alb(request: Request) -> dict[str, Any]:
    return _alb(request, multi_value=True)


def alb_single(request: Request) -> dict[str, Any]:
    return _alb(request, multi_value=False)


def reply(event: dict[str, Any], answer: dict[str, Any]) -> Reply:
    """The HTTP response the service makes of the function's answer."""
    headers: list[tuple[str, str]] = []
    multi = answer.get("multiValueHeaders") or {}
    for name, values in multi.items():
        headers += [(name.lower(), v) for v in values]
    for name, value in (answer.get("headers") or {}).items():
        if name not in multi:  # API Gateway: multiValueHeaders win for the same name
            headers.append((name.lower(), value))
    headers += [("set-cookie", cookie) for cookie in answer.get("cookies") or []]
    body = answer.get("body") or ""
    raw = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()
    return Reply(int(answer["statusCode"]), headers, raw)


SHAPES: dict[str, Callable[[Request], dict[str, Any]]] = {
    "rest-v1": rest_v1,
    "http-v2": http_v2,
    "function-url": function_url,
    "alb": alb,
    "alb-single": alb_single,
}


def task_event(name: str, payload: Any = None, cron: str | None = None) -> dict[str, Any]:
    """A direct invoke, or with `cron` what an EventBridge rule's target sends."""
    event: dict[str, Any] = {"nitro:task": name}
    if payload is not None:
        event["payload"] = payload
    if cron is not None:
        event["nitro:cron"] = cron
    return event


def scheduled_event(rule: str, when: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": when,
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"],
        "detail": {},
    }


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:nitro-tasks"
    return {
        "Records": [
            {
                "messageId": f"msg-{index}",
                "receiptHandle": f"handle-{index}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(int(time.time() * 1000)),
                    "SenderId": ACCOUNT,
                    "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue,
                "awsRegion": REGION,
            }
            for index, body in enumerate(bodies)
        ]
    }
