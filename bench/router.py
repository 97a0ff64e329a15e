"""Router: the cost of matching the last-added route among 10 vs 10,000.

Both routers get the same routes, `/r{i}/<id param>`, and the same request,
`GET /r{last}/42`: the worst case for a router that tries routes in order.
"""

from __future__ import annotations

import timeit
from typing import Any

import report
from common import BenchError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.routing import Router as StarletteRouter

from nitro.core.router import Router as NitroRouter

SIZES = (10, 10_000)


# A statement and its namespace for timeit: a string statement is timed without
# the extra function call a lambda would add to every match.
Timed = tuple[str, dict[str, Any]]


def nitro_matcher(size: int) -> Timed:
    router: NitroRouter[int] = NitroRouter()
    for i in range(size):
        router.add(f"/r{i}/:id", i, method="GET")
    match, path = router.match, f"/r{size - 1}/42"
    if match("GET", path) != (size - 1, {"id": "42"}):
        raise BenchError(f"nitro Router did not match {path}")
    return "match('GET', path)", {"match": match, "path": path}


async def endpoint(request: Request) -> Response:
    return Response()


def find_route(
    routes: list[BaseRoute], scope: dict[str, Any]
) -> tuple[BaseRoute | None, dict[str, Any]]:
    """The route lookup of Starlette's `Router.app`, without then calling the route."""
    partial: tuple[BaseRoute, dict[str, Any]] | None = None
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is Match.FULL:
            return route, child_scope
        if match is Match.PARTIAL and partial is None:
            partial = route, child_scope
    return partial or (None, {})


def starlette_matcher(size: int) -> Timed:
    router = StarletteRouter(routes=[Route(f"/r{i}/{{id}}", endpoint) for i in range(size)])
    scope = {"type": "http", "method": "GET", "path": f"/r{size - 1}/42", "root_path": ""}
    route, child_scope = find_route(router.routes, scope)
    if route is not router.routes[-1] or child_scope["path_params"] != {"id": "42"}:
        raise BenchError(f"Starlette Router did not match {scope['path']}")
    return "find_route(router.routes, scope)", {
        "find_route": find_route,
        "router": router,
        "scope": scope,
    }


def ns_per_call(timed: Timed, repeat: int) -> float:
    """Best of `repeat` timings (the least disturbed), each long enough to be accurate (>= 0.2 s)."""
    stmt, namespace = timed
    timer = timeit.Timer(stmt, globals=namespace)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e9


def measure(repeat: int) -> dict[str, Any]:
    report.section(
        "Router (ns per match of the last-added route, lower is better)",
        [f"routes /r{{i}}/:id, request GET /r{{last}}/42; timeit, best of {repeat} repeats"],
    )
    results: dict[str, Any] = {"settings": {"repeat": repeat, "sizes": list(SIZES)}, "routers": {}}
    for name, make in (("nitro Router", nitro_matcher), ("Starlette Router", starlette_matcher)):
        timings = {str(size): ns_per_call(make(size), repeat) for size in SIZES}
        ratio = timings[str(SIZES[-1])] / timings[str(SIZES[0])]
        results["routers"][name] = {"ns_per_match": timings, "ratio_largest_over_smallest": ratio}
    return results


def print_report(results: dict[str, Any]) -> None:
    small, large = (str(size) for size in results["settings"]["sizes"])
    rows = [
        [name, report.count(r["ns_per_match"][small]), report.count(r["ns_per_match"][large]),
         report.ratio(r["ratio_largest_over_smallest"])]
        for name, r in results["routers"].items()
    ]  # fmt: skip
    headers = [
        "router",
        f"{int(small):,} routes ns",
        f"{int(large):,} routes ns",
        f"{int(large):,} / {int(small):,}",
    ]
    print(report.table(headers, rows))
