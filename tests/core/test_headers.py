"""nitro's own header mappings behave like Starlette's, which they stand in for."""

from __future__ import annotations

import pytest
from starlette import datastructures as starlette

from nitro.core.headers import Headers, MutableHeaders

RAW = [
    (b"content-type", b"application/json"),
    (b"set-cookie", b"a=1"),
    (b"x-caf\xe9", b"cr\xe8me"),
    (b"set-cookie", b"b=2"),
]


def both(raw: list[tuple[bytes, bytes]]) -> tuple[Headers, starlette.Headers]:
    return Headers(raw=list(raw)), starlette.Headers(raw=list(raw))


def test_reading_matches_starlette() -> None:
    ours, theirs = both(RAW)
    for key in ("content-type", "Content-Type", "SET-COOKIE", "x-café", "missing"):
        assert ours.get(key) == theirs.get(key)
        assert ours.getlist(key) == theirs.getlist(key)
        assert (key in ours) == (key in theirs)
    assert ours.keys() == theirs.keys()
    assert ours.values() == theirs.values()
    assert ours.items() == theirs.items()
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs) == 4
    assert ours.raw == theirs.raw
    assert ours["Set-Cookie"] == "a=1"
    with pytest.raises(KeyError):
        ours["missing"]
    assert 42 not in ours


def test_made_from_a_scope_or_a_mapping() -> None:
    scope = {"headers": iter(RAW)}  # ASGI allows any iterable
    assert Headers(scope=scope).raw == RAW
    made = Headers({"Content-Type": "text/plain", "X-A": "1"})
    assert made.raw == starlette.Headers({"Content-Type": "text/plain", "X-A": "1"}).raw
    assert Headers().raw == []
    with pytest.raises(TypeError, match="one of"):
        Headers({"a": "b"}, raw=RAW)


def test_equality_ignores_order_and_a_copy_is_independent() -> None:
    assert Headers(raw=RAW) == Headers(raw=list(reversed(RAW)))
    assert Headers(raw=RAW) != Headers(raw=RAW[:2])
    copy = Headers(raw=RAW).mutablecopy()
    copy["content-type"] = "text/html"
    assert Headers(raw=RAW)["content-type"] == "application/json"
    assert "set-cookie" in repr(Headers(raw=RAW))


@pytest.mark.parametrize(
    "edit",
    [
        lambda h: h.__setitem__("Set-Cookie", "c=3"),  # replaces both, keeps the first's place
        lambda h: h.__setitem__("x-new", "1"),
        lambda h: h.__delitem__("SET-COOKIE"),
        lambda h: h.append("Set-Cookie", "c=3"),
        lambda h: h.setdefault("content-type", "text/html"),
        lambda h: h.setdefault("x-new", "v"),
        lambda h: h.update({"content-type": "text/html", "x-b": "2"}),
        lambda h: h.add_vary_header("Origin"),
    ],
)
def test_editing_matches_starlette(edit) -> None:
    ours = MutableHeaders(raw=list(RAW))
    theirs = starlette.MutableHeaders(raw=list(RAW))
    assert edit(ours) == edit(theirs)
    assert ours.raw == theirs.raw


def test_edits_land_in_the_list_it_was_given() -> None:
    raw: list[tuple[bytes, bytes]] = []
    headers = MutableHeaders(raw=raw)
    headers["X-Request-Id"] = "abc"
    headers.add_vary_header("Accept")
    headers.add_vary_header("Origin")
    assert raw == [(b"x-request-id", b"abc"), (b"vary", b"Accept, Origin")]
    with pytest.raises(KeyError):
        del headers["missing"]
