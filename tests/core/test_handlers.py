from __future__ import annotations

import pytest
from pydantic import BaseModel

from nitro import Event, NitroApp, define_handler
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


class Item(BaseModel):
    name: str
    price: float


async def call(handler: object, path: str = "/x/7", method: str = "POST", **kwargs: object):
    app = NitroApp()
    app.add_route("/x/:id", handler)  # type: ignore[arg-type]
    async with TestClient(app) as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]


async def test_model_param_from_body_and_route_params_by_name() -> None:
    @define_handler
    async def handler(event: Event, item: Item, id: int) -> dict:
        return {"item": item.model_dump(), "id": id, "event": isinstance(event, Event)}

    response = await call(handler, json={"name": "pen", "price": 1.5})
    assert response.json() == {"item": {"name": "pen", "price": 1.5}, "id": 7, "event": True}
    assert handler.body_model is Item


async def test_model_validation_failure_is_400_with_issues() -> None:
    @define_handler
    def handler(item: Item) -> str:
        return item.name

    response = await call(handler, json={"name": "pen"})
    assert response.status_code == 400
    assert response.json()["data"]["issues"][0]["loc"] == ["price"]


async def test_keyword_only_and_defaults() -> None:
    @define_handler
    async def handler(event, *, id: str, missing: str = "default") -> list:
        return [id, missing]

    assert (await call(handler, method="GET")).json() == ["7", "default"]


async def test_handler_without_parameters() -> None:
    assert (await call(define_handler(lambda: "no args"), method="GET")).text == "no args"


def test_two_body_models_are_rejected_at_definition() -> None:
    with pytest.raises(TypeError, match="only one parameter can be read from the body"):

        @define_handler
        def handler(a: Item, b: Item) -> None: ...


def test_define_handler_rejects_non_callables() -> None:
    with pytest.raises(TypeError, match="needs a function"):
        define_handler(42)  # type: ignore[arg-type]


# --- where sync code runs: the function's sync_to_thread, else the app's ---


def _thread(event: Event) -> dict[str, str]:
    import threading

    return {"thread": threading.current_thread().name}


@pytest.mark.parametrize(
    ("app_value", "own_value", "expected"),
    [
        (True, None, "nitro-sync"),
        (False, None, "MainThread"),
        (True, False, "MainThread"),
        (False, True, "nitro-sync"),
    ],
)
async def test_the_functions_own_sync_to_thread_wins_over_the_apps(
    app_value: bool, own_value: bool | None, expected: str
) -> None:
    from nitro import define_middleware

    app = NitroApp(sync_to_thread=app_value)
    seen: list[str] = []

    @define_middleware(sync_to_thread=own_value)
    def middleware(event: Event) -> None:
        import threading

        seen.append(threading.current_thread().name)

    app.use(middleware)
    app.add_route("/", define_handler(_thread, sync_to_thread=own_value))
    app.add_route(
        "/typed/:n", define_handler(lambda n, event: _thread(event), sync_to_thread=own_value)
    )
    async with TestClient(app) as client:
        assert (await client.get("/")).json() == {"thread": expected}
        assert (await client.get("/typed/1")).json() == {"thread": expected}
    assert seen == [expected, expected]


def test_sync_to_thread_must_be_a_bool_or_none() -> None:
    with pytest.raises(TypeError, match="sync_to_thread must be True, False or None"):
        define_handler(_thread, sync_to_thread="no")  # type: ignore[arg-type]
