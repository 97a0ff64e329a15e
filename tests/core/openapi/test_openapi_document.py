"""/_openapi.json of a project with typed handlers, through the app a user runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from nitro.testing import TestClient

from typed_project import write_project

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def typed_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("typed"))


@pytest.fixture(scope="module")
async def document(typed_root: Path) -> dict[str, Any]:
    async with TestClient(typed_root, dev=True) as client:
        response = await client.get("/_openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return response.json()


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


async def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"
    # info from pyproject.toml when the config names none
    assert document["info"] == {"title": "typed-api", "version": "1.2.3"}


async def test_paths_methods_and_which_routes(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert sorted(paths) == [
        "/blog/{slug}",
        "/broken",
        "/files",
        "/files/{_}",
        "/maybe",
        "/nothing",
        "/opt",
        "/opt/{page}",
        "/point",
        "/ratio/{value}",
        "/text",
        "/totals",
        "/users",
        "/users/{id}",
    ]  # no WebSocket route (/chat), none of nitro's own (/_docs, /_openapi.json)
    # users/index.py answers any method: listed under get, where users/index.get.py,
    # which the router picks for GET, wins.
    assert sorted(paths["/users"]) == ["get", "post"]
    users = paths["/users"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert users == {"type": "array", "items": {"$ref": "#/components/schemas/OaUser"}}
    assert paths["/opt"]["get"]["operationId"] != paths["/opt/{page}"]["get"]["operationId"]


async def test_path_params_typed_as_nitro_converts_them(document: dict[str, Any]) -> None:
    paths = document["paths"]
    [user_id, verbose] = paths["/users/{id}"]["get"]["parameters"]
    assert user_id == {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    assert verbose["in"] == "query"  # added by define_route_meta, after the inferred ones
    assert paths["/ratio/{value}"]["get"]["parameters"][0]["schema"] == {"type": "number"}
    [slug] = paths["/blog/{slug}"]["get"]["parameters"]
    assert slug["schema"] == {"type": "string"} and "rest of the path" in slug["description"]
    assert "parameters" not in paths["/files"]["get"]
    assert paths["/files/{_}"]["get"]["parameters"][0]["name"] == "_"
    # nitro's own 400 (a param that is not a number) and 404 (a param that changes the path)
    assert "not a number" in paths["/ratio/{value}"]["get"]["responses"]["400"]["description"]
    assert "404" in paths["/blog/{slug}"]["get"]["responses"]


async def test_the_pydantic_body_and_its_errors(document: dict[str, Any]) -> None:
    post = document["paths"]["/users"]["post"]
    assert post["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OaNewUser"}}},
    }
    # what pydantic validates: the alias
    assert list(document["components"]["schemas"]["OaNewUser"]["properties"]) == ["userName"]
    assert set(post["responses"]) == {"200", "400", "413"}
    error = post["responses"]["400"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/NitroError"}
    assert "NitroError" in document["components"]["schemas"]


async def test_return_annotations_are_the_responses(document: dict[str, Any]) -> None:
    paths = document["paths"]

    def ok(path: str, method: str = "get") -> dict[str, Any]:
        return paths[path][method]["responses"]["200"]["content"]

    assert ok("/users/{id}") == {
        "application/json": {"schema": {"$ref": "#/components/schemas/OaUser"}}
    }
    assert ok("/point")["application/json"]["schema"] == {"$ref": "#/components/schemas/Point"}
    assert ok("/totals")["application/json"]["schema"] == {"$ref": "#/components/schemas/Totals"}
    assert ok("/text") == {"text/plain": {"schema": {"type": "string"}}}
    assert set(paths["/maybe"]["get"]["responses"]) == {"200", "204"}
    assert set(paths["/nothing"]["post"]["responses"]) == {"204"}
    assert paths["/opt"]["get"]["responses"] == {"200": {"description": "OK"}}  # no annotation
    # shared models once; nested ones (Tag) too; TypedDict fields reference them
    schemas = document["components"]["schemas"]
    assert {"OaUser", "Tag", "Point", "Totals", "OaNewUser"} <= set(schemas)
    assert schemas["Totals"]["properties"]["users"]["items"] == {
        "$ref": "#/components/schemas/OaUser"
    }


async def test_docstring_and_route_meta(document: dict[str, Any]) -> None:
    get = document["paths"]["/users/{id}"]["get"]
    assert get["summary"] == "Get one user."
    assert get["description"] == "Looks the user up by id."
    assert get["tags"] == ["users"]  # the meta wins over nitro's default tag
    assert get["responses"]["404"]["description"] == "No such user"
    assert "200" in get["responses"]  # merged, not replaced
    assert document["components"]["schemas"]["Extra"] == {"type": "string"}  # $global
    assert "$global" not in get
    assert document["paths"]["/point"]["get"]["tags"] == ["App Routes"]


async def test_a_route_that_fails_to_import_is_listed_untyped(document: dict[str, Any]) -> None:
    assert document["paths"]["/broken"]["get"]["responses"] == {"200": {"description": "OK"}}


async def test_the_document_is_made_once_per_process(typed_root: Path) -> None:
    async with TestClient(typed_root, dev=True) as client:
        first = await client.get("/_openapi.json")
        (typed_root / "routes" / "late.get.py").write_text("def handler(event):\n    return 1\n")
        try:
            second = await client.get("/_openapi.json")
        finally:
            (typed_root / "routes" / "late.get.py").unlink()
    assert first.content == second.content


async def test_config_fills_info_and_servers(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "nitro.config.py": "from nitro import define_nitro_config\n"
            "config = define_nitro_config(base_url='/app', openapi={'title': 'Notes', "
            "'version': '2.0', 'description': 'All the notes', "
            "'servers': ['https://api.example.com', {'url': '/', 'description': 'here'}]})\n",
            "routes/index.py": "def handler(event):\n    return 1\n",
        },
    )
    async with TestClient(tmp_path, dev=True) as client:
        document = (await client.get("/app/_openapi.json")).json()
    validate(document)
    assert document["info"] == {"title": "Notes", "version": "2.0", "description": "All the notes"}
    assert document["servers"] == [
        {"url": "https://api.example.com"},
        {"url": "/", "description": "here"},
    ]


async def test_base_url_is_the_default_server(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "nitro.config.py": "from nitro import define_nitro_config\n"
            "config = define_nitro_config(base_url='/app/')\n",
            "routes/index.py": "def handler(event):\n    return 1\n",
        },
    )
    async with TestClient(tmp_path, dev=True) as client:
        document = (await client.get("/app/_openapi.json")).json()
        page = (await client.get("/app/_docs")).text
        init = (await client.get("/app/_docs/init.js")).text
    assert document["servers"] == [{"url": "/app"}]
    assert 'href="/app/_docs/swagger-ui.css"' in page
    assert '"url": "/app/_openapi.json"' in init
