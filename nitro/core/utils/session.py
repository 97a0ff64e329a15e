"""Sessions kept in one sealed cookie (h3's `useSession`).

The session (`id`, `data`, `created_at`) is JSON, sealed (encrypted and
authenticated, see `seal.py`) into the cookie `name`. Nothing is stored on the
server, so every instance of every preset reads the same session, and a session
costs no storage round trip. A cookie that does not unseal -- tampered with,
truncated, expired, made with another password or for another session name -- is
a fresh empty session, never an error.

As in h3, a fresh session is sealed and its cookie set on first use, so its `id`
stays the same on the client's next requests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .cookies import set_cookie
from .seal import Keys, keys_for, seal, unseal

if TYPE_CHECKING:
    from ..event import Event

__all__ = [
    "MAX_COOKIE_BYTES",
    "Session",
    "clear_session",
    "get_session",
    "update_session",
    "use_session",
]

MAX_COOKIE_BYTES = 4096  # what every browser keeps of one cookie (RFC 6265 6.1's minimum)
CLOCK_SKEW = 1.0  # seconds a seal may be read past its expiry (clocks of instances differ)
_COOKIE_OPTIONS = ("secure", "http_only", "same_site", "path", "domain", "partitioned")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")

SessionUpdate = Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any] | None] | None


class Session:
    """One session: `id` (a random UUID), `data` (a dict), `created_at` (epoch seconds).

    Change it with ``await session.update({...})`` (or edit `data`, then
    ``await session.update()``), end it with ``await session.clear()``.
    """

    __slots__ = ("_config", "_event", "created_at", "data", "id")

    def __init__(
        self,
        event: Event,
        config: _Config,
        id: str = "",
        data: dict[str, Any] | None = None,
        created_at: float = 0.0,
    ) -> None:
        self._event = event
        self._config = config
        self.id = id
        self.data: dict[str, Any] = data if data is not None else {}
        self.created_at = created_at

    async def update(self, update: SessionUpdate = None) -> Session:
        """Merge `update` (a mapping, or a function of the data returning one) into
        `data`, then seal the session into its cookie again (which restarts `max_age`).

        Example::

            await session.update({"user": "ada"})
            await session.update(lambda data: {"visits": data.get("visits", 0) + 1})

        Raises `ValueError` when the sealed cookie would pass 4096 bytes.
        """
        if callable(update):
            update = update(self.data)
        if update:
            self.data.update(update)
        if not self.id:  # a cleared session starts again
            self._start()
        self._config.write(self._event, self)
        return self

    async def clear(self) -> Session:
        """Empty the session and delete its cookie.

        Example::

            await session.clear()  # signed out
        """
        config = self._config
        self.id, self.data, self.created_at = "", {}, 0.0
        _sessions(self._event).pop(config.name, None)
        config.delete(self._event)
        return self

    def _start(self) -> None:
        import uuid  # here: only a new session needs it

        self.id = str(uuid.uuid4())
        self.created_at = time.time()
        _sessions(self._event)[self._config.name] = self

    def __repr__(self) -> str:
        return f"<Session {self._config.name} id={self.id!r} keys={sorted(self.data)}>"


class _Config:
    """What `use_session`'s options mean: the cookie, its keys and lifetime."""

    __slots__ = ("cookie", "keys", "max_age", "name")

    def __init__(
        self,
        name: str,
        password: str | Sequence[str],
        max_age: float | None,
        cookie: Mapping[str, Any] | None,
    ) -> None:
        if max_age is not None and max_age <= 0:
            raise ValueError(f"[nitro:session] max_age must be positive seconds, got {max_age}")
        unknown = sorted(set(cookie or ()) - set(_COOKIE_OPTIONS))
        if unknown:
            raise ValueError(
                f"[nitro:session] unknown cookie option(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(_COOKIE_OPTIONS)}"
            )
        self.name = name
        self.keys: Keys = keys_for(password)
        self.max_age = max_age
        self.cookie = dict(cookie or {})

    def read(self, event: Event) -> Session | None:
        """The session sealed in the request's cookie, or None."""
        sealed = _cookie(event, self.name)
        if not sealed:
            return None
        value = unseal(self.keys, sealed, self.name)
        if value is None:
            return None
        try:
            payload = json.loads(value)
            id, data, created, sealed_at = payload["i"], payload["d"], payload["c"], payload["t"]
        except (ValueError, TypeError, KeyError):
            return None  # only a seal of ours gets here: an older format, say
        if (
            not isinstance(id, str)
            or not id
            or not isinstance(data, dict)
            or not isinstance(created, (int, float))
            or not isinstance(sealed_at, (int, float))
        ):
            return None
        if self.max_age is not None and time.time() > sealed_at + self.max_age + CLOCK_SKEW:
            return None  # expired
        return Session(event, self, id, data, float(created))

    def write(self, event: Event, session: Session) -> None:
        """Seal `session` into its cookie (replacing one staged earlier in this request)."""
        try:
            payload = json.dumps(
                {"i": session.id, "c": session.created_at, "t": time.time(), "d": session.data},
                separators=(",", ":"),
                ensure_ascii=False,
                allow_nan=False,
            )
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"[nitro:session] session data must be JSON (str, number, bool, None, "
                f"list, dict): {exc}"
            ) from None
        sealed = seal(self.keys, payload.encode(), self.name)
        max_age = None if self.max_age is None else int(self.max_age)
        self._stage(event, sealed, max_age)

    def delete(self, event: Event) -> None:
        self._stage(event, "", 0)

    def _stage(self, event: Event, value: str, max_age: int | None) -> None:
        staged = event.res.raw_headers
        prefix = f"{self.name}=".encode()
        # One Set-Cookie per session and response: the latest seal (or deletion) wins.
        staged[:] = [h for h in staged if not (h[0] == b"set-cookie" and h[1].startswith(prefix))]
        options = self.cookie
        set_cookie(
            event,
            self.name,
            value,
            max_age=max_age,
            path=options.get("path", "/"),
            domain=options.get("domain"),
            secure=options.get("secure", not _plain_http_on_localhost(event)),
            http_only=options.get("http_only", True),
            same_site=options.get("same_site", "Lax"),
            partitioned=options.get("partitioned", False),
        )
        header = staged[-1][1]
        if len(header) > MAX_COOKIE_BYTES:
            del staged[-1]
            raise ValueError(
                f"[nitro:session] the sealed session cookie {self.name!r} would be "
                f"{len(header)} bytes, over the {MAX_COOKIE_BYTES} browsers keep; keep less "
                "in the session (large data belongs in storage, its key in the session)"
            )


_configs: dict[tuple[Any, ...], _Config] = {}


def _config(
    name: str,
    password: str | Sequence[str],
    max_age: float | None,
    cookie: Mapping[str, Any] | None,
) -> _Config:
    """The `_Config` of these options, made once per process: most apps have one."""
    try:
        key = (
            name,
            password if isinstance(password, str) else tuple(password),
            max_age,
            tuple(sorted(cookie.items())) if cookie else (),
        )
        config = _configs.get(key)
    except TypeError:  # an unhashable option: no caching, still correct
        return _Config(name, password, max_age, cookie)
    if config is None:
        config = _Config(name, password, max_age, cookie)
        if len(_configs) >= 64:
            _configs.clear()
        _configs[key] = config
    return config


def _cookie(event: Event, name: str) -> str | None:
    """Cookie `name` of the request, as `get_cookie` reads it (the last of that name
    wins; surrounding quotes dropped), without building a dict of every cookie."""
    header = event.headers.get("cookie")
    if not header or name not in header:
        return None
    found = None
    for part in header.split(";"):
        key, equals, value = part.partition("=")
        if equals and key.strip() == name:
            found = value.strip()
    if found is not None and len(found) > 1 and found[0] == found[-1] == '"':
        found = found[1:-1]
    return found


def _sessions(event: Event) -> dict[str, Session]:
    sessions = event.context.get("sessions")
    if sessions is None:
        sessions = event.context["sessions"] = {}
    return sessions


def _plain_http_on_localhost(event: Event) -> bool:
    """A development server (``http://localhost:3000``): browsers refuse a `Secure`
    cookie over plain HTTP elsewhere, but accept it here, so only here it is left off."""
    if event.scope.get("scheme") != "http":
        return False
    host = event.headers.get("host")
    if host is None:
        server = event.scope.get("server")
        host = str(server[0]) if server else ""
    if host.startswith("["):  # [::1]:3000
        hostname = host[1 : host.find("]")] if "]" in host else host[1:]
    else:
        hostname = host.rpartition(":")[0] if host.count(":") == 1 else host
    hostname = hostname.lower().rstrip(".")
    return (
        hostname in _LOCAL_HOSTS or hostname.endswith(".localhost") or hostname.startswith("127.")
    )


async def use_session(
    event: Event,
    *,
    password: str | Sequence[str],
    name: str = "nitro",
    max_age: float | None = None,
    cookie: Mapping[str, Any] | None = None,
) -> Session:
    """The request's session, kept in the sealed cookie `name`.

    Example::

        from nitro import define_handler, use_session

        @define_handler
        async def handler(event):
            session = await use_session(event, password=PASSWORD, max_age=3600)
            await session.update({"visits": session.data.get("visits", 0) + 1})
            return {"id": session.id, "visits": session.data["visits"]}

    `password`: at least 32 characters; a list rotates passwords (the first seals,
    all unseal). `max_age`: seconds a seal stays valid after it was made (each
    update seals again); None (default) for no limit and a browser-session cookie.
    `cookie`: overrides of the cookie's `secure`, `http_only`, `same_site`,
    `path`, `domain`, `partitioned` (defaults: HttpOnly, SameSite=Lax, path "/",
    Secure unless the request is plain HTTP on localhost).

    A cookie that does not unseal (tampered, expired, foreign) gives a fresh empty
    session. A fresh session's cookie is set at once, as in h3.
    """
    return await get_session(event, password=password, name=name, max_age=max_age, cookie=cookie)


async def get_session(
    event: Event,
    *,
    password: str | Sequence[str],
    name: str = "nitro",
    max_age: float | None = None,
    cookie: Mapping[str, Any] | None = None,
) -> Session:
    """The request's session (the same object for every call in one request).

    Example::

        session = await get_session(event, password=PASSWORD)
        user = session.data.get("user")

    Options as for `use_session`.
    """
    sessions = _sessions(event)
    session = sessions.get(name)
    if session is not None:
        return session
    config = _config(name, password, max_age, cookie)
    session = config.read(event)
    if session is None:
        session = Session(event, config)
        session._start()
        config.write(event, session)
    sessions[name] = session
    return session


async def update_session(
    event: Event,
    update: SessionUpdate = None,
    *,
    password: str | Sequence[str],
    name: str = "nitro",
    max_age: float | None = None,
    cookie: Mapping[str, Any] | None = None,
) -> Session:
    """Merge `update` into the request's session and seal it into its cookie again.

    Example::

        await update_session(event, {"theme": "dark"}, password=PASSWORD)
    """
    session = await get_session(event, password=password, name=name, max_age=max_age, cookie=cookie)
    return await session.update(update)


async def clear_session(
    event: Event,
    *,
    password: str | Sequence[str] | None = None,
    name: str = "nitro",
    max_age: float | None = None,
    cookie: Mapping[str, Any] | None = None,
) -> None:
    """Empty the request's session `name` and delete its cookie.

    Example::

        await clear_session(event, **SESSION)  # the options given to use_session

    Only `name` and `cookie` (its `path` and `domain`) matter here; `password` and
    `max_age` are accepted so that one dict of options serves every session call.
    """
    session = _sessions(event).pop(name, None)
    if session is not None:
        session.id, session.data, session.created_at = "", {}, 0.0
        session._config.delete(event)
        return
    config = object.__new__(_Config)
    config.name, config.cookie = name, dict(cookie or {})
    config.delete(event)
