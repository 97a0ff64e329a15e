"""What the Vercel tests need besides the build: Python 3.12, and a local Upstash REST
server (tests/storage_drivers/upstash_server.py over the real Redis) for the default
`data` mount, on a Redis database of its own so claims from earlier runs never linger."""

from __future__ import annotations

import pytest
from storage_drivers.backends.redis import HOST, PORT, require_redis
from storage_drivers.upstash_server import UpstashServer

from nitro.bundle.vendor import find_python

from helpers import port_open, require_service

SECRET = "cron-secret-for-tests"
TOKEN = "vercel-kv-test-token"
REDIS_DB = 9  # only these tests use it; flushed before use


def python312() -> str:
    """Vercel's default runtime, which the function is built and run for."""
    found = find_python("3.12")
    require_service(found is not None, "Python 3.12", "pyenv install 3.12")
    assert found is not None
    return found


def require_upstash() -> None:
    require_redis()


def upstash_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """`KV_REST_API_URL`/`KV_REST_API_TOKEN` for a fresh local Upstash server, as the
    Vercel KV integration sets them; empty when Redis is not running here."""
    if not port_open(HOST, PORT):
        return {}
    import redis

    url = f"redis://{HOST}:{PORT}/{REDIS_DB}"
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    server = UpstashServer(TOKEN, redis_url=url).start()
    request.addfinalizer(server.stop)
    return {"KV_REST_API_URL": server.url, "KV_REST_API_TOKEN": TOKEN}


ROUTING_UTILS = "@vercel/routing-utils@6.6.0"  # Vercel's own route validation (its CLI uses it)
NODE_CHECK = """
const {normalizeRoutes} = require("@vercel/routing-utils");
const {routes, paths} = JSON.parse(require("fs").readFileSync(0, "utf8"));
const {error} = normalizeRoutes(routes);
const matched = paths.map((path) =>
  routes.map((r) => (r.src ? new RegExp(r.src, r.caseSensitive ? "" : "i").test(path) : null)));
console.log(JSON.stringify({error, matched}));
"""


def vercel_route_check(routes: list[dict[str, object]], paths: list[str]) -> dict[str, object]:
    """Validate `routes` with Vercel's `normalizeRoutes`, and match `paths` against each
    `src` with JavaScript's RegExp (a cached npm install under ~/.cache/nitro-tests)."""
    import json
    import shutil
    import subprocess
    from pathlib import Path

    node, npm = shutil.which("node"), shutil.which("npm")
    require_service(bool(node and npm), "Node.js and npm", "apt-get install nodejs npm")
    assert node and npm
    cache = Path.home() / ".cache" / "nitro-tests" / "vercel-routing-utils"
    if not (cache / "node_modules" / "@vercel" / "routing-utils" / "package.json").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", ROUTING_UTILS],
            check=True,
            capture_output=True,
            timeout=300,
        )
    result = subprocess.run(
        [node, "-e", NODE_CHECK],
        input=json.dumps({"routes": routes, "paths": paths}),
        cwd=cache,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(result.stdout))
