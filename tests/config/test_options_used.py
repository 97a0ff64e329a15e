"""No config option is accepted and then ignored: each declared option is read
somewhere in nitro, and an option nothing implements yet is an error naming it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from nitro.config import ConfigError, NitroConfig, define_nitro_config

PACKAGE = Path(__file__).resolve().parents[2] / "nitro"


def options_read_in_nitro() -> set[str]:
    """Attribute names read off something called `config` (``config.openapi``,
    ``ctx.config.docker``), anywhere but where the options are declared."""
    read: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "config" / "options.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                owner = node.value
                name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
                if name == "config":
                    read.add(node.attr)
    return read


def test_every_declared_option_is_read_somewhere() -> None:
    unread = set(NitroConfig.option_names()) - options_read_in_nitro()
    assert unread == set(), f"declared in NitroConfig but read nowhere: {sorted(unread)}"


def test_the_check_sees_an_option_nothing_reads() -> None:
    # The check itself can fail: a name no module reads is reported.
    assert "openapi" in options_read_in_nitro()
    assert "no_such_option" not in options_read_in_nitro()


def test_dev_proxy_is_built_and_read() -> None:
    # Once an error ("not supported yet"); now `nitro dev` reads it (runtime/app.py).
    config = define_nitro_config(dev_proxy={"/legacy/**": "http://127.0.0.1:8000/**"})
    assert config.dev_proxy == {"/legacy/**": "http://127.0.0.1:8000/**"}
    assert {"dev_proxy", "vite"} <= options_read_in_nitro()


def test_openapi_options_are_checked() -> None:
    config = define_nitro_config(
        openapi={"production": True, "title": "Notes", "version": "2.0", "servers": ["/"]}
    )
    assert config.openapi["title"] == "Notes"
    with pytest.raises(ConfigError, match=r"openapi: unknown option 'titel'; did you mean 'title'"):
        define_nitro_config(openapi={"titel": "Notes"})
    with pytest.raises(ConfigError, match="production must be True or False"):
        define_nitro_config(openapi={"production": "yes"})
    with pytest.raises(ConfigError, match="servers is a list"):
        define_nitro_config(openapi={"servers": [{"description": "no url"}]})
