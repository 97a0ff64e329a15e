"""The `vite` and `dev_proxy` options: checked when the config is made, and the
front-end found from them (or from a vite.config.* at the project root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nitro.config import ConfigError, define_nitro_config
from nitro.config.frontend import MissingToolError, find_frontend


def test_a_project_without_a_front_end_has_none(tmp_path: Path) -> None:
    assert find_frontend(tmp_path, define_nitro_config()) is None


@pytest.mark.parametrize("name", ["vite.config.js", "vite.config.mjs", "vite.config.ts"])
def test_a_vite_config_at_the_root_makes_the_root_the_front_end(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("export default {}\n")
    frontend = find_frontend(tmp_path, define_nitro_config())
    assert frontend is not None and frontend.root == tmp_path.resolve()
    assert frontend.command("build") == ["npx", "--no", "--", "vite", "build"]
    assert find_frontend(tmp_path, define_nitro_config(vite=False)) is None


def test_the_vite_option_names_the_root_and_its_defaults(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "pnpm-lock.yaml").write_text("")
    config = define_nitro_config(vite={"root": "web", "build_args": ["--mode", "staging"]})
    frontend = find_frontend(tmp_path, config)
    assert frontend is not None
    assert frontend.root == (tmp_path / "web").resolve()
    assert frontend.package_manager == "pnpm"  # from the lock file
    assert frontend.command("build", *frontend.build_args) == [
        "pnpm", "exec", "vite", "build", "--mode", "staging",
    ]  # fmt: skip
    assert frontend.spa_fallback is True and frontend.assets_dir == "assets"


def test_a_vite_root_that_does_not_exist_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"vite root 'frontend' is not a directory"):
        find_frontend(tmp_path, define_nitro_config(vite={"root": "frontend"}))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"rot": "web"}, r"vite: unknown option 'rot'; did you mean 'root'\?"),
        ({"package_manager": "pip"}, r"package_manager must be one of npm, pnpm, yarn, bun"),
        ({"dev_args": "--open"}, r"vite dev_args must be a list of strings"),
        ({"spa_fallback": "yes"}, r"spa_fallback must be True or False"),
        ({"assets_dir": "../x"}, r"assets_dir must be the folder"),
        ("web", r"vite must be a dict"),
    ],
)
def test_bad_vite_options_are_config_errors(value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        define_nitro_config(vite=value)


def test_missing_node_modules_says_what_to_run(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    frontend = find_frontend(tmp_path, define_nitro_config(vite={"root": "web"}))
    assert frontend is not None
    with pytest.raises(MissingToolError, match=r"run `cd .*/web && npm install`"):
        frontend.check_installed()
    hoisted = tmp_path / "node_modules" / ".bin"  # a workspace's, in a parent folder
    hoisted.mkdir(parents=True)
    (hoisted / "vite").write_text("")
    frontend.check_installed()
    assert frontend.command("build") == [str(hoisted / "vite"), "build"]  # what npx would run


def test_missing_npx_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    (tmp_path / "vite.config.js").write_text("")
    frontend = find_frontend(tmp_path, define_nitro_config())
    assert frontend is not None
    with pytest.raises(MissingToolError, match=r"node is not on PATH: install Node.js"):
        frontend.check_installed()


def test_dev_proxy_is_a_checked_option() -> None:
    config = define_nitro_config(dev_proxy={"/legacy/**": "http://127.0.0.1:8000/**"})
    assert config.dev_proxy == {"/legacy/**": "http://127.0.0.1:8000/**"}
    with pytest.raises(ConfigError, match=r"dev_proxy\['/x'\] must be an http\(s\) URL"):
        define_nitro_config(dev_proxy={"/x": "ftp://host"})
    with pytest.raises(ConfigError, match=r"dev_proxy: 'legacy' must be a path pattern"):
        define_nitro_config(dev_proxy={"legacy": "http://127.0.0.1:8000"})
