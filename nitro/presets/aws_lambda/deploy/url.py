"""The Function URL, on the alias ``live`` (so a rollback moves what it serves).

Auth ``NONE`` (the default) makes it public: the alias's policy then allows anyone
``lambda:InvokeFunctionUrl`` (for URL auth NONE) and ``lambda:InvokeFunction`` only
through the URL, as AWS asks of function URLs made since October 2025. With
``AWS_IAM`` those statements are removed: callers sign their requests and need
the permission in their own IAM policy. Its invoke mode is ``BUFFERED``, or
``RESPONSE_STREAM`` with ``aws_lambda={"streaming": True}``.
"""

from __future__ import annotations

from typing import Any

from .alias import add_permission, alias_statements, on_alias, remove_permission
from .names import Names
from .plan import Change
from .session import Aws, Resource
from .spec import Spec

__all__ = ["PUBLIC_STATEMENTS", "function_url", "plan_url", "plan_url_removal"]

KIND = "function-url"
PUBLIC_STATEMENTS: dict[str, dict[str, Any]] = {
    "nitro-url": {
        "Action": "lambda:InvokeFunctionUrl",
        "Principal": "*",
        "FunctionUrlAuthType": "NONE",
    },
    "nitro-url-invoke": {
        "Action": "lambda:InvokeFunction",
        "Principal": "*",
        "InvokedViaFunctionUrl": True,
    },
}


def _url(aws: Aws, names: Names) -> Resource:
    return on_alias(aws, names, KIND, f"{names.function}:{names.alias}")


def _config(url: Resource) -> dict[str, Any] | None:
    return url.call("read", "get_function_url_config", missing=("ResourceNotFoundException",))


def _mode(config: dict[str, Any]) -> str:
    # a URL made without one is BUFFERED (moto says "Buffered")
    return str(config.get("InvokeMode") or "BUFFERED").upper()


def function_url(aws: Aws, names: Names) -> str | None:
    config = _config(_url(aws, names))
    return None if config is None else str(config["FunctionUrl"])


def plan_url(aws: Aws, names: Names, spec: Spec, alias: Change) -> Change:
    url = _url(aws, names)
    label = url.name
    exists = alias.action != "create"
    config = _config(url) if exists else None
    sids = set(alias_statements(aws, names, KIND, label)) if exists else set()
    wanted = set(PUBLIC_STATEMENTS) if spec.resources.url_auth == "NONE" else set()
    fields = []
    mode = spec.resources.invoke_mode
    if config is not None and config.get("AuthType") != spec.resources.url_auth:
        fields.append("auth")
    if config is not None and _mode(config) != mode:
        fields.append("invoke mode")
    if sids & set(PUBLIC_STATEMENTS) != wanted:
        fields.append("permission")
    if config is not None and not fields:
        return Change("unchanged", KIND, label)

    def apply() -> None:
        current = _config(url)
        auth = spec.resources.url_auth
        if current is None:
            url.call("create", "create_function_url_config", AuthType=auth, InvokeMode=mode)
        elif current.get("AuthType") != auth or _mode(current) != mode:
            url.call("update", "update_function_url_config", AuthType=auth, InvokeMode=mode)
        for sid, statement in PUBLIC_STATEMENTS.items():
            if sid in wanted:
                add_permission(aws, names, KIND, label, sid, **statement)
            elif sid in sids:
                remove_permission(aws, names, KIND, label, sid)

    return Change(
        "create" if config is None else "update",
        KIND,
        label,
        tuple(fields) if config else (),
        apply,
    )


def plan_url_removal(aws: Aws, names: Names) -> list[Change]:
    url = _url(aws, names)
    if _config(url) is None:
        return []

    def delete() -> None:
        url.call("delete", "delete_function_url_config", missing=("ResourceNotFoundException",))

    return [Change("delete", KIND, url.name, apply=delete)]
