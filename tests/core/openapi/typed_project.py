"""A small project whose routes use every kind of type the OpenAPI document reads."""

from __future__ import annotations

from pathlib import Path

MODELS = """
import dataclasses
from typing import TypedDict

from pydantic import BaseModel, Field


class Tag(BaseModel):
    name: str


class OaUser(BaseModel):
    id: int
    name: str
    tags: list[Tag] = []


class OaNewUser(BaseModel):
    name: str = Field(min_length=1, alias="userName")


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Totals(TypedDict):
    count: int
    users: list[OaUser]
"""

FILES = {
    "pyproject.toml": '[project]\nname = "typed-api"\nversion = "1.2.3"\n',
    "oa_models.py": MODELS,
    "routes/users/[id].get.py": '''
from nitro import define_handler, define_route_meta
from oa_models import OaUser

define_route_meta(openapi={
    "tags": ["users"],
    "responses": {404: {"description": "No such user"}},
    "parameters": [{"name": "verbose", "in": "query", "schema": {"type": "boolean"}}],
    "$global": {"components": {"schemas": {"Extra": {"type": "string"}}}},
})


@define_handler
def handler(id: int) -> OaUser:
    """Get one user.

    Looks the user up by id.
    """
    return OaUser(id=id, name="ada")
''',
    "routes/users/index.post.py": """
from nitro import define_handler
from oa_models import OaNewUser, OaUser


@define_handler
async def handler(event, user: OaNewUser) -> OaUser:
    return OaUser(id=1, name=user.name)
""",
    "routes/users/index.py": "def handler(event):\n    return []\n",
    "routes/users/index.get.py": """
from nitro import define_handler
from oa_models import OaUser


@define_handler
def handler(event) -> list[OaUser]:
    return []
""",
    "routes/point.get.py": """
from nitro import define_handler
from oa_models import Point


@define_handler
def handler(event) -> Point:
    return Point(1, 2)
""",
    "routes/totals.get.py": """
from nitro import define_handler
from oa_models import Totals


@define_handler
def handler(event) -> Totals:
    return {"count": 0, "users": []}
""",
    "routes/maybe.get.py": """
from nitro import define_handler
from oa_models import Point


@define_handler
def handler(event) -> Point | None:
    return None
""",
    "routes/text.get.py": "def handler(event) -> str:\n    return 'hi'\n",
    "routes/nothing.post.py": "def handler(event) -> None:\n    return None\n",
    "routes/ratio/[value].get.py": "def handler(value: float):\n    return {'value': value}\n",
    "routes/opt/[[page]].py": "def handler(event):\n    return {}\n",
    "routes/blog/[...slug].py": "def handler(slug):\n    return {'slug': slug}\n",
    "routes/files/[...].py": "def handler(event):\n    return {}\n",
    "routes/chat.py": """
from nitro import define_websocket_handler

handler = define_websocket_handler(message=lambda peer, message: None)
""",
    "routes/broken.get.py": "raise RuntimeError('cannot import me')\n\ndef handler(event):\n    return 1\n",
}


def write_project(root: Path, files: dict[str, str] = FILES) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"))
    return root
