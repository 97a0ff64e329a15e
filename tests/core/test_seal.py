"""Sealing: what makes a session cookie tamper-proof and private."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nitro.core.utils.seal import keys_for, seal, unseal

PASSWORD = "p" * 31 + "!"
OTHER = "another-password-of-at-least-32-chars"
KEYS = keys_for(PASSWORD)


def test_a_seal_opens_only_with_its_key_and_purpose() -> None:
    sealed = seal(KEYS, b'{"user": "ada"}', "nitro")
    assert unseal(KEYS, sealed, "nitro") == b'{"user": "ada"}'
    assert unseal(KEYS, sealed, "other-session") is None  # bound to its cookie name
    assert unseal(keys_for(OTHER), sealed, "nitro") is None  # another password
    assert b"ada" not in base64.urlsafe_b64decode(sealed.split(".")[2] + "==")  # encrypted


def test_seals_of_one_value_differ() -> None:
    assert seal(KEYS, b"x", "nitro") != seal(KEYS, b"x", "nitro")  # a random nonce each


def test_rotation_the_first_password_seals_every_one_unseals() -> None:
    old = seal(keys_for(OTHER), b"old", "nitro")
    rotated = keys_for([PASSWORD, OTHER])
    assert unseal(rotated, old, "nitro") == b"old"
    new = seal(rotated, b"new", "nitro")
    assert new.split(".")[1] == seal(KEYS, b"", "nitro").split(".")[1]  # PASSWORD's key id
    assert unseal(KEYS, new, "nitro") == b"new"
    assert unseal(keys_for(OTHER), new, "nitro") is None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", r"at least 32 characters \(got 5\)"),
        ([], "empty list"),
        ([PASSWORD, "x" * 31], r"at least 32 characters \(got 31\)"),
    ],
)
def test_weak_passwords_are_refused(password: object, message: str) -> None:
    with pytest.raises(ValueError, match=r"\[nitro:session\] .*" + message):
        keys_for(password)  # type: ignore[arg-type]


def test_a_password_must_be_text() -> None:
    with pytest.raises(TypeError, match="must be a string"):
        keys_for([b"x" * 40])  # type: ignore[list-item]


def test_without_cryptography_the_error_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['cryptography'] = None\n"
        "from nitro.core.utils.seal import keys_for\n"
        "try:\n    keys_for('k' * 32)\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "[nitro:session] needs 'cryptography'" in out.stdout
    assert 'pip install "nitro-py[session]"' in out.stdout


# --- property tests: the unsealer never raises, and nothing but our seal opens ---

SEALED = seal(KEYS, b'{"i":"id","d":{"n":1}}', "nitro")


@given(st.text(max_size=300))
def test_any_text_unseals_to_nothing_without_raising(text: str) -> None:
    assert unseal(KEYS, text, "nitro") is None


@given(st.binary(max_size=300))
def test_any_bytes_behind_a_valid_prefix_unseal_to_nothing(raw: bytes) -> None:
    key_id = SEALED.split(".")[1]
    forged = f"n1.{key_id}." + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert unseal(KEYS, forged, "nitro") is None


@given(st.integers(min_value=0, max_value=len(SEALED) - 1))
def test_every_truncation_of_a_seal_fails(length: int) -> None:
    assert unseal(KEYS, SEALED[:length], "nitro") is None


@given(
    st.integers(min_value=0, max_value=len(SEALED) - 1),
    st.sampled_from("AZaz09-_.=+/ \x00é"),
)
def test_changing_any_character_never_yields_another_value(index: int, char: str) -> None:
    changed = SEALED[:index] + char + SEALED[index + 1 :]
    # The last base64 character carries bits the decoder drops: changing those
    # still decodes to the same bytes, which is the same seal, never another value.
    assert unseal(KEYS, changed, "nitro") in (None, unseal(KEYS, SEALED, "nitro"))
    if changed[:-1] != SEALED[:-1]:
        assert unseal(KEYS, changed, "nitro") is None


@given(st.binary(max_size=2000), st.text(max_size=20))
def test_whatever_is_sealed_unseals_unchanged(value: bytes, purpose: str) -> None:
    assert unseal(KEYS, seal(KEYS, value, purpose), purpose) == value


def test_huge_input_is_refused_before_decoding() -> None:
    huge = SEALED + "A" * 20_000
    assert unseal(KEYS, huge, "nitro") is None
