"""requests, sent through httpx, so that pytest-httpx mocks what the official Google
and Azure client libraries send: both speak HTTP with requests (google-auth's
AuthorizedSession under the REST transport, azure-core's RequestsTransport), which
pytest-httpx cannot see. Everything above the adapter (the clients, their
credentials, retries and parsing) runs as it does in production."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPResponse


def _send(
    self: HTTPAdapter, request: requests.PreparedRequest, stream: bool = False, **_: Any
) -> requests.Response:
    body = request.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    with httpx.Client() as client:
        answer = client.request(
            str(request.method), str(request.url), headers=dict(request.headers), content=body
        )
    response = requests.Response()
    response.status_code = answer.status_code
    response.headers = CaseInsensitiveDict(answer.headers)
    response._content = answer.content
    # What azure-core reads besides the content (enforce_content_length, ...).
    response.raw = HTTPResponse(
        body=io.BytesIO(answer.content),
        headers=dict(answer.headers),
        status=answer.status_code,
        preload_content=False,
    )
    response.url = str(request.url)
    response.reason = answer.reason_phrase
    response.request = request
    response.encoding = answer.encoding
    return response


@pytest.fixture
def requests_over_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HTTPAdapter, "send", _send)
