"""What a build ships: the requirement lines of a project and of nitro's features.

The project's own dependencies (`pyproject.toml`, else `requirements.txt`, else its
lock file through `nitro.bundle.locks`), nitro's runtime, and the libraries of the
features the config uses (storage drivers, SQL connectors, schedules, proxies).
`nitro.bundle.vendor` installs them for the target.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import NitroConfig

if TYPE_CHECKING:
    from .vendor import Target

__all__ = [
    "NITRO_RUNTIME",
    "Requirements",
    "mounted_modules",
    "project_name",
    "project_requirements",
    "requirement_name",
    "runtime_requirements",
    "target_requirements",
    "write_requirements",
]

# What nitro needs at run time on a platform (the CLI's dev server, file watcher,
# .env loader and in-process scheduler stay home). The rest comes with the features
# a project uses: see `runtime_requirements`.
NITRO_RUNTIME = ["starlette>=1.0", "anyio>=4.4", "python-multipart>=0.0.18"]
HTTPX = "httpx>=0.27"
CRONITER = "croniter>=2.0"
_SELF = {"nitro-py", "nitro_py", "nitro"}


def _project_table(root: Path) -> dict[str, Any] | None:
    """`[project]` of the project's pyproject.toml ({} without one; None without the file)."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return None
    project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    return project if isinstance(project, dict) else {}


def project_name(root: Path) -> str:
    """`[project].name` of the project's pyproject.toml, else the folder's name."""
    name = (_project_table(root) or {}).get("name")
    return name if isinstance(name, str) and name else root.resolve().name


def project_requirements(root: Path) -> list[str]:
    """The project's dependencies: `[project].dependencies` of `pyproject.toml`, else
    `requirements.txt`; nitro itself is left out (it is copied, not installed), the
    libraries of the extras it names (``nitro-py[session]``) are kept."""
    project = _project_table(root)
    requirements: list[str] = []
    if project is not None:
        requirements = list(project.get("dependencies", []))
    elif (root / "requirements.txt").is_file():
        for line in (root / "requirements.txt").read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                requirements.append(line)
    kept = [r for r in requirements if requirement_name(r) not in _SELF]
    for requirement in requirements:
        if requirement_name(requirement) in _SELF:
            kept += _extras_of_self(requirement)
    return kept


def _extras_of_self(requirement: str) -> list[str]:
    """What ``nitro-py[session,redis]`` adds to nitro's own requirements: nitro is
    copied, not installed, so its extras' libraries are vendored by name."""
    match = re.search(r"\[([^\]]*)\]", requirement.split(";", 1)[0])
    if match is None:
        return []
    wanted = {_extra(e) for e in match.group(1).split(",") if e.strip()}
    from importlib.metadata import PackageNotFoundError, requires

    try:
        declared = requires("nitro-py") or []
    except PackageNotFoundError:
        return []
    added = []
    for line in declared:
        spec, _, marker = line.partition(";")
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
        if extra is not None and _extra(extra.group(1)) in wanted:
            added.append(spec.strip())
    return list(dict.fromkeys(added))


def _extra(name: str) -> str:
    return re.sub(r"[-_.\s]+", "-", name.strip()).lower()  # PEP 685's normal form


def runtime_requirements(
    root: Path,
    config: NitroConfig,
    *,
    storage_defaults: Mapping[str, Mapping[str, Any]] | None = None,
    platform: Iterable[str] = (),
) -> list[str]:
    """Everything the built app imports where it runs: nitro's own runtime, the
    libraries of the storage drivers it mounts (the preset's `storage_defaults`
    included) and of its SQL connectors, croniter with `scheduled_tasks`, httpx for
    proxy rules to other servers, the `platform`'s entry library and the project's
    dependencies. Sorted, without duplicates."""
    wanted = [*NITRO_RUNTIME, *platform, *project_requirements(root)]
    wanted += _feature_requirements(config, storage_defaults)
    return _unique(wanted)


@dataclass(frozen=True)
class Requirements:
    """What a build installs for its target, and where the project's part came from:
    `source` is the file read ("uv.lock", "pylock.toml", "requirements.txt",
    "pyproject.toml"; None without any), `locked` whether it pinned the versions."""

    lines: list[str]
    source: str | None
    locked: bool

    def describe(self) -> dict[str, Any]:
        """For nitro.json: ``{"from": "uv.lock", "locked": true, "requirements": [...]}``."""
        return {"from": self.source, "locked": self.locked, "requirements": self.lines}


def target_requirements(
    root: Path,
    config: NitroConfig,
    target: Target,
    *,
    storage_defaults: Mapping[str, Mapping[str, Any]] | None = None,
    platform: Iterable[str] = (),
) -> Requirements:
    """`runtime_requirements` for `target`, with the versions of the project's lock
    file when it has one (`nitro.bundle.locks`): its closure pinned for the target's
    Python, Linux and architecture, and nitro's own needs pinned from it too."""
    from .locks import find_lock

    project = _project_table(root)
    declared = [str(r) for r in (project or {}).get("dependencies", [])]
    name = (project or {}).get("name")
    lock = find_lock(
        root,
        project=name if isinstance(name, str) else None,
        declared=declared,
        python=target.python,
        arch=target.arch,
    )
    if lock is not None:
        additions = _unique(
            [*NITRO_RUNTIME, *platform, *_feature_requirements(config, storage_defaults)]
        )
        return Requirements(lock.requirements(additions), lock.file, True)
    lines = runtime_requirements(root, config, storage_defaults=storage_defaults, platform=platform)
    if project is not None:
        source: str | None = "pyproject.toml"
    else:
        source = "requirements.txt" if (root / "requirements.txt").is_file() else None
    return Requirements(lines, source, False)


def _feature_requirements(
    config: NitroConfig, storage_defaults: Mapping[str, Mapping[str, Any]] | None
) -> list[str]:
    import importlib

    wanted: list[str] = []
    for module in mounted_modules(config, storage_defaults=storage_defaults):
        wanted += getattr(importlib.import_module(module), "REQUIRES", [])
    if config.scheduled_tasks:
        wanted.append(CRONITER)
    if any(_proxies_out(rule.get("proxy")) for rule in config.route_rules.values()):
        wanted.append(HTTPX)
    return wanted


def _unique(requirements: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for requirement in requirements:
        seen.setdefault(requirement_name(requirement), requirement)  # the first spelling wins
    return sorted(seen.values())


def mounted_modules(
    config: NitroConfig, *, storage_defaults: Mapping[str, Mapping[str, Any]] | None = None
) -> list[str]:
    """The modules of the storage drivers the built app mounts (the preset's
    `storage_defaults` included) and of its SQL connectors, for the known names."""
    from ..runtime.storage import default_mounts
    from ..sql_connectors import CONNECTORS
    from ..storage_drivers import DRIVERS

    mounts = {**default_mounts(dev=False), **(storage_defaults or {}), **config.storage}
    modules = [DRIVERS.get(str(mount.get("driver"))) for mount in mounts.values()]
    modules += [CONNECTORS.get(str(db.get("connector"))) for db in config.database.values()]
    return list(dict.fromkeys(filter(None, modules)))


def write_requirements(directory: Path, requirements: list[str]) -> None:
    """``directory/requirements.txt``, one requirement a line (what a platform installs)."""
    (directory / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")


def _proxies_out(proxy: Any) -> bool:
    target = proxy.get("to") if isinstance(proxy, Mapping) else proxy
    return isinstance(target, str) and not target.startswith("/")


def requirement_name(requirement: str) -> str:
    """The distribution name of a requirement line, normalized: "Foo_Bar[x]>=1" -> "foo-bar"."""
    return re.split(r"[\s\[<>=!~;@]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")
