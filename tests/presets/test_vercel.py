"""The vercel preset's pure parts: route rules -> Vercel routes (checked with `re` on
sample paths), crons, options, the size limit, and the preview's router."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from adapters.builds import tiny_project

from nitro.bundle.output import BuildError
from nitro.presets.vercel.preset import _options, check_size, vc_config
from nitro.presets.vercel.preview import VercelRouter
from nitro.presets.vercel.routes import (
    build_config,
    cron_entries,
    parse_pattern,
    route_rule_routes,
    static_header_routes,
)

from helpers import nitro_cli


def matches(src: str, path: str, case_sensitive: bool = True) -> bool:
    return re.search(src, path, 0 if case_sensitive else re.IGNORECASE) is not None


@pytest.mark.parametrize(
    ("pattern", "hits", "misses"),
    [
        ("/about", ["/about", "/about/"], ["/about/x", "/abou", "/About", "/aboutx", "/"]),
        ("/", ["/"], ["/x", "//"]),
        ("/users/*", ["/users/1", "/users/me/"], ["/users", "/users/", "/users/1/2"]),
        ("/users/:id", ["/users/42"], ["/users/42/posts"]),
        ("/blog/**", ["/blog", "/blog/", "/blog/a", "/blog/a/b/c"], ["/blogs", "/bloga/b", "/"]),
        ("/blog/**:slug", ["/blog", "/blog/a", "/blog/a/b"], ["/blogs"]),  # as the runtime
        ("/**", ["/", "/anything/at/all"], []),
        ("/feed.xml", ["/feed.xml"], ["/feedxxml", "/feed.xml.gz"]),
        ("/a+b/(c)", ["/a+b/(c)"], ["/aab/c", "/ab/c"]),
        ("/users/*/posts/**", ["/users/1/posts", "/users/1/posts/2/3"], ["/users/posts/1"]),
    ],
)
def test_patterns_translate_to_anchored_regexes(
    pattern: str, hits: list[str], misses: list[str]
) -> None:
    src = parse_pattern(pattern).src()
    for path in hits:
        assert matches(src, path), (pattern, src, path)
    for path in misses:
        assert not matches(src, path), (pattern, src, path)


def test_base_url_prefixes_patterns() -> None:
    src = parse_pattern("/blog/**", "/app/").src()
    assert matches(src, "/app/blog/x") and not matches(src, "/blog/x")
    root = parse_pattern("/", "/app").src()
    assert matches(root, "/app") and matches(root, "/app/") and not matches(root, "/app/x")


def test_a_double_star_must_end_the_pattern() -> None:
    with pytest.raises(BuildError, match="'\\*\\*' may only end a pattern"):
        parse_pattern("/a/**/b")
    with pytest.raises(BuildError, match="must be a path"):
        parse_pattern("blog/**")


def apply_headers(routes: list[dict[str, Any]], method: str, path: str) -> dict[str, str]:
    """What Vercel does with `continue` header routes: later matches overwrite."""
    merged: dict[str, str] = {}
    for route in routes:
        if "status" in route or (route.get("methods") and method not in route["methods"]):
            continue
        if matches(route["src"], path):
            merged.update(route["headers"])
    return merged


def first_redirect(routes: list[dict[str, Any]], path: str) -> tuple[int, str] | None:
    for route in routes:
        found = re.search(route["src"], path)
        if "status" in route and found:
            return route["status"], substitute(route["headers"]["Location"], found)
    return None


def substitute(template: str, found: re.Match[str]) -> str:
    groups = ("", *found.groups())
    return re.sub(r"\$(\d+)", lambda m: groups[int(m.group(1))] or "", template)


def test_headers_merge_from_least_to_most_specific_and_false_resets() -> None:
    routes = route_rule_routes(
        {
            "/api/**": {"headers": {"x-a": "api", "x-b": "api"}},
            "/**": {"headers": {"x-a": "all"}},
            "/api/v1/*": {"headers": {"x-b": "v1"}},
            "/api/*": {"headers": {"x-b": "one-segment"}},
            "/api/v1/**": {"headers": {"x-b": "v1-any"}},  # more literal segments: wins over /api/*
            "/api/private/**": {"headers": False},
            "/api/private/open": {"headers": {"x-c": "open"}},
            "GET /api/get-only": {"headers": {"x-get": "1"}},
            "POST /api/**": {"headers": {"x-a": "post"}},  # method-scoped rules merge last
        }
    )
    assert all(r["continue"] and r["caseSensitive"] for r in routes)
    assert apply_headers(routes, "GET", "/") == {"x-a": "all"}
    assert apply_headers(routes, "GET", "/api/x/y") == {"x-a": "api", "x-b": "api"}
    assert apply_headers(routes, "GET", "/api/x") == {"x-a": "api", "x-b": "one-segment"}
    assert apply_headers(routes, "GET", "/api/v1") == {"x-a": "api", "x-b": "v1-any"}
    assert apply_headers(routes, "GET", "/api/v1/x") == {"x-a": "api", "x-b": "v1"}
    assert apply_headers(routes, "GET", "/api/private/x") == {}
    assert apply_headers(routes, "GET", "/api/private/open") == {"x-c": "open"}
    assert apply_headers(routes, "HEAD", "/api/get-only")["x-get"] == "1"
    assert "x-get" not in apply_headers(routes, "POST", "/api/get-only")
    assert apply_headers(routes, "POST", "/api/v1/x")["x-a"] == "post"
    # Unrelated resets add no lookahead noise.
    assert routes[0]["src"] == "^(?!/api/private(?:/.*)?$)(?:/.*)?$"


def test_redirects_most_specific_first_with_the_tail_carried_over() -> None:
    routes = route_rule_routes(
        {
            "/old/**": {"redirect": {"to": "/new/**", "status": 301}},
            "/old/special": {"redirect": "https://example.com/special"},
            "/old/keep/**": {"redirect": False},
            "/docs/*": {"redirect": "/manual/**"},  # no tail to carry: the target's /** drops
        }
    )
    assert first_redirect(routes, "/old/a/b") == (301, "/new/a/b")
    assert first_redirect(routes, "/old") == (301, "/new")
    assert first_redirect(routes, "/old/special") == (307, "https://example.com/special")
    assert first_redirect(routes, "/old/keep/x") is None
    assert first_redirect(routes, "/docs/intro") == (307, "/manual")
    assert first_redirect(routes, "/elsewhere") is None


def test_bad_redirects_fail_the_build() -> None:
    with pytest.raises(BuildError, match="status 200 is not one of"):
        route_rule_routes({"/a": {"redirect": {"to": "/b", "status": 200}}})
    with pytest.raises(BuildError, match="redirect must be"):
        route_rule_routes({"/a": {"redirect": 5}})


def test_static_cache_headers_deeper_base_urls_win() -> None:
    routes = static_header_routes([("/assets", None), ("/", 60), ("/assets/big", 3600)])
    assert [(r["src"], r["headers"]["cache-control"]) for r in routes] == [
        ("^/.*$", "public, max-age=60"),
        ("^/assets/.*$", "public, max-age=0, must-revalidate"),
        ("^/assets/big/.*$", "public, max-age=3600"),
    ]
    assert static_header_routes([("/", None)]) == []


def test_crons_call_the_cron_route_with_the_schedule() -> None:
    assert cron_entries({"*/5 * * * *": ["a"], "@hourly": ["b"]}, "/app") == [
        {
            "path": "/app/_vercel/cron?schedule=%2A%2F5%20%2A%20%2A%20%2A%20%2A",
            "schedule": "*/5 * * * *",
        },
        {"path": "/app/_vercel/cron?schedule=%40hourly", "schedule": "0 * * * *"},
    ]
    with pytest.raises(BuildError, match="cannot schedule by the second"):
        cron_entries({"*/10 * * * * *": ["a"]})


def test_config_without_rules_or_crons() -> None:
    assert build_config({}, {}, []) == {
        "version": 3,
        "routes": [{"handle": "filesystem"}, {"src": "^/.*$", "dest": "/__nitro"}],
    }


def test_options() -> None:
    options = _options({"memory": 1024, "max_duration": 60, "regions": ["iad1"]})
    assert vc_config(options)["memory"] == 1024
    assert vc_config(options)["maxDuration"] == 60
    assert vc_config(options)["regions"] == ["iad1"]
    with pytest.raises(BuildError, match="unknown option 'timeout'"):
        _options({"timeout": 3})
    with pytest.raises(BuildError, match=r"runtime 'python3\.11'"):
        _options({"runtime": "python3.11"})
    with pytest.raises(BuildError, match="memory must be a positive integer"):
        _options({"memory": "1GB"})


def test_a_bad_option_fails_nitro_build(tmp_path: Path) -> None:
    root = tiny_project(tmp_path / "app", config="vercel={'runtime': 'python2.7'}")
    result = nitro_cli("build", str(root), "--preset", "vercel")
    assert result.returncode == 1
    assert "vercel: runtime 'python2.7' is not one of" in result.stderr


def test_the_size_limit(tmp_path: Path) -> None:
    (tmp_path / "_vendor" / "big").mkdir(parents=True)
    (tmp_path / "_vendor" / "big" / "blob.bin").write_bytes(b"x" * 3000)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a.py").write_bytes(b"y" * 1000)
    assert check_size(tmp_path, limit=4000) == 4000
    with pytest.raises(BuildError, match=r"over Vercel's .* limit .*Largest: _vendor/big"):
        check_size(tmp_path, limit=3999)


def test_the_default_size_limit_is_vercels_python_limit(tmp_path: Path) -> None:
    # Vercel allows Python functions 500 MB uncompressed (other runtimes 250 MB):
    # a 400 MB function builds, one byte over 500 MB does not. Sparse files: st_size
    # counts, the disk holds nothing.
    mib = 1024 * 1024
    blob = tmp_path / "_vendor" / "torch" / "lib.so"
    blob.parent.mkdir(parents=True)
    with blob.open("wb") as file:
        file.truncate(400 * mib)
    assert check_size(tmp_path) == 400 * mib
    with blob.open("r+b") as file:
        file.truncate(500 * mib + 1)
    with pytest.raises(BuildError, match=r"over Vercel's 500\.0 MB limit .*_vendor/torch"):
        check_size(tmp_path)


def test_preview_router(tmp_path: Path) -> None:
    static = tmp_path / "static"
    (static / "docs").mkdir(parents=True)
    (static / "docs" / "index.html").write_text("docs")
    (static / "a.txt").write_text("a")
    (tmp_path / "secret.txt").write_text("no")
    config = build_config(
        {"/a.txt": {"headers": {"x-a": "1"}}, "/old/**": {"redirect": "/new/**"}},
        {},
        [("/", 60)],
    )
    router = VercelRouter(config, static)
    found = router.decide("GET", "/a.txt")
    assert found.kind == "static" and found.file == static / "a.txt"
    assert found.headers == {"x-a": "1", "cache-control": "public, max-age=60"}
    assert router.decide("GET", "/docs").file == static / "docs" / "index.html"
    assert router.decide("GET", "/docs/").file == static / "docs" / "index.html"
    assert router.decide("GET", "/a.txt/").kind == "function"
    assert router.decide("POST", "/a.txt").kind == "function"  # the CDN serves GET and HEAD
    assert router.decide("GET", "/../secret.txt").kind == "function"
    moved = router.decide("GET", "/old/x")
    assert (moved.kind, moved.status, moved.headers["location"]) == ("redirect", 307, "/new/x")


def test_cdn_headers_agree_with_the_runtimes_route_rules() -> None:
    """The CDN's header routes give every sample path the headers the function's own
    route rules (`nitro.core.route_rules`) resolve for it."""
    from nitro.core import route_rules

    rules: dict[str, dict[str, Any]] = {
        "/**": {"headers": {"x-a": "all", "x-z": "z"}},
        "/api/**": {"headers": {"x-a": "api"}},
        "/api/*": {"headers": {"x-b": "one"}},
        "/api/v1/**": {"headers": {"x-b": "v1"}},
        "/api/v1/:id": {"headers": {"x-c": "id"}},
        "/api/private/**": {"headers": False},
        "/api/private/open": {"headers": {"x-d": "open"}},
        "/users/*/posts": {"headers": {"x-e": "posts"}},
        "/docs": {"headers": {"x-f": "docs"}},
        "POST /api/**": {"headers": {"x-a": "post"}},
    }
    runtime = route_rules.RouteRules(rules)
    routes = route_rule_routes(rules)
    paths = ["/", "/x", "/api", "/api/x", "/api/x/y", "/api/v1", "/api/v1/7", "/api/v1/7/8",
             "/api/private", "/api/private/x", "/api/private/open", "/users/1/posts",
             "/users/posts", "/docs", "/docs/", "/docs/x"]  # fmt: skip
    for method in ("GET", "POST"):
        for path in paths:
            expected = dict(runtime.resolve(method, path).get("headers") or {})
            assert apply_headers(routes, method, path) == expected, (method, path)
