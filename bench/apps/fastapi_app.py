"""FastAPI, written the way its tutorial starts: defaults, dicts returned.

The default app keeps its /docs and /openapi.json routes, as a real one would.
(Not named `fastapi.py`: uvicorn puts this directory on sys.path.)
"""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello():  # no return annotation: no response model, as in the tutorial
    return {"hello": "world"}


@app.get("/users/{id}")
async def user(id: str):
    return {"id": id}
