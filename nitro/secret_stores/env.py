"""``env``: a secret is the environment variable of its name (servers, Docker, Vercel,
`nitro dev`, where ``.env`` and ``.env.local`` are loaded first)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["REQUIRES", "EnvStore", "store"]

REQUIRES: list[str] = []


class EnvStore:
    label = "the environment"
    batch = 1000
    how_to_create = "set them as environment variables (in `nitro dev`, .env works too)"

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def fetch(self, names: Sequence[str]) -> dict[str, str]:
        return {name: self.environ[name] for name in names if name in self.environ}


def store(environ: Mapping[str, str]) -> EnvStore:
    return EnvStore(environ)
