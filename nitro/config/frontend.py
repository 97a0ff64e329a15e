"""The project's Vite front-end, if it has one: where it is and how to run Vite there.

A project is full-stack when its config says ``vite={"root": "web"}`` or, with no
`vite` option, when a ``vite.config.{js,mjs,ts}`` sits at the project root (the
front-end is then the project root itself). ``vite=False`` turns that off.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from .options import VITE_OPTIONS, ConfigError, NitroConfig

__all__ = [
    "VITE_CONFIG_FILES",
    "Frontend",
    "MissingToolError",
    "find_frontend",
    "vite_base_args",
]

VITE_CONFIG_FILES = (
    "vite.config.js",
    "vite.config.mjs",
    "vite.config.ts",
    "vite.config.mts",
    "vite.config.cjs",
    "vite.config.cts",
)
# Lock file -> the package manager that wrote it (the first found, nearest first).
_LOCK_FILES = (
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("bun.lock", "bun"),
    ("bun.lockb", "bun"),
    ("package-lock.json", "npm"),
)
# How each package manager runs the project's own `vite`, never installing it.
_EXEC = {
    "npm": ["npx", "--no", "--", "vite"],
    "pnpm": ["pnpm", "exec", "vite"],
    "yarn": ["yarn", "run", "vite"],
    "bun": ["bun", "run", "vite"],
}


class MissingToolError(ConfigError):
    """Node.js, the package manager or the front-end's packages are not installed;
    the message says what to run."""


@dataclass(frozen=True)
class Frontend:
    """A Vite front-end: its directory and how nitro runs Vite there.

    Example::

        frontend = find_frontend(root, config)
        if frontend is not None:
            print(frontend.command("build"))  # ['/app/web/node_modules/.bin/vite', 'build']
    """

    root: Path
    package_manager: str = "npm"
    dev_args: tuple[str, ...] = ()
    build_args: tuple[str, ...] = ()
    spa_fallback: bool = True
    assets_dir: str = "assets"

    def command(self, *args: str) -> list[str]:
        """The command line that runs the project's own Vite with `args`: its
        ``node_modules/.bin/vite`` (what ``npx vite`` runs, without npm's wrapper
        processes in between, so that signals reach Vite itself), else the package
        manager's way to run it (Yarn Plug'n'Play has no node_modules).
        """
        found = self.vite_bin()
        if found is not None:
            return [str(found), *args]
        return [*_EXEC[self.package_manager], *args]

    def vite_bin(self) -> Path | None:
        """The front-end's ``node_modules/.bin/vite``, or a parent folder's (workspaces
        hoist it); None when it is not installed."""
        for folder in (self.root, *self.root.parents):
            candidate = folder / "node_modules" / ".bin" / "vite"
            if candidate.exists():
                return candidate
        return None

    def shown_from(self, project: Path) -> str:
        """Its folder as the logs show it: relative to the `project` root when inside it."""
        try:
            return str(self.root.relative_to(project.resolve())) or "."
        except ValueError:
            return str(self.root)

    @property
    def install_hint(self) -> str:
        return f"cd {self.root} && {self.package_manager} install"

    def check_installed(self) -> None:
        """A `MissingToolError` saying what to run when Vite cannot start here: no
        Node.js tool on PATH, or no `vite` in the front-end's ``node_modules`` (or any
        parent's: workspaces hoist it). nitro never installs packages itself."""
        pnp = self._uses_plug_n_play()  # Yarn PnP: no node_modules; `yarn run vite`
        tool = _EXEC[self.package_manager][0] if pnp else "node"
        if shutil.which(tool) is None:
            what = "Node.js" if tool == "node" else self.package_manager
            raise MissingToolError(
                f"[nitro:vite] {tool} is not on PATH: install {what}, then run "
                f"`{self.install_hint}`"
            )
        if pnp or self.vite_bin() is not None:
            return
        raise MissingToolError(
            f"[nitro:vite] the front-end in {self.root} has no node_modules with vite: "
            f"run `{self.install_hint}` (and `{self.package_manager} add -D vite` if "
            "vite is not in its package.json)"
        )

    def _uses_plug_n_play(self) -> bool:
        return any((folder / ".pnp.cjs").is_file() for folder in (self.root, *self.root.parents))


def vite_base_args(base_url: str) -> list[str]:
    """Vite's ``--base`` for nitro's `base_url` (none for ``/``): dev and build serve the
    front-end under the same path as the app, with the trailing slash Vite expects."""
    return [] if base_url == "/" else ["--base", base_url.rstrip("/") + "/"]


def find_frontend(root: Path, config: NitroConfig) -> Frontend | None:
    """The front-end of the project at `root`, or None when it has none.

    A configured `root` that is not a directory is a `ConfigError` naming it.
    """
    option = config.vite
    if option is False:
        return None
    if not option:
        if not any((root / name).is_file() for name in VITE_CONFIG_FILES):
            return None
        option = dict(VITE_OPTIONS)
    assert isinstance(option, dict)
    folder = (root / option["root"]).resolve()
    if not folder.is_dir():
        raise ConfigError(
            f"[nitro:config] vite root {option['root']!r} is not a directory "
            f"(looked for {folder}): create it, or fix `vite` in nitro.config.py"
        )
    manager = option["package_manager"] or _package_manager(folder)
    return Frontend(
        root=folder,
        package_manager=manager,
        dev_args=tuple(option["dev_args"]),
        build_args=tuple(option["build_args"]),
        spa_fallback=option["spa_fallback"],
        assets_dir=option["assets_dir"].strip("/"),
    )


def _package_manager(folder: Path) -> str:
    """The package manager whose lock file is nearest the front-end (a workspace's may
    be in a parent), npm without one."""
    for directory in (folder, *folder.parents):
        for lock, manager in _LOCK_FILES:
            if (directory / lock).is_file():
                return manager
    return "npm"
