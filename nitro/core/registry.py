"""Name -> module registries: a built-in dict, extended by an entry-point group.

Storage drivers, SQL connectors and presets are each one module, found by name here
and imported only when used. Entry points cost milliseconds to read (a cold start
pays for them), so a built-in name never reads them.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType

from .options import did_you_mean

__all__ = ["import_registered", "missing_extra", "registered"]


def registered(builtin: Mapping[str, str], group: str) -> dict[str, str]:
    """`builtin` plus the entry points of `group`; a built-in name wins.

    Example::

        registered({"memory": "nitro.storage_drivers.memory"}, "nitro.storage_drivers")
        # {"memory": "nitro.storage_drivers.memory", "my-kv": "my_kv.driver", ...}
    """
    from importlib.metadata import entry_points

    names = dict(builtin)
    for ep in entry_points(group=group):
        names.setdefault(ep.name, ep.value)
    return names


def import_registered(
    name: str, builtin: Mapping[str, str], group: str, *, kind: str, where: str
) -> ModuleType:
    """The module registered as `name`; entry points are read only for a name not built in.

    An unknown name is a ValueError with the nearest known one::

        import_registered("reddis", DRIVERS, "nitro.storage_drivers", kind="driver",
                          where="nitro:storage")
        # ValueError: [nitro:storage] unknown driver 'reddis'; did you mean 'redis'?
    """
    module_name = builtin.get(name)
    if module_name is None:
        names = registered(builtin, group)
        module_name = names.get(name)
        if module_name is None:
            hint = did_you_mean(name, sorted(names), label=f"known {kind}s")
            raise ValueError(f"[{where}] unknown {kind} {name!r}{hint}")
    return importlib.import_module(module_name)


@contextmanager
def missing_extra(extra: str | None, *, where: str) -> Iterator[None]:
    """A `ModuleNotFoundError` inside becomes an ImportError naming the pip `extra`
    (none: it passes as it is).

    Example::

        with missing_extra("redis", where="nitro:storage:redis"):
            return module.driver(options, root=root)
        # ImportError: [nitro:storage:redis] needs 'redis': pip install "nitro-py[redis]"
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        if extra is None:
            raise
        raise ImportError(f'[{where}] needs {exc.name!r}: pip install "nitro-py[{extra}]"') from exc
