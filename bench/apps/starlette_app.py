"""Starlette, written the way its documentation shows.

(Not named `starlette.py`: uvicorn puts this directory on sys.path.)
"""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


async def user(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["id"]})


app = Starlette(routes=[Route("/", hello), Route("/users/{id}", user)])
