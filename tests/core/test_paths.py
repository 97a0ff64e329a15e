from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nitro.core.errors import HTTPError
from nitro.core.paths import canonical_path, resolve_dot_segments


def canon(raw: bytes) -> str:
    return canonical_path({"raw_path": raw, "path": raw.decode("latin-1")})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"/", "/"),
        (b"/api/hello", "/api/hello"),
        (b"/%61dmin", "/admin"),
        (b"/a/./b/../c", "/a/c"),
        (b"/../../etc/passwd", "/etc/passwd"),
        (b"/%2e%2e/%2E%2E/x", "/x"),
        (b"/a/b/..", "/a/"),
        (b"/files/a%2fb", "/files/a%2Fb"),
        (b"/x%5Cy", "/x%5Cy"),
        (b"/100%25", "/100%25"),
        (b"/caf%C3%A9", "/café"),
        (b"/a//b", "/a//b"),
    ],
)
def test_canonical_path(raw: bytes, expected: str) -> None:
    assert canon(raw) == expected


@pytest.mark.parametrize("raw", [b"/%", b"/%4", b"/%zz", b"/%00", b"/a\x00b", b"/%ff", b"/%C3"])
def test_bad_paths_are_400(raw: bytes) -> None:
    with pytest.raises(HTTPError) as info:
        canon(raw)
    assert info.value.status == 400


@pytest.mark.parametrize("raw", [b"", b"*", b"anything", b"http://example.com/a"])
def test_a_target_that_is_not_a_path_is_400(raw: bytes) -> None:
    with pytest.raises(HTTPError, match="does not start with '/'") as info:
        canon(raw)
    assert info.value.status == 400
    with pytest.raises(HTTPError, match="does not start with '/'"):
        canonical_path({"path": raw.decode()})


def test_without_raw_path_the_decoded_path_is_used() -> None:
    assert canonical_path({"path": "/a/../b"}) == "/b"
    with pytest.raises(HTTPError):
        canonical_path({"path": "/a\x00"})


@given(
    st.lists(st.sampled_from(["a", "..", ".", "%2e%2e", "%2F", "b%2f..", "", "%5c.."]), max_size=12)
)
def test_canonical_paths_never_climb_or_contain_dot_segments(parts: list[str]) -> None:
    path = canon(("/" + "/".join(parts)).encode())
    segments = path.split("/")[1:]
    assert path.startswith("/")
    assert ".." not in segments and "." not in segments


def test_resolve_dot_segments() -> None:
    assert resolve_dot_segments("/a/b/../../..") == "/"
    assert resolve_dot_segments("/a/./") == "/a/"
