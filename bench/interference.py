"""How much CPU other processes used while a section ran.

Two CPUs leave no slack: a test suite or a build running at the same time shows
up as noise in every number. This counts the CPU time of every process outside
this benchmark's process tree, from /proc (Linux), so a disturbed run says so.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType

WARN_ABOVE = 0.10  # CPUs used by others on average (10% of one CPU)


def _processes() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of the process and its reaped children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[int, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        # After "pid (comm) ": state, ppid, ... utime, stime, cutime, cstime (fields 14-17).
        fields = raw[raw.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), sum(int(x) for x in fields[11:15]) / ticks)
    return found


def _ours(processes: dict[int, tuple[int, float]]) -> set[int]:
    """This process and its descendants."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in processes.items():
        children.setdefault(ppid, []).append(pid)
    ours, todo = set(), [os.getpid()]
    while todo:
        pid = todo.pop()
        ours.add(pid)
        todo.extend(children.get(pid, ()))
    return ours


class OtherProcesses:
    """Context manager: `cpus` is the average number of CPUs others kept busy inside it."""

    def __init__(self) -> None:
        self.cpus: float | None = None

    def __enter__(self) -> OtherProcesses:
        self._start = time.monotonic()
        self._before = _processes() if Path("/proc/stat").exists() else None
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._before is None:
            return
        after = _processes()
        ours = _ours(after)
        # Processes that exited meanwhile are missed, unless a surviving parent reaped them.
        used = sum(
            cpu - self._before.get(pid, (0, 0.0))[1]
            for pid, (_, cpu) in after.items()
            if pid not in ours
        )
        self.cpus = max(used, 0.0) / max(time.monotonic() - self._start, 1e-9)

    def report(self) -> None:
        if self.cpus is None:
            return
        print(f"\n  other processes kept {self.cpus:.2f} CPUs busy during this section")
        if self.cpus > WARN_ABOVE:
            print(
                "  warning: the machine was busy: these numbers are disturbed, rerun on a quiet machine"
            )
