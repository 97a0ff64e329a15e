"""`nitro init --template vite DIR`: a full-stack starter, a Vite app calling a nitro API.

The same files make examples/fullstack (tests/test_examples.py keeps them equal).
"""

from __future__ import annotations

FILES = {
    "nitro.config.py": """from nitro.config import define_nitro_config

# The front-end lives in web/: `nitro dev` runs Vite's dev server behind nitro's
# port, `nitro build` builds it into the public assets with an SPA fallback.
config = define_nitro_config(
    vite={"root": "web"},
    runtime_config={"greeting": "Hello"},
)
""",
    "api/hello.py": """from nitro import define_handler, get_query, use_runtime_config


@define_handler
async def handler(event):
    name = get_query(event).get("name", "world")
    return {"message": f"{use_runtime_config().greeting}, {name}!"}
""",
    "web/package.json": """{
  "name": "web",
  "private": true,
  "type": "module",
  "scripts": {
    "dev": "vite",
    "build": "vite build"
  },
  "devDependencies": {
    "vite": "^8.0.0"
  }
}
""",
    "web/index.html": """<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <title>nitro + Vite</title>
    <link rel="stylesheet" href="/src/style.css" />
  </head>
  <body>
    <main>
      <h1>nitro + Vite</h1>
      <form id="greet">
        <input id="name" value="you" aria-label="name" />
        <button>Ask the API</button>
      </form>
      <p id="message">…</p>
      <p id="route"></p>
    </main>
    <script type="module" src="/src/main.js"></script>
  </body>
</html>
""",
    "web/src/main.js": """// The front-end: calls the nitro API route in ../api/hello.py.
const message = document.querySelector("#message");
const name = document.querySelector("#name");

async function greet() {
  const response = await fetch(`/api/hello?name=${encodeURIComponent(name.value)}`);
  message.textContent = (await response.json()).message;
}

document.querySelector("#greet").addEventListener("submit", (event) => {
  event.preventDefault();
  greet();
});

// Any path the API does not own opens this page (nitro's SPA fallback in
// production, Vite in dev): a client-side router would take it from here.
document.querySelector("#route").textContent = `page: ${location.pathname}`;

greet();
""",
    "web/src/style.css": """body {
  font-family: system-ui, sans-serif;
  margin: 3rem auto;
  max-width: 32rem;
}
""",
    "tests/test_app.py": '''"""The API's tests, in-process with nitro.testing (`python -m pytest`)."""

from pathlib import Path

import pytest

from nitro.testing import TestClient

PROJECT = Path(__file__).resolve().parent.parent


@pytest.mark.anyio
async def test_hello():
    async with TestClient(PROJECT) as client:
        response = await client.get("/api/hello", params={"name": "you"})
        assert response.json() == {"message": "Hello, you!"}
''',
    ".gitignore": ".output/\n.data/\n.env\n__pycache__/\nnode_modules/\n",
}

README = """# {name}

A full-stack nitro project: a Vite front-end in `web/`, API routes in `api/`,
configuration in `nitro.config.py`.

- `cd web && npm install` once: the front-end's packages (nitro never installs them).
- `nitro dev` serves both on http://127.0.0.1:3000: API routes first, everything else
  from Vite's dev server (hot reload included).
- `nitro build` builds the front-end into the public assets and the server for
  production into `.output/`; `nitro preview` serves that build.
- `python -m pytest` runs the API's tests (`pip install pytest`).
"""
