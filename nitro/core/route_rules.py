"""Route rules: per-path options from `route_rules`, merged from least to most specific.

Patterns (rou3's): exact paths (``/about``), ``:name`` or ``*`` for one segment,
``**`` for any rest (``/blog/**`` also matches ``/blog``), optionally prefixed by a
method (``"POST /api/**"``). Every matching pattern applies; object values merge
shallowly, others replace, ``False`` removes an inherited key; method-scoped rules
merge last. A CORS preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is
judged by the ``cors`` rule of the method it asks about, so ``"POST /api/**": {"cors":
{... "credentials": True}}`` answers the browser's preflight for that POST. A request
path is matched in its canonical form and also with repeated slashes merged and
encoded slashes decoded, so ``//admin`` or ``/admin%2Fx`` cannot dodge a rule written
for ``/admin/**``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from .context import as_current
from .errors import HTTPError
from .event import Event

if TYPE_CHECKING:
    from .app import NitroApp
    from .lazy_route import LazyRoute
    from .response import AnyResponse

__all__ = [
    "RouteRules",
    "add_rule_headers",
    "apply_rules",
    "apply_tail",
    "compile_pattern",
    "rule_cache",
    "split_rule_key",
]

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE")


class _Rule:
    # A plain class: a NamedTuple in a module with string annotations compiles each
    # one when defined, on every cold start.
    __slots__ = ("method", "options", "pattern", "rank", "regex", "tail")

    def __init__(
        self,
        pattern: str,
        method: str | None,
        regex: re.Pattern[str],
        rank: tuple[int, ...],
        options: dict[str, Any],
        tail: bool,
    ) -> None:
        self.pattern = pattern
        self.method = method
        self.regex = regex
        self.rank = rank
        self.options = options
        self.tail = tail  # ends in /** (its match carries a tail to redirect/proxy targets)


def compile_pattern(pattern: str) -> tuple[re.Pattern[str], tuple[int, ...]]:
    """A rule pattern as a regex (group "tail" for a trailing ``**``) and its rank (more specific sorts later)."""
    parts = [p for p in pattern.split("/") if p != ""]
    regex = ""
    statics = params = 0
    rest = False
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**" or part.startswith("**:"):
            if not last:
                raise ValueError(f"route rule {pattern!r}: ** must be the last segment")
            regex += r"(?:/(?P<tail>.*))?"
            rest = True
        elif part == "*" or part.startswith(":"):
            regex += r"/[^/]+"
            params += 1
        else:
            regex += "/" + re.escape(part)
            statics += 1
    regex = f"^{regex or ''}/?$" if not rest else f"^{regex}$"
    if not parts:
        regex = "^/?$"
    # More literal segments is more specific; a fixed-length pattern beats a ** one.
    return re.compile(regex), (statics, params, 0 if rest else 1, len(pattern))


class RouteRules:
    """The compiled `route_rules` of an app; `resolve(method, path)` gives the merged rules."""

    def __init__(self, rules: Mapping[str, Mapping[str, Any]]) -> None:
        compiled: list[_Rule] = []
        for key, options in rules.items():
            method, pattern = split_rule_key(key)
            if not pattern.startswith("/"):
                raise ValueError(f"route rule {key!r}: a pattern starts with '/'")
            regex, rank = compile_pattern(pattern)
            tail = pattern.rstrip("/").endswith("**") or "/**:" in pattern
            compiled.append(_Rule(pattern, method, regex, rank, dict(options), tail))
        # Least specific first, method-scoped last: the merge order.
        self._rules = sorted(compiled, key=lambda r: (r.method is not None, r.rank))
        self._memo: dict[tuple[str, str], dict[str, Any]] = {}

    def __bool__(self) -> bool:
        return bool(self._rules)

    def get(self, method: str, path: str) -> Mapping[str, Any]:
        """The rules that apply to a request, merged (read-only; Nitro's `getRouteRules`)."""
        merged = self.resolve(method, path)
        return merged["_view"] if merged else MappingProxyType({})

    def resolve(self, method: str, path: str) -> dict[str, Any]:
        """The merged rules for a request (memoised); ``_tail`` records the winning
        redirect/proxy match's ``**`` tail, and `_prepare` adds the per-path work."""
        memo_key = (method, path)
        found = self._memo.get(memo_key)
        if found is not None:
            return found
        merged: dict[str, Any] = {}
        for rule, match in self._matches(method, path):
            _merge(merged, rule.options)
            if "redirect" in rule.options or "proxy" in rule.options:
                merged["_tail"] = match.group("tail") if rule.tail else None
        if method == "OPTIONS":
            preflight = self._preflight_cors(path)
            if preflight is not None:
                merged["_preflight"] = preflight
        if merged:
            _prepare(merged)
        if len(self._memo) > 1024:
            self._memo.clear()
        self._memo[memo_key] = merged
        return merged

    def _preflight_cors(self, path: str) -> tuple[dict[str, Any], Any] | None:
        """The ``cors`` value each method would get on `path`: (by method named in a
        method-scoped rule, for any other method); None when no method gets one."""
        methods = {rule.method for rule in self._rules if rule.method is not None}
        if "GET" in methods:
            methods.add("HEAD")  # GET rules also apply to HEAD
        by_method = {method: self._merged_cors(method, path) for method in methods}
        others = self._merged_cors("", path)  # "": a method no scoped rule names
        if others is None and all(value is None for value in by_method.values()):
            return None
        return by_method, others

    def _merged_cors(self, method: str, path: str) -> Any:
        merged: dict[str, Any] = {}
        for rule, _ in self._matches(method, path):
            if "cors" in rule.options:
                _merge(merged, {"cors": rule.options["cors"]})
        return merged.get("cors")

    def explicit(self, method: str, path: str, key: str) -> Any:
        """The value the most specific rule matching `path` gives `key`, ``False``
        included (`resolve` drops a reset key); None when no rule sets it."""
        value = None
        for rule, _ in self._matches(method, path):
            if key in rule.options:
                value = rule.options[key]
        return value

    def _matches(self, method: str, path: str) -> Iterator[tuple[_Rule, re.Match[str]]]:
        """The rules that apply, least specific first, each with its match on the first
        reading of `path` it matches (`GET` rules also apply to `HEAD`)."""
        readings = _readings(path)
        for rule in self._rules:
            if (
                rule.method is not None
                and rule.method != method
                and not (rule.method == "GET" and method == "HEAD")
            ):
                continue
            for reading in readings:
                match = rule.regex.match(reading)
                if match is not None:
                    yield rule, match
                    break

    def exact_paths(self, key: str) -> list[str]:
        """Paths of rules without wildcards or params whose `key` is truthy (for GET)."""
        return [
            rule.pattern
            for rule in self._rules
            if rule.options.get(key)
            and rule.method in (None, "GET")
            and not any(p.startswith((":", "*")) for p in rule.pattern.split("/"))
        ]


def split_rule_key(key: str) -> tuple[str | None, str]:
    """A rule key as (method or None, pattern): ``"POST /api/**"`` -> ``("POST", "/api/**")``."""
    head, _, rest = key.strip().partition(" ")
    if rest and head.upper() in _METHODS:
        return head.upper(), rest.strip()
    return None, key.strip()


def _readings(path: str) -> list[str]:
    """The canonical path and the readings an attacker might hope a rule overlooks."""
    readings = [path]
    merged = re.sub(r"/{2,}", "/", path)
    decoded = merged.replace("%2F", "/").replace("%5C", "/")
    for reading in (merged, re.sub(r"/{2,}", "/", decoded)):
        if reading not in readings:
            readings.append(reading)
    return readings


def _prepare(merged: dict[str, Any]) -> None:
    """Work done once per resolved path instead of once per request."""
    merged["_view"] = MappingProxyType({k: v for k, v in merged.items() if not k.startswith("_")})
    merged["_headers"] = [
        (name.lower().encode("latin-1"), str(value).encode("latin-1"))
        for name, value in (merged.get("headers") or {}).items()
    ]
    if "cache" in merged or "swr" in merged:
        options: dict[str, Any] = (
            dict(merged.get("cache") or {}) if merged.get("cache") is not True else {}
        )
        swr = merged.get("swr")
        if swr is not None:
            options["swr"] = True
            if not isinstance(swr, bool):
                options["max_age"] = swr
        merged["_cache"] = (options, repr(sorted(options.items())))


def _merge(target: dict[str, Any], options: Mapping[str, Any]) -> None:
    for key, value in options.items():
        if value is False:
            target.pop(key, None)  # False resets what a broader rule set
        elif isinstance(value, Mapping) and isinstance(target.get(key), Mapping):
            target[key] = {**target[key], **value}
        elif value is True and key == "cors":
            target[key] = dict(target.get(key) or {})
        else:
            target[key] = dict(value) if isinstance(value, Mapping) else value


def apply_tail(target: str, tail: str | None, query: str) -> str:
    """A redirect/proxy target for a request: a ``**`` in `target` takes the matched tail,
    and the request's query string is appended.

    The tail stays percent-encoded; one that could climb out of the target (``..``,
    ``%2e%2e``, backslashes, ``//host``) is a 400, never an open redirect.
    """
    if "**" in target:
        safe_tail = _safe_tail(tail or "")
        base, _, after = target.partition("**")
        if base.endswith("/") and not safe_tail:
            base = base[:-1] or "/"
        target = base + safe_tail + after
    if query:
        target += ("&" if "?" in target else "?") + query
    if target.startswith("//") or target.startswith("/\\"):
        target = "/" + target.lstrip("/\\")
    return target


def _safe_tail(tail: str) -> str:
    tail = re.sub(r"/{2,}", "/", tail).lstrip("/")
    decoded = unquote(unquote(tail))
    segments = decoded.replace("\\", "/").split("/")
    if any(segment in (".", "..") for segment in segments) or "\\" in decoded or "\x00" in decoded:
        raise HTTPError(400, "Invalid path for this redirect or proxy")
    return tail


# --- acting on rules (the request path calls these) ---


async def apply_rules(app: NitroApp, event: Event, rules: dict[str, Any]) -> AnyResponse | None:
    """The rules that act before routing: CORS, headers, redirect, proxy. A response
    returned here answers the request; headers go on whatever answers it."""
    event.context["route_rules"] = rules["_view"]
    extra: list[tuple[bytes, bytes]] = []
    cors = rules.get("cors")
    preflight = rules.get("_preflight")
    if cors is not None or preflight is not None:
        from .utils.cors import cors_headers, is_preflight_request, preflight_response

        if preflight is not None and is_preflight_request(event):
            # Judged by the rules of the method the browser asks about, not OPTIONS's.
            by_method, others = preflight
            asked = event.headers["access-control-request-method"].strip()
            cors = by_method.get(asked, others)
            if cors is not None:  # rule headers do not apply to the answer
                return preflight_response(event, _cors_options(cors))
        elif cors is not None:
            extra += cors_headers(event, _cors_options(cors))
    extra += rules["_headers"]
    if extra:
        event.res.final_headers = extra
    query = event.scope.get("query_string", b"").decode("latin-1")
    redirect = rules.get("redirect")
    if redirect:
        to, status = (
            (redirect, 307)
            if isinstance(redirect, str)
            else (redirect["to"], redirect.get("status", 307))
        )
        from .utils.response import redirect as redirect_to

        return redirect_to(apply_tail(to, rules.get("_tail"), query), int(status))
    proxy = rules.get("proxy")
    if proxy:
        to, settings = (proxy, {}) if isinstance(proxy, str) else (proxy["to"], proxy)
        target = apply_tail(to, rules.get("_tail"), query)
        if target.startswith("/"):
            return await _internal(app, event, target)
        from .utils.proxy import proxy_request

        timeout = float(settings.get("timeout", 30))
        return await proxy_request(event, target, headers=settings.get("headers"), timeout=timeout)
    return None


def _cors_options(cors: Any) -> Any:
    """A ``cors`` rule's value as `CorsOptions` (``True``: the defaults)."""
    return {} if cors is True else dict(cors)


async def _internal(app: NitroApp, event: Event, target: str) -> AnyResponse | None:
    """Serve `target`, a path of this app, in-process (a `proxy` rule to "/...")."""
    depth = event.scope.get("nitro.depth", 0)
    if depth >= 4:
        raise HTTPError(508, "Route rules proxy to each other in a loop")
    path, _, query = target.partition("?")
    raw = quote(path, safe="/%:@!$&'()*+,;=~").encode("ascii")
    scope = {
        **event.scope,
        "path": unquote(path),
        "raw_path": raw,
        "query_string": query.encode(),
        "nitro.depth": depth + 1,
    }
    inner = event.derive(scope)
    with as_current(inner):
        return await app.dispatch(inner)


def rule_cache(app: NitroApp, route: LazyRoute, rules: dict[str, Any]) -> Callable[[Event], Any]:
    """The loaded route's handler behind a `cache` / `swr` rule (one cached handler per
    route and options); the directory's and the handler's middleware run before the
    cache, so a hit never skips them, and they see the real request while the cached
    handler sees only the `varies` headers."""
    remembered = rules.get("_cached_call")
    if remembered is not None and remembered[0] is route:
        return remembered[1]
    from .cache_handler import CachedHandler
    from .handlers import chain_middleware

    assert route.handler is not None, "the route is loaded first"
    options, shape = rules["_cache"]
    caches: dict[tuple[int, str], Any] = app.state["rule_caches"]
    key = (id(route), shape)
    cached = caches.get(key)
    if cached is None:
        options = dict(options)
        options.setdefault("name", route.entry.route)
        options["group"] = "nitro/route-rules"
        cached = caches[key] = CachedHandler(route.handler, **options)
    call = chain_middleware(route.scoped, cached.call) if route.scoped else cached.call
    # Remembered in this path's resolved rules: its next request skips the lookup.
    rules["_cached_call"] = (route, call)
    return call


def add_rule_headers(response: AnyResponse, extra: list[tuple[bytes, bytes]]) -> None:
    """Rule headers win over the handler's; `Vary` values are added, not replaced."""
    replaced = {name for name, _ in extra if name != b"vary"}
    response.raw_headers = [h for h in response.raw_headers if h[0] not in replaced] + extra
