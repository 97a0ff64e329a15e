from __future__ import annotations

from pathlib import Path

import pytest

from nitro.config import (
    ConfigError,
    NitroConfig,
    define_nitro_config,
    load_config,
    load_dotenv,
    resolve_env_refs,
)


def test_unknown_option_names_the_nearest_valid_one() -> None:
    with pytest.raises(
        ConfigError, match="unknown option 'rout_rules'; did you mean 'route_rules'"
    ):
        define_nitro_config(rout_rules={})
    with pytest.raises(ConfigError, match="unknown option 'zzz'; valid options: route_rules"):
        define_nitro_config(zzz=1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_body_size": -1}, "max_body_size must be a positive number"),
        ({"max_body_size": True}, "max_body_size must be a positive number"),
        ({"base_url": "app"}, "base_url must be a path"),
        ({"route_rules": []}, "route_rules must be a dict"),
        ({"route_rules": {"/a": "nope"}}, "route_rules maps a path pattern"),
        ({"error_handler": "module.path"}, "error_handler must be a function"),
        ({"public_assets": [{"dir": "p", "maxAge": 1}]}, "unknown key 'maxAge'"),
        ({"scheduled_tasks": {"* * * * *": 3}}, "scheduled_tasks maps a cron string"),
        ({"sync_to_thread": "yes"}, "sync_to_thread must be True"),
        ({"max_threads": 0}, "max_threads must be a positive integer"),
        ({"max_threads": 2.5}, "max_threads must be a positive integer"),
    ],
)
def test_invalid_values_are_explained(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        define_nitro_config(**options)


def test_defaults() -> None:
    config = define_nitro_config()
    assert config == NitroConfig()
    assert config.max_body_size == 16 * 1024 * 1024
    assert define_nitro_config(public_assets={"max_age": 5}).public_assets == [
        {"dir": "public", "base_url": "/", "max_age": 5}
    ]


def test_config_is_read_only_and_replace_checks_the_changes() -> None:
    config = define_nitro_config(base_url="/app", route_rules={"/a": {"swr": 1}})
    with pytest.raises(AttributeError, match=r"read-only: use config.replace\(base_url=...\)"):
        config.base_url = "/b"  # type: ignore[misc]
    changed = config.replace(base_url="/b")
    assert changed.base_url == "/b" and changed.route_rules == {"/a": {"swr": 1}}
    assert config.base_url == "/app"
    assert NitroConfig().storage is not NitroConfig().storage  # no shared default dicts
    with pytest.raises(ConfigError, match="base_url must be a path"):
        config.replace(base_url="b")
    with pytest.raises(ConfigError, match="unknown option 'rout_rules'"):
        config.replace(rout_rules={})
    assert repr(changed) == "NitroConfig(route_rules={'/a': {'swr': 1}}, base_url='/b')"


def test_load_config(tmp_path: Path) -> None:
    assert load_config(tmp_path) == NitroConfig()
    (tmp_path / "nitro.config.py").write_text(
        "from nitro.config import define_nitro_config\nconfig = define_nitro_config(base_url='/app')\n"
    )
    assert load_config(tmp_path).base_url == "/app"


def test_config_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "nitro.config.py").write_text(
        "from nitro.config import define_nitro_config\nconfig = define_nitro_config(presett='x')\n"
    )
    with pytest.raises(ConfigError, match=r"did you mean 'preset'\? \(in nitro.config.py\)"):
        load_config(tmp_path)


def test_config_must_define_config(tmp_path: Path) -> None:
    (tmp_path / "nitro.config.py").write_text("x = 1\n")
    with pytest.raises(ConfigError, match="must define `config = define_nitro_config"):
        load_config(tmp_path)


def test_broken_config_module(tmp_path: Path) -> None:
    (tmp_path / "nitro.config.py").write_text("import nope_not_here\n")
    with pytest.raises(ConfigError, match="failed to load: ModuleNotFoundError"):
        load_config(tmp_path)


def test_env_references() -> None:
    env = {"REDIS_URL": "redis://127.0.0.1:6379/0", "USER": "ada"}
    options = {
        "cache": {"driver": "redis", "url": "{{REDIS_URL}}", "hosts": ["{{ USER }}@x"], "port": 1}
    }
    assert resolve_env_refs(options, env) == {
        "cache": {
            "driver": "redis",
            "url": "redis://127.0.0.1:6379/0",
            "hosts": ["ada@x"],
            "port": 1,
        }
    }
    with pytest.raises(
        ConfigError, match=r"storage.cache.url uses \{\{MISSING\}\}, but MISSING is not set"
    ):
        resolve_env_refs({"cache": {"url": "{{MISSING}}"}}, env, "storage")


def test_secret_references_resolve_from_the_fetched_secrets_only() -> None:
    options = {"url": "postgresql://app:{{secret:/shop/db-password}}@{{DB_HOST}}/shop"}
    resolved = resolve_env_refs(
        options, {"DB_HOST": "db"}, "database", secrets={"/shop/db-password": "p@ss"}
    )
    assert resolved == {"url": "postgresql://app:p@ss@db/shop"}
    # Not fetched (the build never fetches): an error naming the option, as for a variable.
    with pytest.raises(
        ConfigError,
        match=r"database.url uses \{\{secret:/shop/db-password\}\}, which is read when the app starts",
    ):
        resolve_env_refs(options, {"DB_HOST": "db"}, "database")
    # A secret is never looked up in the environment, even under the same name.
    with pytest.raises(ConfigError, match="secret:TOKEN"):
        resolve_env_refs("{{secret:TOKEN}}", {"TOKEN": "from-env"}, "x", secrets={})
    # Without an environment (runtime config), {{VAR}} stays as it is.
    assert resolve_env_refs("{{VAR}} {{ secret: K }}", None, secrets={"K": "v"}) == "{{VAR}} v"


def test_secret_refs_names_each_secret_with_the_first_option_using_it() -> None:
    from nitro.config.env import secret_refs

    value = {
        "a": {"url": "{{secret:one}}", "hosts": ["{{secret:two}}", "{{ENV}}"]},
        "b": "{{secret:one}}-{{secret:three}}",
    }
    assert secret_refs(value, "storage") == {
        "one": "storage.a.url",
        "two": "storage.a.hosts[0]",
        "three": "storage.b",
    }
    assert secret_refs({"url": "{{ENV}}", "n": 3}) == {}


def test_dotenv_never_overrides_the_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=from-file\nB='quoted value'\nexport C=3\n")
    (tmp_path / ".env.local").write_text("A=local\nD=local\n")
    environ = {"A": "from-env"}
    loaded = load_dotenv(tmp_path, environ)
    assert environ == {"A": "from-env", "B": "quoted value", "C": "3", "D": "local"}
    assert sorted(loaded) == ["B", "C", "D"]


def test_websocket_options_are_checked() -> None:
    config = define_nitro_config(websocket={"redis_url": "{{REDIS_URL}}", "max_message_size": 4096})
    assert config.websocket["max_message_size"] == 4096
    with pytest.raises(ConfigError, match="websocket: unknown option 'redis'"):
        define_nitro_config(websocket={"redis": "redis://x"})
    with pytest.raises(ConfigError, match="max_message_size must be a positive number"):
        define_nitro_config(websocket={"max_message_size": 0})


def test_every_option_is_checked() -> None:
    """A new option cannot be accepted unchecked: each has its check in NitroConfig.validate."""
    from nitro.config.options import _CHECKS

    assert set(_CHECKS) == set(NitroConfig.option_names())
