"""The Vite front-end's costs: `nitro dev` start-up to the first page in a browser, and
the production hello throughput with a front-end mounted against without.

    python bench/frontend.py [--runs 3] [--duration 10]

Needs what the full-stack tests need (./scripts/test installs it): tests/node's Vite,
Debian's chromium and Playwright, plus wrk. It builds tests/fullstack_fixture twice
with the server preset (as it is, and with ``vite=False`` and no web/), serves each
with `python .output/server/index.py` pinned to one CPU and runs wrk on the other
against ``/api/hello`` (a route: the SPA fallback never runs for it) and, with the
front-end, against ``/`` (its index.html, a public file).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import free_port, pick_cpus, running_server, taskset
from throughput import CONNECTIONS, parse_wrk

from frontend_support import FULLSTACK, NODE_MODULES, chromium

# /api/hello: a route (the fallback never runs); /robots.txt: a public file; /: the
# front-end's index.html, and a deep link: the SPA fallback.
ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8"
PATHS = ["/api/hello", "/robots.txt", "/", "/some/client/route"]
SHOWN = "document.querySelector('#message').textContent === 'api says: Hello from nitro'"


def project(parent: Path, *, frontend: bool) -> Path:
    root = parent / ("with-frontend" if frontend else "api-only")
    shutil.copytree(FULLSTACK, root)
    if frontend:
        (root / "web" / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    else:
        shutil.rmtree(root / "web")
        (root / "nitro.config.py").write_text(
            "from nitro.config import define_nitro_config\n\nconfig = define_nitro_config()\n"
        )
    return root


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def dev_startup(root: Path, runs: int) -> list[float]:
    """Seconds from starting `nitro dev` to the page showing the API's answer."""
    times = []
    with chromium() as browser:
        for _ in range(runs):
            port = free_port()
            started = time.perf_counter()
            process = subprocess.Popen(
                [sys.executable, "-m", "nitro", "dev", str(root), "--port", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                page = browser.new_page()
                while not port_open(port):  # nitro's port opens after Vite answers
                    if process.poll() is not None:
                        raise RuntimeError("nitro dev exited")
                    time.sleep(0.01)
                page.goto(f"http://127.0.0.1:{port}/", timeout=60_000)
                page.wait_for_function(SHOWN, timeout=60_000)
                times.append(time.perf_counter() - started)
                page.close()
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
    return times


def wrk(port: int, path: str, seconds: int, cpu: int | None) -> float:
    """req/s of a browser-like GET (``Accept: text/html``); any non-2xx fails the run."""
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "-H", f"Accept: {ACCEPT}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    output = subprocess.run(taskset(cpu, cmd), capture_output=True, text=True, check=True).stdout
    result = parse_wrk(output)
    if result.non_2xx:
        raise RuntimeError(f"{path}: {result.non_2xx} non-2xx answers:\n{output}")
    if result.socket_errors:
        print(f"  ({path}: {result.socket_errors} socket errors)", flush=True)
    return result.requests_per_sec


def build(root: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nitro", "build", str(root)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)


def throughput(root: Path, paths: list[str], duration: int) -> dict[str, float]:
    """req/s of the built server for each of `paths` (server and wrk on separate CPUs)."""
    server_cpu, client_cpu = pick_cpus()
    port = free_port()
    entry = [sys.executable, str(root / ".output" / "server" / "index.py")]
    env = {"NITRO_HOST": "127.0.0.1", "NITRO_PORT": str(port)}
    results = {}
    with running_server(taskset(server_cpu, entry), port, cwd=root, env=env):
        for path in paths:
            wrk(port, path, 2, client_cpu)  # warm-up, discarded
            results[path] = wrk(port, path, duration, client_cpu)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="nitro dev starts to time")
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds per endpoint")
    parser.add_argument("--rounds", type=int, default=3, help="alternated throughput rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with_frontend = project(Path(tmp), frontend=True)
        api_only = project(Path(tmp), frontend=False)
        startup = dev_startup(with_frontend, args.runs)
        build(with_frontend)
        build(api_only)
        mounted: dict[str, list[float]] = {}
        bare: dict[str, list[float]] = {}
        for _ in range(args.rounds):  # alternated: a busy neighbour hurts both alike
            for path, rps in throughput(with_frontend, PATHS, args.duration).items():
                mounted.setdefault(path, []).append(rps)
            for path, rps in throughput(api_only, PATHS[:2], args.duration).items():
                bare.setdefault(path, []).append(rps)
    median = {path: statistics.median(values) for path, values in mounted.items()}
    median_bare = {path: statistics.median(values) for path, values in bare.items()}
    result = {
        "dev_startup_s": {"runs": startup, "median": statistics.median(startup)},
        "with_frontend_rps": mounted,
        "without_rps": bare,
        "rounds": args.rounds,
        "duration_s": args.duration,
    }
    print(f"nitro dev -> first page in the browser: median {statistics.median(startup):.2f}s"
          f" ({', '.join(f'{t:.2f}' for t in startup)})")  # fmt: skip
    print(f"median of {args.rounds} alternated rounds, req/s:   front-end   without   ratio")
    for path in PATHS:
        if path in median_bare:
            ratio = median[path] / median_bare[path]
            print(
                f"  GET {path:<12} {median[path]:>27,.0f} {median_bare[path]:>9,.0f} {ratio:>7.3f}"
            )
        else:
            print(f"  GET {path:<20} {median[path]:>19,.0f}         -       -")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
