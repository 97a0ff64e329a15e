from __future__ import annotations

from nitro.core.runtime_config import apply_env, env_key

DECLARED = {
    "api_token": "dev",
    "client_id": "007",
    "limit": 10,
    "debug": False,
    "oauth": {"clientId": "x", "scopes": ["a"]},
    "public": {"api_base": "/api"},
}


def test_env_key_mapping() -> None:
    assert env_key(["oauth", "client_id"]) == "NITRO_OAUTH_CLIENT_ID"
    assert env_key(["public", "apiBase"]) == "NITRO_PUBLIC_API_BASE"
    assert env_key(["helloWorld"]) == "NITRO_HELLO_WORLD"


def test_declared_keys_are_overridden_and_parsed() -> None:
    config = apply_env(
        DECLARED,
        {
            "NITRO_API_TOKEN": "prod",
            "NITRO_CLIENT_ID": "123",
            "NITRO_LIMIT": "50",
            "NITRO_DEBUG": "true",
            "NITRO_OAUTH_CLIENT_ID": "prod-client",
            "NITRO_OAUTH_SCOPES": '["a", "b"]',
            "NITRO_PUBLIC_API_BASE": "https://api.example",
            "NITRO_UNDECLARED": "ignored",
        },
    )
    assert config == {
        "api_token": "prod",
        "client_id": "123",
        "limit": 50,
        "debug": True,
        "oauth": {"clientId": "prod-client", "scopes": ["a", "b"]},
        "public": {"api_base": "https://api.example"},
    }
    assert config.public.api_base == "https://api.example"
    assert "undeclared" not in config


def test_a_json_object_merges_into_a_declared_section_without_adding_keys() -> None:
    config = apply_env(DECLARED, {"NITRO_OAUTH": '{"clientId": "j", "extra": 1}'})
    assert config.oauth == {"clientId": "j", "scopes": ["a"]}


def test_unparseable_values_stay_strings_and_the_input_is_not_mutated() -> None:
    config = apply_env({"limit": 10}, {"NITRO_LIMIT": "lots"})
    assert config.limit == "lots"
    assert DECLARED["limit"] == 10
