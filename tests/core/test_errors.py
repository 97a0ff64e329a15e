from __future__ import annotations

from nitro import HTTPError, create_error, is_error
from nitro.core.error_response import error_body


def test_http_error_defaults() -> None:
    error = HTTPError(404)
    assert (error.status, error.status_text, error.message) == (404, "Not Found", "Not Found")
    assert error.to_json() == {
        "error": True,
        "status": 404,
        "statusText": "Not Found",
        "message": "Not Found",
    }
    assert is_error(error) and not is_error(ValueError())


def test_invalid_status_becomes_500_and_status_text_is_sanitized() -> None:
    assert HTTPError(42).status == 500
    assert HTTPError("x").status == 500  # type: ignore[arg-type]
    assert HTTPError(400, status_text="Bad\r\nSet-Cookie: x").status_text == "BadSet-Cookie: x"


def test_create_error_shapes() -> None:
    assert create_error("boom").status == 500
    legacy = create_error({"statusCode": 400, "statusMessage": "Nope", "data": [1]})
    assert (legacy.status, legacy.status_text, legacy.data) == (400, "Nope", [1])
    snake = create_error(status_code=409, status_message="Conflict!", message="taken")
    assert (snake.status, snake.status_text, snake.message) == (409, "Conflict!", "taken")
    assert create_error(status=401).status_code == 401
    wrapped = create_error(ValueError("bad"))
    assert (wrapped.status, wrapped.message) == (500, "bad")
    assert isinstance(wrapped.__cause__, ValueError)


def test_error_bodies_in_production_and_dev() -> None:
    assert error_body(RuntimeError("secret"), dev=False) == {
        "error": True,
        "status": 500,
        "statusText": "Internal Server Error",
        "unhandled": True,
    }
    try:
        raise RuntimeError("secret")
    except RuntimeError as exc:
        dev = error_body(exc, dev=True)
    assert dev["message"] == "RuntimeError: secret"
    assert isinstance(dev["stack"], list) and dev["stack"][-1] == "RuntimeError: secret"
