from __future__ import annotations

import pytest

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
