"""``{{secret:NAME}}`` at start-up (issue 21): read from the app's store when it starts,
never at build time; fetched once, concurrently, under one timeout; a missing secret
fails start-up naming it and the option that uses it, never printing a value.

The store here is the environment (server, dev) and a stand-in for AWS SSM's
``GetParameters`` (for what only a server that holds requests back can show: batches
in flight together, a store that never answers). SSM itself (moto), Google Secret
Manager and Azure Key Vault are tested in tests/secret_stores/.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nitro.config import ConfigError
from nitro.runtime.app import load_app

from helpers import ServerProcess, free_port, nitro_cli

VALUE = "s3cr3t-value-never-printed"
CONFIG = """from nitro.config import define_nitro_config

config = define_nitro_config(
    runtime_config={"api_key": "{{secret:API_KEY}}", "public": {"name": "shop"}},
    storage={"files": {"driver": "fs", "base": "{{secret:FILES_DIR}}"}},
    dev_storage={"files": {"driver": "memory"}},
)
"""
ROUTE = """from nitro import use_runtime_config, use_storage


async def handler(event):
    await use_storage("files").set_item("seen", 1)
    return {"api_key": use_runtime_config().api_key}
"""


def project(root: Path, config: str = CONFIG) -> Path:
    (root / "routes").mkdir(parents=True)
    (root / "routes" / "index.py").write_text(ROUTE)
    (root / "tasks").mkdir()
    (root / "tasks" / "show.py").write_text(
        "from nitro import define_task, use_runtime_config\n\n\n@define_task\n"
        "def task(payload, context):\n    return use_runtime_config().api_key\n"
    )
    (root / "nitro.config.py").write_text(config)
    return root


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("API_KEY", "FILES_DIR", "NITRO_SECRET_STORE", "NITRO_SECRETS_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


def test_the_server_build_reads_secrets_from_the_environment_when_it_starts(
    tmp_path: Path,
) -> None:
    root = project(tmp_path / "shop")
    # What the build machine holds is never used: the build does not read secrets.
    result = nitro_cli("build", str(root), env={"API_KEY": "build-time-value"})
    assert result.returncode == 0, result.stderr
    built = [p.read_bytes() for p in (root / ".output").rglob("*") if p.is_file()]
    assert not any(b"build-time-value" in content for content in built)

    missing = subprocess.run(
        [sys.executable, str(root / ".output" / "server" / "index.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "FILES_DIR": str(tmp_path / "files")},
    )
    assert missing.returncode != 0
    assert (
        "[nitro:secrets:env] not found in the environment: 'API_KEY' (used by "
        "runtime_config.api_key); set them as environment variables"
    ) in missing.stderr

    env = {"API_KEY": VALUE, "FILES_DIR": str(tmp_path / "files")}
    server = ServerProcess(
        [sys.executable, ".output/server/index.py"],
        cwd=root,
        port=free_port(),
        env=env,
        log=tmp_path / "server.log",
    )
    try:
        server.wait_ready()
        answer = httpx.get(server.url + "/")
        assert answer.json() == {"api_key": VALUE}
    finally:
        server.stop()
    assert (tmp_path / "files" / "seen").is_file()  # the mount's base came from a secret


def test_dev_reads_secrets_from_dotenv(tmp_path: Path) -> None:
    root = project(tmp_path / "shop")
    (root / ".env").write_text(f"API_KEY={VALUE}\n")
    # dev_storage replaces the mount whose base is a secret: dev never asks for FILES_DIR.
    result = nitro_cli("task", "run", "show", str(root))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"result": VALUE}


def test_a_missing_secret_names_the_secret_and_the_option_never_a_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "shop")
    monkeypatch.setenv("FILES_DIR", VALUE)
    with pytest.raises(ConfigError) as raised:
        load_app(root)
    message = str(raised.value)
    assert "'API_KEY' (used by runtime_config.api_key)" in message
    assert VALUE not in message and "FILES_DIR" not in message


def test_the_import_check_never_reads_secrets(tmp_path: Path) -> None:
    """The build imports the entry with secrets unknown: it asks no store (here the
    SSM stand-in, which would see the request) and still checks the store exists."""
    root = project(tmp_path / "shop")
    with ssm_stand_in() as ssm:
        result = nitro_cli("build", str(root), env={**ssm.env, "NITRO_SECRET_STORE": "aws-ssm"})
        assert result.returncode == 0, result.stderr
        assert ssm.requests == []
    result = nitro_cli("build", str(root), env={"NITRO_SECRET_STORE": "vault-of-dreams"})
    assert result.returncode != 0
    assert "[nitro:secrets] unknown secret store 'vault-of-dreams'" in result.stderr


# --- the AWS SSM stand-in: holds requests back, or never answers ---


class SsmStandIn:
    """A server speaking SSM's ``GetParameters`` (JSON 1.1) on 127.0.0.1. Every
    request waits at a barrier of `together` parties: the answer comes only once that
    many requests are in flight at the same time (else 500 after 5 s)."""

    def __init__(self, together: int, hang: bool) -> None:
        self.requests: list[list[str]] = []
        self.barrier = threading.Barrier(together, timeout=5)
        self.hang = hang
        self.release = threading.Event()
        self.url = ""

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        names = list(body["Names"])
        self.requests.append(names)
        if self.hang:
            self.release.wait(30)
            return 500, {}
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            return 500, {"__type": "InternalServerError", "message": "not in flight together"}
        parameters = [
            {"Name": n, "Type": "SecureString", "Value": f"value-of-{n}", "Version": 1}
            for n in names
            if not n.startswith("missing")
        ]
        invalid = [n for n in names if n.startswith("missing")]
        return 200, {"Parameters": parameters, "InvalidParameters": invalid}


@pytest.fixture
def stand_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@contextlib.contextmanager
def ssm_stand_in(together: int = 1, *, hang: bool = False) -> Iterator[SsmStandIn]:
    """An `SsmStandIn` served in a thread for the block."""
    stand_in = SsmStandIn(together, hang)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            status, answer = stand_in.answer(json.loads(self.rfile.read(length)))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/x-amz-json-1.1")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield stand_in
    finally:
        stand_in.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def many_secrets(count: int) -> str:
    secrets = {f"key{i:02d}": f"{{{{secret:/shop/s{i:02d}}}}}" for i in range(count)}
    return (
        "from nitro.config import define_nitro_config\n"
        f"config = define_nitro_config(runtime_config={secrets!r}, "
        "storage={'files': {'driver': 'fs', 'base': '{{secret:/shop/s00}}'}})\n"
    )


@pytest.mark.usefixtures("stand_in_env")
def test_secrets_are_fetched_once_in_concurrent_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """21 secrets are three GetParameters batches (10 names each at most); the stand-in
    answers only while all three are in flight together. /shop/s00, named by two
    options, is asked for once."""
    root = project(tmp_path / "shop", many_secrets(21))
    with ssm_stand_in(together=3) as ssm:
        for name, value in ssm.env.items():
            monkeypatch.setenv(name, value)
        app = load_app(root, secret_store="aws-ssm")
    assert sorted(len(batch) for batch in ssm.requests) == [1, 10, 10]
    asked = [name for batch in ssm.requests for name in batch]
    assert sorted(asked) == [f"/shop/s{i:02d}" for i in range(21)]
    assert app.runtime_config["key07"] == "value-of-/shop/s07"


@pytest.mark.usefixtures("stand_in_env")
def test_a_store_that_does_not_answer_fails_start_up_within_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "shop", many_secrets(2))
    monkeypatch.setenv("NITRO_SECRETS_TIMEOUT", "1")
    with ssm_stand_in(hang=True) as ssm:
        for name, value in ssm.env.items():
            monkeypatch.setenv(name, value)
        started = time.monotonic()
        with pytest.raises(ConfigError) as raised:
            load_app(root, secret_store="aws-ssm")
        elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed  # the store's own retries would take far longer
    assert str(raised.value).startswith(
        "[nitro:secrets:aws-ssm] AWS SSM Parameter Store (eu-west-1 via http://127.0.0.1:"
    )
    assert (
        "did not answer within 1s for '/shop/s00' (used by runtime_config.key00), "
        "'/shop/s01' (used by runtime_config.key01)"
    ) in str(raised.value)


def test_the_timeout_must_be_a_positive_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "shop")
    monkeypatch.setenv("NITRO_SECRETS_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="NITRO_SECRETS_TIMEOUT='soon' must be a number"):
        load_app(root)


@pytest.mark.parametrize(
    ("preset", "store", "library"),
    [
        ("gcp-functions", "gcp-secret-manager", "google-cloud-secret-manager"),
        ("azure-functions", "azure-key-vault", "azure-keyvault-secrets"),
        ("aws-lambda", "aws-ssm", "boto3"),
        ("vercel", "env", None),
    ],
)
def test_a_build_records_its_preset_store_and_ships_its_library(
    tmp_path: Path, preset: str, store: str, library: str | None
) -> None:
    """A preset's store is its data: recorded in the build's manifest for the entry,
    and its library installed by the build (only for an app whose options name a
    secret)."""
    from nitro.bundle.vendor import Target
    from nitro.config import load_config
    from nitro.core.manifest import Manifest
    from nitro.presets import BuildContext, get_preset
    from nitro.runtime.scan import scan_project

    found = get_preset(preset)
    assert found.secret_store == store
    libraries = {"boto3", "google-cloud-secret-manager", "azure-keyvault-secrets"}
    plain = "from nitro.config import define_nitro_config\nconfig = define_nitro_config()\n"
    for names_a_secret, config in ((True, CONFIG), (False, plain)):
        root = project(tmp_path / f"{preset}-{names_a_secret}", config)
        context = BuildContext(
            root=root,
            config=load_config(root),
            manifest=scan_project(root),
            out=root / ".output",
            log=lambda message: None,
            secret_store=found.secret_store,
        )
        requirements = {r.split(">")[0] for r in context.requirements(Target())}
        shipped = libraries & requirements
        assert shipped == ({library} if names_a_secret and library else set())
        context.write_entry(root, "entry.py", "", found.record())
        record = Manifest.read(root / "manifest.json").preset
        assert record is not None and record.secret_store == store
