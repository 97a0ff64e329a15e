"""The `server` option: checked like every option, defaults filled in."""

from __future__ import annotations

import pytest

from nitro.config import ConfigError, NitroConfig, define_nitro_config


def test_defaults_are_one_uvicorn_worker() -> None:
    assert NitroConfig().server == {"workers": 1, "engine": "uvicorn"}
    assert define_nitro_config(server={"engine": "granian"}).server == {
        "workers": 1,
        "engine": "granian",
    }


@pytest.mark.parametrize(
    ("given", "kept"), [(4, 4), ("auto", "auto"), (" AUTO ", "auto"), ("3", 3)]
)
def test_workers_is_a_count_or_auto(given: object, kept: object) -> None:
    assert define_nitro_config(server={"workers": given}).server["workers"] == kept


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({"workers": 0}, "server workers=0: give a number of worker processes"),
        ({"workers": True}, "server workers=True"),
        ({"workers": "half"}, "server workers='half'"),
        ({"engine": "gunicorn"}, "server engine must be one of uvicorn, granian"),
        ({"worker": 2}, "unknown option 'worker'; did you mean 'workers'?"),
        (["workers"], "server must be a dict"),
    ],
)
def test_bad_values_name_the_option(server: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("?", r"\?").replace("(", r"\(")):
        define_nitro_config(server=server)
