"""The test command collects every test file (pytest's defaults once hid tests/build/)."""

from __future__ import annotations

import subprocess
import sys

from helpers import REPO


def collected_files() -> set[str]:
    """Test files pytest collects with the project's configuration, as `./scripts/test` runs it.

    `--collect-only` imports the test modules but runs none, so this test collecting
    itself in the subprocess does not recurse.
    """
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return {line.split("::", 1)[0] for line in result.stdout.splitlines() if "::" in line}


def test_every_test_file_is_collected() -> None:
    on_disk = {path.relative_to(REPO).as_posix() for path in (REPO / "tests").rglob("test_*.py")}
    assert "tests/runtime/test_scan.py" in on_disk  # the glob sees the tree
    assert on_disk - collected_files() == set()
