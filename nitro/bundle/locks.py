"""The project's lock file: the exact versions a build installs for the target.

A build installs what the project tested, not a fresh resolution: with a lock file
its requirements become pins (``name==version``) for the target's Python, Linux
and architecture (the lock's markers are evaluated for the target, not for this
machine). The first found is used:

- ``uv.lock`` (uv's lock file): the closure of the project's runtime dependencies
  through the lock's graph, following the extras each edge asks for. Dev groups and
  the project's own optional dependencies are not followed. nitro-py is not
  installed (the build copies it) and its dependencies are followed only where the
  app needs them at run time (nitro's runtime requirements, pinned from the lock).
- ``pylock.toml`` (PEP 751): every package whose marker holds for the target with
  no extras and no dependency groups (export it without dev dependencies:
  ``uv export --no-dev --format pylock.toml``).
- ``requirements.txt`` when every requirement pins one version (``pip freeze``,
  ``uv pip compile``, ``pip-compile`` output): those requirements.

Local packages cannot be installed for another platform: the project itself and
nitro-py are skipped (both are copied); any other package from a local directory is
a build error naming it. A lock that does not cover a dependency in
``pyproject.toml`` is out of date: also an error. What nitro adds for the features
the project uses (a storage driver's library...) takes the lock's version when the
lock has the package (it must satisfy nitro's requirement), else resolves as usual.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from .output import BuildError

__all__ = ["LockFile", "find_lock", "marker_environment"]

_SELF = "nitro-py"


def normalize(name: str) -> str:
    """PEP 503 normalized name: ``Foo_Bar`` -> ``foo-bar``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def marker_environment(python: str, arch: str) -> dict[str, str]:
    """PEP 508 marker values of a serverless Linux target (CPython `python` on `arch`).
    The patch version is unknown at build time: ``X.Y.0``."""
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "os_name": "posix",
        "platform_machine": arch,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{python}.0",
        "python_version": python,
        "sys_platform": "linux",
    }


@dataclass
class LockFile:
    """A lock file read for one target: `file` is its name, `pins` the requirement
    line of every package of the project's closure (by normalized name) that holds
    for the target, `roots` the names the project itself depends on, `versions` the
    version of every package the lock pins for the target."""

    file: str
    pins: dict[str, str]
    roots: list[str]
    versions: dict[str, str] = field(default_factory=dict)
    graph: _UvGraph | None = None

    def requirements(self, additions: Iterable[str]) -> list[str]:
        """What to install: the project's locked closure plus nitro's `additions`,
        each pinned from the lock when the lock has it. Sorted."""
        wanted: dict[str, str] = {}
        extra_roots: list[tuple[str, frozenset[str]]] = []
        for line in additions:
            requirement = Requirement(line)
            name = normalize(requirement.name)
            version = self.versions.get(name)
            if version is None:
                wanted.setdefault(name, line)  # not locked: resolved as usual
                continue
            if not requirement.specifier.contains(Version(version), prereleases=True):
                raise BuildError(
                    f"[nitro:build] {self.file} locks {name} {version}, but nitro needs {line}: "
                    f"upgrade it in the lock (uv lock --upgrade-package {name})"
                )
            extra_roots.append((name, frozenset(requirement.extras)))
        if self.graph is not None:
            pins = self.graph.closure(extra_roots)
        else:
            pins = dict(self.pins)
        for name, extras in extra_roots:
            if extras:  # e.g. psycopg[binary]: the extra's packages come with it
                pins[name] = f"{name}[{','.join(sorted(extras))}]=={self.versions[name]}"
        wanted.update(pins)
        return sorted(wanted.values(), key=str.lower)


def find_lock(
    root: Path, *, project: str | None, declared: list[str], python: str, arch: str
) -> LockFile | None:
    """The project's lock file read for the target (None without one).

    `project` is the project's name (`[project].name`), `declared` its dependencies
    as written in pyproject.toml (a lock that misses one of them is out of date).
    """
    env = marker_environment(python, arch)
    lock: LockFile | None = None
    if (root / "uv.lock").is_file():
        lock = _read_uv_lock(root / "uv.lock", project, env)
    elif (root / "pylock.toml").is_file():
        lock = _read_pylock(root / "pylock.toml", project, env)
    else:
        lock = _read_pinned_requirements(root / "requirements.txt", project, env)
    if lock is None:
        return None
    _check_covers(lock, declared, env)
    return lock


def _check_covers(lock: LockFile, declared: list[str], env: dict[str, str]) -> None:
    for line in declared:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        name = normalize(requirement.name)
        if name == _SELF or (requirement.marker and not requirement.marker.evaluate(env)):
            continue
        if name not in lock.roots:
            raise BuildError(
                f"[nitro:build] {lock.file} does not lock {name}, a dependency in pyproject.toml: "
                f"it is out of date; update it ({_UPDATE.get(lock.file, 'uv lock')})"
            )


_UPDATE = {
    "uv.lock": "uv lock",
    "pylock.toml": "uv export --no-dev --format pylock.toml -o pylock.toml",
    "requirements.txt": "uv pip compile pyproject.toml -o requirements.txt, or pip freeze",
}


def _holds(marker: str | None, env: dict[str, str]) -> bool:
    if not marker:
        return True
    return Marker(marker).evaluate({**env, "extra": ""})


# --- uv.lock -----------------------------------------------------------------

_LOCAL = ("editable", "virtual", "directory")


@dataclass
class _UvPackage:
    name: str
    version: str | None
    source: dict[str, Any]
    dependencies: list[dict[str, Any]]
    optional: dict[str, list[dict[str, Any]]]
    resolution_markers: list[str]


class _UvGraph:
    """uv.lock's packages and edges, walked for one target."""

    def __init__(
        self, file: str, packages: list[_UvPackage], root: _UvPackage | None, env: dict[str, str]
    ) -> None:
        self.file = file
        self.by_name: dict[str, list[_UvPackage]] = {}
        for package in packages:
            self.by_name.setdefault(package.name, []).append(package)
        self.root = root
        self.env = env

    def resolve(self, edge: Mapping[str, Any]) -> _UvPackage:
        name = normalize(str(edge["name"]))
        candidates = self.by_name.get(name, [])
        if "version" in edge:
            candidates = [c for c in candidates if c.version == edge["version"]]
        if "source" in edge:
            candidates = [c for c in candidates if c.source == edge["source"]] or candidates
        if len(candidates) > 1:  # a forked resolution: the fork for this target
            candidates = [
                c
                for c in candidates
                if not c.resolution_markers
                or any(_holds(m, self.env) for m in c.resolution_markers)
            ]
        if len(candidates) != 1:
            raise BuildError(
                f"[nitro:build] {self.file}: cannot tell which {name} the lock means for this "
                f"target ({len(candidates)} candidates); update the lock (uv lock)"
            )
        return candidates[0]

    def closure(self, extra_roots: Iterable[tuple[str, frozenset[str]]] = ()) -> dict[str, str]:
        """Pins of everything the project's runtime dependencies (and `extra_roots`:
        nitro's own needs) reach for the target."""
        edges: list[Mapping[str, Any]] = list(self.root.dependencies if self.root else [])
        edges += [{"name": name, "extra": sorted(extras)} for name, extras in extra_roots]
        seen: dict[tuple[str, str | None], set[str]] = {}
        pins: dict[str, str] = {}
        while edges:
            edge = edges.pop()
            if not _holds(edge.get("marker"), self.env):
                continue
            package = self.resolve(edge)
            key = (package.name, package.version)
            extras = set(edge.get("extra", []))
            first = key not in seen
            new_extras = extras - seen.get(key, set())
            if not first and not new_extras:
                continue
            seen.setdefault(key, set()).update(extras)
            if package.name == _SELF:
                # Copied by the build, and its own runtime needs come as extra_roots; the
                # extras the project names (``nitro-py[session]``) bring their libraries.
                for extra in new_extras:
                    edges += package.optional.get(extra, [])
                continue
            if package is not self.root:
                pins[package.name] = self.pin(package)
            if first:
                edges += package.dependencies
            for extra in new_extras:
                edges += package.optional.get(extra, [])
        return pins

    def pin(self, package: _UvPackage) -> str:
        source = package.source
        if "registry" in source:
            return f"{package.name}=={package.version}"
        if "url" in source:
            return f"{package.name} @ {source['url']}"
        if "git" in source:
            return f"{package.name} @ git+{source['git']}"
        path = source.get("path")
        if isinstance(path, str) and path.endswith(".whl"):
            return f"{package.name} @ {(Path(self.file).parent / path).resolve().as_uri()}"
        raise _local_package(self.file, package.name, source)


def _local_package(file: str, name: str, source: Mapping[str, Any]) -> BuildError:
    where = next((str(source[k]) for k in (*_LOCAL, "path") if k in source), "?")
    return BuildError(
        f"[nitro:build] {Path(file).name}: {name} comes from a local directory ({where}), "
        "which the build cannot install for the platform: build it into a wheel the lock "
        "points at, publish it, or move its code into the project"
    )


def _read_uv_lock(path: Path, project: str | None, env: dict[str, str]) -> LockFile:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    packages = [
        _UvPackage(
            name=normalize(str(p["name"])),
            version=p.get("version"),
            source=dict(p.get("source", {})),
            dependencies=list(p.get("dependencies", [])),
            optional=dict(p.get("optional-dependencies", {})),
            resolution_markers=list(p.get("resolution-markers", [])),
        )
        for p in data.get("package", [])
    ]
    root = _uv_root(packages, project)
    graph = _UvGraph(str(path), packages, root, env)
    versions = {
        p.name: p.version
        for p in packages
        if p.version and len(graph.by_name[p.name]) == 1 and p is not root
    }
    if root is None:
        raise BuildError(
            f"[nitro:build] {path.name} locks no project named {project!r}: it belongs to "
            "another project; update it (uv lock)"
        )
    pins = graph.closure()
    for name, pin in pins.items():  # a forked package: the version this target gets
        if "==" in pin:
            versions.setdefault(name, pin.partition("==")[2])
    roots = [normalize(str(e["name"])) for e in root.dependencies]
    return LockFile(path.name, pins, roots, versions, graph)


def _uv_root(packages: list[_UvPackage], project: str | None) -> _UvPackage | None:
    if project is not None:
        for package in packages:
            if package.name == normalize(project):
                return package
    # Without a name: the package the lock's own directory is.
    for package in packages:
        if any(package.source.get(k) == "." for k in _LOCAL):
            return package
    return None


# --- pylock.toml (PEP 751) ---------------------------------------------------


def _read_pylock(path: Path, project: str | None, env: dict[str, str]) -> LockFile:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    context = {**env, "extra": "", "extras": frozenset(), "dependency_groups": frozenset()}
    pins: dict[str, str] = {}
    versions: dict[str, str] = {}
    for package in data.get("packages", []):
        name = normalize(str(package["name"]))
        marker = package.get("marker")
        if marker and not Marker(marker).evaluate(context, context="lock_file"):  # type: ignore[arg-type]
            continue
        if name == _SELF or (project is not None and name == normalize(project)):
            continue
        if "directory" in package:
            raise _local_package(str(path), name, package["directory"])
        if "vcs" in package:
            vcs = package["vcs"]
            pins[name] = f"{name} @ {vcs['type']}+{vcs['url']}@{vcs['commit-id']}"
        elif "archive" in package and "url" in package["archive"]:
            pins[name] = f"{name} @ {package['archive']['url']}"
        elif "archive" in package:
            archive = (path.parent / package["archive"]["path"]).resolve()
            pins[name] = f"{name} @ {archive.as_uri()}"
        elif "version" in package:
            pins[name] = f"{name}=={package['version']}"
            versions[name] = str(package["version"])
        else:
            raise BuildError(f"[nitro:build] {path.name}: {name} has no version or source")
    return LockFile(path.name, pins, sorted(pins), versions)


# --- a pinned requirements.txt -----------------------------------------------

_PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*===?\s*[^\s,;*]+\s*(;.*)?$")


def _read_pinned_requirements(
    path: Path, project: str | None, env: dict[str, str]
) -> LockFile | None:
    """A requirements.txt whose every requirement pins one version, read as a lock."""
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if not line or line.startswith("#") or line.startswith("-"):
            continue
        line = re.sub(r"\s--hash[= ]\S+", "", line).strip()  # pip-compile's hashes
        lines.append(line)
    if not lines or not all(_PINNED.match(line) for line in lines):
        return None
    pins: dict[str, str] = {}
    versions: dict[str, str] = {}
    for line in lines:
        requirement = Requirement(line)
        name = normalize(requirement.name)
        if requirement.marker is not None and not requirement.marker.evaluate(env):
            continue
        if name == _SELF or (project is not None and name == normalize(project)):
            continue
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        pins[name] = f"{name}{extras}{requirement.specifier}"
        version = next(iter(requirement.specifier)).version
        try:
            Version(version)
            versions[name] = version
        except InvalidVersion:
            pass
    return LockFile(path.name, pins, sorted(pins), versions)
