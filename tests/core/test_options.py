"""`Options`, the base of driver and connector options, and `options_as`."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest

from nitro.core.options import Options, options_as


class ServerOptions(Options):
    host: str = "127.0.0.1"
    port: int = 6379
    retries: ClassVar[int] = 3  # a class setting, not an option


class CacheServerOptions(ServerOptions):
    bucket: str
    timeout: float = 5.0

    def validate(self) -> None:
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")


def test_options_come_from_annotations_bases_first_without_class_vars() -> None:
    assert CacheServerOptions.option_names() == ("host", "port", "bucket", "timeout")
    options = CacheServerOptions(bucket="b", port=7000)
    assert (options.host, options.port, options.bucket, options.timeout) == (
        "127.0.0.1",
        7000,
        "b",
        5.0,
    )
    assert options.as_dict() == {"host": "127.0.0.1", "port": 7000, "bucket": "b", "timeout": 5.0}


def test_missing_unknown_and_invalid_options_are_errors() -> None:
    with pytest.raises(TypeError, match="needs the option 'bucket'"):
        CacheServerOptions()
    with pytest.raises(TypeError, match="unknown option 'colour'"):
        CacheServerOptions(bucket="b", colour="red")
    with pytest.raises(ValueError, match="timeout must be positive"):
        CacheServerOptions(bucket="b", timeout=0)


def test_options_are_read_only_and_replace_validates_again() -> None:
    options = CacheServerOptions(bucket="b")
    with pytest.raises(AttributeError, match="read-only"):
        options.port = 1  # type: ignore[misc]
    changed = options.replace(port=1)
    assert changed.port == 1 and options.port == 6379
    with pytest.raises(ValueError, match="timeout"):
        options.replace(timeout=-1)


def test_equality_hash_and_repr() -> None:
    a, b = CacheServerOptions(bucket="b"), CacheServerOptions(bucket="b")
    assert a == b and hash(a) == hash(b) and a != CacheServerOptions(bucket="c")
    assert a != ServerOptions()
    assert repr(ServerOptions(port=1)) == "ServerOptions(host='127.0.0.1', port=1)"


def test_options_as_names_the_place_and_the_nearest_option() -> None:
    with pytest.raises(ValueError, match=r"\[nitro:storage:x\] unknown option 'bukcet'.*'bucket'"):
        options_as(CacheServerOptions, {"bukcet": "b"}, "nitro:storage:x")
    with pytest.raises(ValueError, match=r"\[nitro:storage:x\] .*needs the option 'bucket'"):
        options_as(CacheServerOptions, {}, "nitro:storage:x")


def test_options_as_still_takes_a_third_party_dataclass() -> None:
    @dataclasses.dataclass(frozen=True)
    class PluginOptions:
        url: str
        base: str = ""

    assert options_as(PluginOptions, {"url": "u"}, "p") == PluginOptions(url="u")
    with pytest.raises(ValueError, match="unknown option 'bse'"):
        options_as(PluginOptions, {"url": "u", "bse": ""}, "p")


def test_a_container_default_is_never_shared_between_instances() -> None:
    class TagOptions(Options):
        tags: list[str] = []
        labels: dict[str, str] = {}

    first, second = TagOptions(), TagOptions()
    first.tags.append("a")
    first.labels["k"] = "v"
    assert (second.tags, second.labels, TagOptions.tags) == ([], {}, [])
