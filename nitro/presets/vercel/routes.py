"""`config.json` for Vercel's Build Output API v3: routes and crons.

https://vercel.com/docs/build-output-api/configuration

Routes run in phases (the ``{"handle": ...}`` markers split them):

1. before ``filesystem``: what Vercel's CDN does itself from the project's
   `route_rules`: ``headers`` (routes with ``continue: true``, least specific
   first, so the most specific pattern's value is applied last and wins, as
   route rules merge) and ``redirect`` (routes with ``status`` and ``Location``,
   most specific first: the first match answers);
2. ``filesystem``: a file in ``static/`` (the public assets) is served by the CDN;
   otherwise everything goes to the one function, ``/__nitro``;
3. ``hit``: headers for files served from ``static/`` (a public directory's
   ``max_age`` becomes its ``cache-control``).

Patterns are nitro's (``/blog/**``, ``/users/*``, ``/users/:id``, exact paths, an
optional method: ``"POST /api/**"``) translated to anchored PCRE that Python's
`re` and JavaScript read the same way, matching and ranked as the runtime's route
rules do. One trailing slash is ignored and matching is case sensitive. A rule set
to ``False`` on a more specific pattern resets the less specific ones (a negative
lookahead excludes its paths from them), except that a method-scoped ``False``
cannot reset an unscoped rule here. The function applies every route rule too
(for requests that reach it); the CDN's copy covers static files and answers
redirects without an invocation. Other rules (cors, proxy, cache, isr...) are
the function's alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ...bundle.output import BuildError
from ...core.route_rules import split_rule_key
from ..cron import CronError, to_unix

__all__ = [
    "FUNCTION_DEST",
    "Pattern",
    "build_config",
    "cron_entries",
    "parse_pattern",
    "route_rule_routes",
    "static_header_routes",
]

FUNCTION_DEST = "/__nitro"
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
VERCEL_STATIC_DEFAULT = "public, max-age=0, must-revalidate"  # Vercel's own for static files


@dataclass(frozen=True)
class Pattern:
    """A route-rule key: its method (None: any), path and regex (unanchored)."""

    key: str
    method: str | None
    path: str
    body: str  # the path as a regex; the `/**` tail, if any, is group 1 in `capturing`
    capturing: str
    tail: bool
    rank: tuple[int, ...]  # larger is more specific
    segments: tuple[str | None, ...] = ()  # literal segments; None for a parameter

    def src(self, excluding: Iterable[Pattern] = (), *, capture: bool = False) -> str:
        lookaheads = "".join(f"(?!{other.body}$)" for other in excluding)
        return f"^{lookaheads}{self.capturing if capture else self.body}$"

    @property
    def order(self) -> tuple[bool, tuple[int, ...]]:
        """The merge order: least specific first, method-scoped rules last."""
        return (self.method is not None, self.rank)

    def methods(self) -> list[str] | None:
        if self.method is None:
            return None
        return ["GET", "HEAD"] if self.method == "GET" else [self.method]


def parse_pattern(key: str, base_url: str = "/") -> Pattern:
    """Translate a route-rule key to a `Pattern` (under `base_url`).

    Matching and ranking follow the runtime's route rules (`nitro.core.route_rules`):
    ``**`` and ``**:name`` match any rest, ``/blog`` included; more literal segments
    rank higher, then more parameters, then a fixed length over a ``**``.
    """
    method, path = split_rule_key(key)  # as the runtime reads a key
    if not path.startswith("/"):
        raise BuildError(f"[nitro:build] route_rules: {key!r} must be a path starting with '/'")
    segments = [s for s in path.split("/") if s]
    parts: list[str] = []
    literal: list[str | None] = []
    tail = False
    for index, segment in enumerate(segments):
        if segment.startswith("**"):
            if index != len(segments) - 1:
                raise BuildError(f"[nitro:build] route_rules: {key!r}: '**' may only end a pattern")
            tail = True
        elif segment == "*" or segment.startswith(":"):
            parts.append("/[^/]+")
            literal.append(None)
        else:
            parts.append("/" + re.escape(segment))
            literal.append(segment)
    prefix = re.escape(base_url.rstrip("/")) + "".join(parts)
    if tail:
        body, capturing = f"{prefix}(?:/.*)?", f"{prefix}(/.*)?"
    else:
        body = capturing = f"{prefix}/?" if prefix else "/"
    statics = sum(1 for s in literal if s is not None)
    rank = (statics, len(literal) - statics, 0 if tail else 1, len(path))
    return Pattern(key, method, path, body, capturing, tail, rank, tuple(literal))


def _compatible(reset: Pattern, rule: Pattern) -> bool:
    """Whether `reset` (a more specific ``False``) cancels `rule` for some paths."""
    return (
        reset.order > rule.order
        and (reset.method is None or reset.method == rule.method)
        and not _disjoint(reset, rule)
    )


def _disjoint(a: Pattern, b: Pattern) -> bool:
    """True when no path can match both (a literal segment differs, or the lengths
    cannot agree); then a lookahead for one in the other would only be noise."""
    if any(
        x is not None and y is not None and x != y
        for x, y in zip(a.segments, b.segments, strict=False)
    ):
        return True
    if len(a.segments) > len(b.segments) and not b.tail:
        return True
    return len(b.segments) > len(a.segments) and not a.tail


def _redirect(key: str, value: Any) -> tuple[str, int]:
    if isinstance(value, str):
        return value, 307
    if isinstance(value, Mapping) and isinstance(value.get("to"), str):
        status = value.get("status", 307)
        if status not in REDIRECT_STATUSES:
            raise BuildError(
                f"[nitro:build] route_rules[{key!r}].redirect: status {status!r} is not one of "
                f"{', '.join(map(str, REDIRECT_STATUSES))}"
            )
        return value["to"], int(status)
    raise BuildError(
        f"[nitro:build] route_rules[{key!r}].redirect must be a path/URL or {{'to': ..., 'status': ...}}"
    )


def route_rule_routes(
    rules: Mapping[str, Mapping[str, Any]], base_url: str = "/"
) -> list[dict[str, Any]]:
    """The header routes, then the redirect routes, for the project's `route_rules`."""
    patterns = {key: parse_pattern(key, base_url) for key in rules}
    by_rank = sorted(patterns.values(), key=lambda p: (p.order, p.key))

    def resets(name: str, rule: Pattern) -> list[Pattern]:
        return [p for p in by_rank if rules[p.key].get(name) is False and _compatible(p, rule)]

    header_routes: list[dict[str, Any]] = []
    for pattern in by_rank:  # least specific first: later routes' headers win
        headers = rules[pattern.key].get("headers")
        if not headers:
            continue
        if not isinstance(headers, Mapping):
            raise BuildError(f"[nitro:build] route_rules[{pattern.key!r}].headers must be a dict")
        route: dict[str, Any] = {
            "src": pattern.src(resets("headers", pattern)),
            "headers": {str(k): str(v) for k, v in headers.items()},
            "continue": True,
            "caseSensitive": True,
        }
        if pattern.methods():
            route["methods"] = pattern.methods()
        header_routes.append(route)

    redirect_routes: list[dict[str, Any]] = []
    for pattern in reversed(by_rank):  # most specific first: the first match answers
        value = rules[pattern.key].get("redirect")
        if value is None or value is False:
            continue
        to, status = _redirect(pattern.key, value)
        if to.endswith("/**"):
            # Carry the matched tail over: /old/** -> /new/** sends /old/a/b to /new/a/b.
            to = to[:-3] + ("$1" if pattern.tail else "")
        route = {
            "src": pattern.src(resets("redirect", pattern), capture=pattern.tail),
            "status": status,
            "headers": {"Location": to or "/"},
            "caseSensitive": True,
        }
        if pattern.methods():
            route["methods"] = pattern.methods()
        redirect_routes.append(route)
    return header_routes + redirect_routes


def static_header_routes(
    public: Iterable[tuple[str, int | None] | tuple[str, int | None, bool]], base_url: str = "/"
) -> list[dict[str, Any]]:
    """`hit`-phase routes: `cache-control` for files served from ``static/``.

    `public` lists each public directory's (base URL, max_age[, immutable]). Deeper
    base URLs come later and win; a directory without max_age under one with it gets
    Vercel's default back.
    """
    routes: list[dict[str, Any]] = []
    for url, max_age, *flags in sorted(public, key=lambda item: len(item[0].rstrip("/"))):
        prefix = (base_url.rstrip("/") + "/" + url.strip("/")).rstrip("/")
        if max_age is None and not routes:
            continue
        value = f"public, max-age={max_age}" if max_age is not None else VERCEL_STATIC_DEFAULT
        if max_age is not None and flags and flags[0]:
            value += ", immutable"
        routes.append(
            {
                "src": f"^{re.escape(prefix)}/.*$",
                "headers": {"cache-control": value},
                "continue": True,
            }
        )
    return routes


def cron_entries(schedule: Mapping[str, Any], base_url: str = "/") -> list[dict[str, str]]:
    """One Vercel cron per schedule, calling the function's cron route."""
    crons = []
    for cron_expr in schedule:
        try:
            five = to_unix(cron_expr, "Vercel")
        except CronError as exc:
            raise BuildError(f"[nitro:build] scheduled_tasks: {exc}") from None
        path = f"{base_url.rstrip('/')}/_vercel/cron?schedule={quote(cron_expr, safe='')}"
        crons.append({"path": path, "schedule": five})
    return crons


def build_config(
    rules: Mapping[str, Mapping[str, Any]],
    schedule: Mapping[str, Any],
    public: Iterable[tuple[str, int | None] | tuple[str, int | None, bool]],
    base_url: str = "/",
) -> dict[str, Any]:
    """The whole `config.json`."""
    routes: list[dict[str, Any]] = [
        *route_rule_routes(rules, base_url),
        {"handle": "filesystem"},
        {"src": "^/.*$", "dest": FUNCTION_DEST},
    ]
    hits = static_header_routes(public, base_url)
    if hits:
        routes += [{"handle": "hit"}, *hits]
    config: dict[str, Any] = {"version": 3, "routes": routes}
    crons = cron_entries(schedule, base_url)
    if crons:
        config["crons"] = crons
    return config
