"""Private PostgreSQL and MariaDB servers for tests that stop and restart them.

Each lives in its own temporary data directory, listens on a free port on 127.0.0.1 (no
Unix socket in a shared place) and is never the machine's own server. Both refuse to run
as root, so as root (CI) they run as an unprivileged system user (`postgres` / `mysql`,
else `nobody`). Missing binaries skip the test locally and fail it in CI.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from helpers import free_port, require_service

PASSWORD = "s3cr3t-pw"  # in every URL, so a test can check it never reaches a response
USER = "app"


class PrivateServer:
    """A database server process this test owns: `start`, `stop_immediately`, `close`.
    `kind` is the name of the connector that talks to it ("postgresql", "mysql")."""

    def __init__(
        self,
        kind: str,
        argv: list[str],
        *,
        directory: Path,
        port: int,
        url: str,
        ready_line: str,
        immediate_signal: signal.Signals,
        run_as: dict[str, Any],
    ) -> None:
        self.kind = kind
        self.argv = argv
        self.directory = directory
        self.port = port
        self.url = url
        self.ready_line = ready_line
        self.immediate_signal = immediate_signal
        self.run_as = run_as
        self.log_path = directory / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 120.0) -> None:
        """Start the server and return once its log says it accepts connections."""
        assert self.process is None, "already running"
        seen = self.logs().count(self.ready_line)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.directory,
                **self.run_as,
            )
        deadline = time.monotonic() + timeout
        while self.logs().count(self.ready_line) <= seen:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.kind} exited with {self.process.returncode}:\n{self.logs()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind} not ready after {timeout}s:\n{self.logs()}")
            time.sleep(0.02)

    def stop_immediately(self) -> None:
        """Stop without a clean shutdown: PostgreSQL's `pg_ctl stop -m immediate` (SIGQUIT
        to the postmaster), MariaDB killed (it has no immediate mode)."""
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(self.immediate_signal)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def close(self) -> None:
        self.stop_immediately()
        shutil.rmtree(self.directory, ignore_errors=True)


def _run_as(candidates: tuple[str, ...]) -> tuple[dict[str, Any], int | None, int | None]:
    """Popen arguments to run as an unprivileged user when we are root, and its ids."""
    if os.geteuid() != 0:
        return {}, None, None
    for name in candidates:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return (
            {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []},
            entry.pw_uid,
            entry.pw_gid,
        )
    raise RuntimeError(f"running as root and none of the users {candidates} exists")


def _private_directory(prefix: str, uid: int | None, gid: int | None) -> Path:
    # Not pytest's tmp_path: that is private to root, and the server runs as another user.
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    if uid is not None and gid is not None:
        os.chown(directory, uid, gid)
    return directory


def _postgres_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    initdb = found[-1] if found else shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@contextmanager
def private_postgres() -> Iterator[PrivateServer]:
    """A fresh PostgreSQL cluster, running, with user `app` (password `PASSWORD`)."""
    bindir = _postgres_bin()
    require_service(
        bindir is not None and (bindir / "postgres").exists(),
        "PostgreSQL server binaries (initdb, postgres)",
        "apt-get install postgresql",
    )
    assert bindir is not None
    run_as, uid, gid = _run_as(("postgres", "nobody"))
    directory = _private_directory("nitro-pg-", uid, gid)
    port = free_port()
    server = PrivateServer(
        "postgresql",
        [
            str(bindir / "postgres"),
            "-D", str(directory / "data"),
            "-p", str(port),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=",
            "-c", "fsync=off",
            "-c", "max_connections=40",
        ],
        directory=directory,
        port=port,
        url=f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/postgres",
        ready_line="database system is ready to accept connections",
        immediate_signal=signal.SIGQUIT,
        run_as=run_as,
    )  # fmt: skip
    try:
        (directory / "pw").write_text(PASSWORD)
        if uid is not None and gid is not None:
            os.chown(directory / "pw", uid, gid)
        subprocess.run(
            [
                str(bindir / "initdb"), "-D", str(directory / "data"), "-U", USER,
                f"--pwfile={directory / 'pw'}", "--auth=scram-sha-256", "-E", "UTF8", "--no-sync",
            ],
            check=True, capture_output=True, cwd=directory, **run_as,
        )  # fmt: skip
        server.start()
        yield server
    finally:
        server.close()


def _mariadb_bins() -> tuple[str | None, str | None]:
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    install = shutil.which("mariadb-install-db", path=path) or shutil.which(
        "mysql_install_db", path=path
    )
    server = shutil.which("mariadbd", path=path) or shutil.which("mysqld", path=path)
    return install, server


@contextmanager
def private_mariadb() -> Iterator[PrivateServer]:
    """A fresh MariaDB server, running, with database `test` and user `app`."""
    install, mariadbd = _mariadb_bins()
    require_service(
        install is not None and mariadbd is not None,
        "MariaDB server binaries (mariadb-install-db, mariadbd)",
        "apt-get install mariadb-server",
    )
    assert install is not None and mariadbd is not None
    run_as, uid, gid = _run_as(("mysql", "nobody"))
    directory = _private_directory("nitro-mariadb-", uid, gid)
    port = free_port()
    init = directory / "init.sql"  # run at every start: idempotent
    init.write_text(
        "CREATE DATABASE IF NOT EXISTS test;\n"
        f"CREATE USER IF NOT EXISTS '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}';\n"
        f"GRANT ALL ON test.* TO '{USER}'@'127.0.0.1';\n"
        f"GRANT PROCESS ON *.* TO '{USER}'@'127.0.0.1';\n"
    )
    server = PrivateServer(
        "mysql",  # the connector's name
        [
            mariadbd, "--no-defaults",
            f"--datadir={directory / 'data'}",
            f"--port={port}", "--bind-address=127.0.0.1",
            f"--socket={directory / 'mysqld.sock'}",
            f"--pid-file={directory / 'mysqld.pid'}",
            f"--init-file={init}",
            "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=16M",
        ],
        directory=directory,
        port=port,
        url=f"mysql://{USER}:{PASSWORD}@127.0.0.1:{port}/test",
        ready_line="ready for connections",
        immediate_signal=signal.SIGKILL,
        run_as=run_as,
    )  # fmt: skip
    try:
        subprocess.run(
            [install, "--no-defaults", f"--datadir={directory / 'data'}",
             "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"],
            check=True, capture_output=True, cwd=directory, **run_as,
        )  # fmt: skip
        server.start()
        yield server
    finally:
        server.close()


@contextmanager
def private_server(connector: str) -> Iterator[PrivateServer]:
    """`private_postgres()` for "postgresql", `private_mariadb()` for "mysql"."""
    with private_postgres() if connector == "postgresql" else private_mariadb() as server:
        yield server
