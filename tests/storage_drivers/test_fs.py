"""What is special to the fs driver: crash safety, paths, conflicts, read-only."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anyio
import pytest

from nitro.core.storage import ReadOnlyStorageError, Storage
from nitro.storage_drivers.fs import META, TMP, FsDriver

pytestmark = pytest.mark.anyio

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from nitro.storage_drivers.fs import FsDriver

    async def main():
        driver = FsDriver(Path(sys.argv[1]))
        i = int(sys.argv[2])
        print("ready", flush=True)
        while True:
            pad = str(i % 10) * 300_000
            await driver.set("item", ('{"i": %d, "pad": "%s"}' % (i, pad)).encode(), None)
            i += 1

    asyncio.run(main())
    """
)


def test_a_writer_killed_mid_write_never_leaves_a_torn_value(tmp_path: Path) -> None:
    base = tmp_path / "kv"
    driver = FsDriver(base)
    rng = random.Random(7)
    mid_write_kills = 0
    last = -1
    for round_ in range(30):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(base), str(last + 1)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.01, 0.15))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        # Killed before its first write (a loaded machine), the writer made no folder yet.
        leftovers = [p for p in base.iterdir() if TMP in p.name] if base.exists() else []
        mid_write_kills += bool(leftovers)
        raw = anyio.run(driver.get, "item")  # read back through the driver
        if raw is None:
            assert round_ == 0, "a value that existed disappeared"
            continue
        value = json.loads(raw)  # a torn or empty value fails here
        assert value["pad"] == str(value["i"] % 10) * 300_000
        assert value["i"] >= last
        last = value["i"]
    assert last > 0
    assert mid_write_kills > 0, "no kill landed mid-write: the test proved nothing"
    assert [p for p in base.iterdir() if TMP not in p.name] == [base / "item"]


@pytest.mark.parametrize(
    "key",
    ["..", "a:..:b", ".", "a:.", f"x{META}", f"a:b{TMP}1", "a\x00b"],
)
async def test_keys_cannot_escape_or_use_reserved_names(tmp_path: Path, key: str) -> None:
    driver = FsDriver(tmp_path / "kv")
    with pytest.raises(ValueError, match=r"\[nitro:storage:fs\]"):
        await driver.set(key, b"x", None)
    assert not (tmp_path / "b").exists()


async def test_normalised_traversal_attempts_stay_inside(tmp_path: Path) -> None:
    storage = Storage().mount("t", FsDriver(tmp_path / "kv"))
    await storage.set_item("t:/etc/passwd", "inside")
    assert (tmp_path / "kv" / "etc" / "passwd").read_text() == '"inside"'
    with pytest.raises(ValueError):
        await storage.set_item("t:../../evil", "x")
    assert not (tmp_path / "evil").exists()


async def test_symlinks_out_of_the_base_are_refused(tmp_path: Path) -> None:
    (tmp_path / "kv").mkdir()
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", tmp_path / "kv" / "link")
    with pytest.raises(ValueError, match="leads outside"):
        await FsDriver(tmp_path / "kv").set("link:file", b"x", None)
    assert not (tmp_path / "outside" / "file").exists()


async def test_a_key_and_its_children_conflict_clearly(tmp_path: Path) -> None:
    driver = FsDriver(tmp_path / "kv")
    await driver.set("a", b"1", None)
    with pytest.raises(ValueError, match="conflicts with a shorter key"):
        await driver.set("a:b", b"2", None)
    await driver.set("x:y", b"1", None)
    with pytest.raises(ValueError, match="conflicts with longer keys"):
        await driver.set("x", b"2", None)


async def test_key_a_b_is_the_file_base_a_b_and_folders_are_pruned(tmp_path: Path) -> None:
    driver = FsDriver(tmp_path / "kv")
    await driver.set("users:1", b"ada", None)
    assert (tmp_path / "kv" / "users" / "1").read_bytes() == b"ada"
    await driver.remove("users:1")
    assert not (tmp_path / "kv" / "users").exists()


async def test_expired_values_leave_no_files(tmp_path: Path) -> None:
    driver = FsDriver(tmp_path / "kv")
    await driver.set("k", b"v", 0.05)
    assert (tmp_path / "kv" / f"k{META}").exists()
    time.sleep(0.1)
    assert await driver.get("k") is None
    assert list((tmp_path / "kv").iterdir()) == []


async def test_read_only_mounts_refuse_writes(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "logo.txt").write_text("logo")
    storage = Storage().mount("assets:server", FsDriver(tmp_path / "assets", read_only=True))
    assert await storage.get_item("assets:server:logo.txt") == "logo"
    assert await storage.get_keys("assets") == ["assets:server:logo.txt"]
    for attempt in (
        storage.set_item("assets:server:x", 1),
        storage.remove_item("assets:server:logo.txt"),
        storage.clear("assets:server"),
    ):
        with pytest.raises(ReadOnlyStorageError, match="mount 'assets:server' is read-only"):
            await attempt
    assert (tmp_path / "assets" / "logo.txt").exists()


CLAIMER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from nitro.storage_drivers.fs import FsDriver

    async def main():
        driver = FsDriver(Path(sys.argv[1]))
        won = await driver.set_if_absent("tick:2026-01-01T00:00:00+00:00", sys.argv[2].encode(), 60)
        print("won" if won else "lost")

    asyncio.run(main())
    """
)


def test_claims_from_many_processes_have_one_winner(tmp_path: Path) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(tmp_path / "kv"), str(i)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    results = [p.communicate(timeout=60)[0].strip() for p in processes]
    assert sorted(results) == ["lost"] * 7 + ["won"]
