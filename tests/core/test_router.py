from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nitro.core.router import RouteConflictError, Router


def make(*routes: tuple[str, str | None]) -> Router[str]:
    router: Router[str] = Router()
    for route, method in routes:
        router.add(route, f"{method or '*'} {route}", method)
    return router


def test_static_param_catchall_priority() -> None:
    router = make(("/users/me", "GET"), ("/users/:id", "GET"), ("/users/**:rest", "GET"))
    assert router.match("GET", "/users/me") == ("GET /users/me", None)
    assert router.match("GET", "/users/42") == ("GET /users/:id", {"id": "42"})
    assert router.match("GET", "/users/42/posts") == ("GET /users/**:rest", {"rest": "42/posts"})


def test_method_specific_beats_any_method_at_the_same_node() -> None:
    router = make(("/items", None), ("/items", "POST"))
    assert router.match("POST", "/items")[0] == "POST /items"
    assert router.match("GET", "/items")[0] == "* /items"


def test_a_static_node_without_the_method_falls_back_to_a_param_route() -> None:
    router = make(("/users/new", "GET"), ("/users/:id", "POST"))
    assert router.match("POST", "/users/new") == ("POST /users/:id", {"id": "new"})


def test_head_is_served_by_get_and_an_explicit_head_wins() -> None:
    router = make(("/a", "GET"), ("/b", "GET"), ("/b", "HEAD"))
    assert router.match("HEAD", "/a")[0] == "GET /a"
    assert router.match("HEAD", "/b")[0] == "HEAD /b"


def test_allowed_methods_for_405() -> None:
    router = make(("/users/:id", "GET"), ("/users/:id", "DELETE"), ("/users/me", "PATCH"))
    assert router.match("PUT", "/users/me") is None
    assert router.allowed_methods("/users/me") == ["DELETE", "GET", "HEAD", "PATCH"]
    assert router.allowed_methods("/nothing") == []


def test_trailing_slash_is_ignored_and_matching_is_case_sensitive() -> None:
    router = make(("/docs", None), ("/", None))
    assert router.match("GET", "/docs/")[0] == "* /docs"
    assert router.match("GET", "/Docs") is None
    assert router.match("GET", "/")[0] == "* /"


def test_optional_last_segment() -> None:
    router = make(("/opt/:id?", None))
    assert router.match("GET", "/opt") == ("* /opt/:id?", None)
    assert router.match("GET", "/opt/3") == ("* /opt/:id?", {"id": "3"})
    assert router.match("GET", "/opt/3/4") is None


def test_named_catch_all_needs_a_segment_unnamed_takes_zero() -> None:
    router = make(("/blog/**:slug", None), ("/files/**", None))
    assert router.match("GET", "/blog") is None
    assert router.match("GET", "/blog/a/b") == ("* /blog/**:slug", {"slug": "a/b"})
    assert router.match("GET", "/files") == ("* /files/**", {"_": ""})
    assert router.match("GET", "/files/x/y") == ("* /files/**", {"_": "x/y"})


def test_root_catch_all_matches_everything() -> None:
    router = make(("/api/hello", None), ("/**", None))
    assert router.match("GET", "/api/hello")[0] == "* /api/hello"
    assert router.match("GET", "/")[1] == {"_": ""}
    assert router.match("GET", "/a/b")[1] == {"_": "a/b"}


def test_empty_segments_do_not_match_params() -> None:
    router = make(("/a/:x/b", None), ("/a/b", None))
    assert router.match("GET", "/a//b") is None
    assert router.match("GET", "/a/%2F/b") == ("* /a/:x/b", {"x": "%2F"})


def test_param_names_are_per_route() -> None:
    router = make(("/u/:id", "GET"), ("/u/:user/posts", "GET"))
    assert router.match("GET", "/u/1")[1] == {"id": "1"}
    assert router.match("GET", "/u/1/posts")[1] == {"user": "1"}


def test_backtracks_from_a_dead_static_branch() -> None:
    router = make(("/a/b/c", None), ("/a/:x/d", None))
    assert router.match("GET", "/a/b/d") == ("* /a/:x/d", {"x": "b"})


def test_conflicts_are_errors() -> None:
    router = make(("/users/:id", "GET"))
    with pytest.raises(RouteConflictError, match="already registered"):
        router.add("/users/:name", "x", "GET")
    router.add("/users/:name", "y", "POST")  # another method is fine
    with pytest.raises(RouteConflictError):
        make(("/opt", None), ("/opt/:id?", None))


def test_catch_all_must_be_last() -> None:
    with pytest.raises(ValueError, match="last segment"):
        make(("/a/**/b", None))


def test_matching_cost_does_not_grow_with_routes() -> None:
    # Structure, not timing: a static path is one dict lookup and a param path
    # visits one node per segment, whatever the number of routes.
    small = make(*((f"/r{i}/:id", "GET") for i in range(10)))
    large = make(*((f"/r{i}/:id", "GET") for i in range(10_000)))
    assert small.match("GET", "/r9/1") == ("GET /r9/:id", {"id": "1"})
    assert large.match("GET", "/r9999/1") == ("GET /r9999/:id", {"id": "1"})
    assert len(large) == 10_000


def test_a_path_without_a_leading_slash_matches_nothing() -> None:
    router = make(("/", None), ("/users/:id", "GET"), ("/", "POST"))
    for path in ("", "*", "anything", "users/1"):
        assert router.match("GET", path) is None, path
        assert router.match("OPTIONS", path) is None, path
        assert router.allowed_methods(path) == [], path
    static_only = make(("/", None))
    assert static_only.match("GET", "") is None
    assert static_only.match("GET", "*") is None


# --- property test: the radix tree against a brute-force reading of the rules ---
#
# The reference knows nothing of the tree. A route is a list of tokens; a path matches
# a route when its segments fit the tokens one by one:
#   static   the same text            param      one non-empty segment
#   **:name  one or more segments     **         zero or more segments
# One trailing slash is ignored; a path not starting with "/" matches nothing. Among the
# routes that match and answer the method, the winner has the smallest kinds sequence
# (static < param < **:name < **, segment by segment; a route that ends where the path
# ends beats one that goes on with **), then the method: exact, GET for HEAD, any method.

KIND = {"static": 0, "param": 1, "catchall": 2, "wildcard": 3}


def _kind(token: str) -> str:
    if token.startswith("**:"):
        return "catchall"
    if token == "**":
        return "wildcard"
    return "param" if token.startswith(":") else "static"


def _shapes(route: str) -> list[list[str]]:
    """The token lists a route registers (an optional last param makes two)."""
    tokens = [] if route == "/" else route[1:].split("/")
    if tokens and tokens[-1].startswith(":") and tokens[-1].endswith("?"):
        return [tokens[:-1], [*tokens[:-1], tokens[-1][:-1]]]
    return [tokens]


def _fit(tokens: list[str], segs: list[str]) -> dict[str, str] | None:
    """The params when `segs` fit `tokens`, else None."""
    params: dict[str, str] = {}
    for index, token in enumerate(tokens):
        kind = _kind(token)
        if kind in ("catchall", "wildcard"):
            rest = segs[index:]
            if kind == "catchall" and not rest:
                return None
            params[token[3:] if kind == "catchall" else "_"] = "/".join(rest)
            return params
        if index >= len(segs):
            return None
        if kind == "param":
            if not segs[index]:
                return None
            params[token[1:]] = segs[index]
        elif token != segs[index]:
            return None
    return params if len(segs) == len(tokens) else None


def _path_segments(path: str) -> list[str] | None:
    if not path.startswith("/"):
        return None
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return [] if path == "/" else path[1:].split("/")


def _method_rank(wanted: str, registered: str | None) -> int | None:
    if registered == wanted:
        return 0
    if wanted == "HEAD" and registered == "GET":
        return 1
    return 2 if registered is None else None


def reference_match(
    table: list[tuple[str, str | None]], method: str, path: str
) -> tuple[str, dict[str, str] | None] | None:
    segs = _path_segments(path)
    if segs is None:
        return None
    best: tuple[Any, ...] | None = None
    for route, registered in table:
        rank = _method_rank(method, registered)
        if rank is None:
            continue
        for tokens in _shapes(route):
            params = _fit(tokens, segs)
            if params is None:
                continue
            key = ([KIND[_kind(t)] for t in tokens], rank)
            if best is None or key < best[0]:
                value = f"{registered or '*'} {route}"
                dynamic = any(_kind(t) != "static" for t in tokens)
                best = (key, (value, params if dynamic else None))
    return None if best is None else best[1]


def reference_allowed(table: list[tuple[str, str | None]], path: str) -> list[str]:
    segs = _path_segments(path)
    if segs is None:
        return []
    found = {
        registered or "*"
        for route, registered in table
        for tokens in _shapes(route)
        if _fit(tokens, segs) is not None
    }
    if "*" in found:
        return ["*"]
    if "GET" in found:
        found.add("HEAD")
    return sorted(found)


def _shape_key(tokens: list[str]) -> tuple[str, ...]:
    return tuple(t if _kind(t) == "static" else _kind(t) for t in tokens)


_STATIC = st.sampled_from(["a", "b", "ab"])
_MIDDLE = st.one_of(_STATIC, st.sampled_from([":x", ":y"]))
_LAST = st.one_of(_MIDDLE, st.sampled_from([":o?", "**", "**:rest"]))
_ROUTE = st.builds(
    lambda middle, last: "/" + "/".join([*middle, *last]),
    st.lists(_MIDDLE, max_size=3),
    st.lists(_LAST, max_size=1),
)
_TABLE = st.lists(
    st.tuples(_ROUTE, st.sampled_from([None, "GET", "POST", "HEAD"])), min_size=1, max_size=10
)
_PATH = st.one_of(
    st.builds(
        lambda segs, slash: "/" + "/".join(segs) + slash,
        st.lists(st.sampled_from(["a", "b", "ab", "c", "", "%2F", "x y"]), max_size=5),
        st.sampled_from(["", "/"]),
    ),
    st.sampled_from(["", "*", "a", "a/b", "//", "///"]),
)
_METHOD = st.sampled_from(["GET", "HEAD", "POST", "PUT", "OPTIONS"])


@settings(max_examples=400, deadline=None)
@given(_TABLE, st.lists(st.tuples(_METHOD, _PATH), min_size=1, max_size=8))
def test_router_agrees_with_a_brute_force_matcher(
    table: list[tuple[str, str | None]], requests: list[tuple[str, str]]
) -> None:
    router: Router[str] = Router()
    registered: list[tuple[str, str | None]] = []
    taken: set[tuple[tuple[str, ...], str | None]] = set()
    for route, method in table:
        keys = {(_shape_key(tokens), method) for tokens in _shapes(route)}
        if keys & taken:  # the reference says: a conflict
            with pytest.raises(RouteConflictError):
                router.add(route, f"{method or '*'} {route}", method)
            continue
        router.add(route, f"{method or '*'} {route}", method)
        registered.append((route, method))
        taken |= keys
    for method, path in requests:
        assert router.match(method, path) == reference_match(registered, method, path), (
            method,
            path,
        )
        assert router.allowed_methods(path) == reference_allowed(registered, path), path
