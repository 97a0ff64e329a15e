"""The WebSocket API (``aws_lambda={"websocket": True}``): API Gateway holds the
sockets and invokes the function's alias for each event.

| resource | name | what |
|---|---|---|
| websocket-api | ``{function}-ws`` | protocol WEBSOCKET |
| websocket-integration | ``{api}/live`` | ``AWS_PROXY`` to the alias ``live`` |
| websocket-route | ``{api}/$connect``, ``$disconnect``, ``$default`` | each to the integration |
| websocket-stage | ``{api}/{stage}`` | auto-deployed: the ``wss://`` URL ends with it |
| websocket-permission | ``{function}:live/nitro-websocket`` | API Gateway may invoke the alias, from this API only |
| websocket-policy | ``{role}/nitro-websocket`` | the role may manage this API stage's connections only (``execute-api:ManageConnections``) |

Each change reads again what exists when it is applied (the API's id is known only
once it is made), so a deploy cut short is finished by the next one. Undeploying
deletes the API (its routes, integration and stage go with it); the permission and
the role policy go with the function and the role.
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-integrations.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-control-access-iam.html
"""

from __future__ import annotations

import json
from typing import Any

from .alias import add_permission, alias_statements
from .names import Names
from .plan import Change
from .role import policy_document
from .session import Aws
from .spec import Spec

__all__ = ["ROUTES", "plan_websocket", "plan_websocket_removal", "websocket_url"]

ROUTES = ("$connect", "$disconnect", "$default")
SID = "nitro-websocket"


def _find_api(aws: Aws, names: Names) -> dict[str, Any] | None:
    apis = aws.pages("websocket-api", names.websocket_api, "apigatewayv2", "get_apis", "Items")
    return next(
        (
            a
            for a in apis
            if a.get("Name") == names.websocket_api and a.get("ProtocolType") == "WEBSOCKET"
        ),
        None,
    )


def _integration_uri(names: Names) -> str:
    return (
        f"arn:{names.partition}:apigateway:{names.region}:lambda:path/2015-03-31/functions/"
        f"{names.alias_arn}/invocations"
    )


def websocket_url(aws: Aws, names: Names) -> str | None:
    """``wss://{api}.execute-api.{region}.amazonaws.com/{stage}``, once the API exists."""
    api = _find_api(aws, names)
    if api is None:
        return None
    host = str(api.get("ApiEndpoint") or "").partition("://")[2]  # AWS says wss://, moto https://
    if not host:
        host = f"{api['ApiId']}.execute-api.{names.region}.{names.url_suffix}"
    return f"wss://{host}/{names.stage}"


def _policy(names: Names, api_id: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WebSocketConnections",
                "Effect": "Allow",
                "Action": ["execute-api:ManageConnections"],
                "Resource": [names.websocket_connections_arn(api_id)],
            }
        ],
    }


def plan_websocket(aws: Aws, names: Names, spec: Spec) -> list[Change]:
    """The API and what hangs off it; nothing when the app has no ``websocket``."""
    if not spec.resources.websocket:
        return []
    client = "apigatewayv2"
    api_name = names.websocket_api
    api = _find_api(aws, names)
    state: dict[str, Any] = {"api": api["ApiId"] if api else None, "integration": None}
    uri = _integration_uri(names)

    def api_id() -> str:
        if state["api"] is None:
            found = _find_api(aws, names)
            assert found is not None, "the WebSocket API is made first"
            state["api"] = found["ApiId"]
        return str(state["api"])

    def create_api() -> None:
        if _find_api(aws, names) is not None:
            return
        made = aws.call(
            "create", "websocket-api", api_name, client, "create_api",
            Name=api_name, ProtocolType="WEBSOCKET",
            RouteSelectionExpression="$request.body.action",
            Tags={t["Key"]: t["Value"] for t in names.tags},
        )  # fmt: skip
        state["api"] = made["ApiId"]

    changes = [
        Change("unchanged", "websocket-api", api_name)
        if api
        else Change("create", "websocket-api", api_name, apply=create_api)
    ]

    def integrations() -> list[dict[str, Any]]:
        return aws.pages(
            "websocket-integration", api_name, client, "get_integrations", "Items", ApiId=api_id()
        )

    def integration_id() -> str:
        if state["integration"] is None:
            found = next(i for i in integrations() if i.get("IntegrationUri") == uri)
            state["integration"] = found["IntegrationId"]
        return str(state["integration"])

    existing = [i for i in integrations() if i.get("IntegrationUri") == uri] if api else []
    if existing:
        state["integration"] = existing[0]["IntegrationId"]

    def create_integration() -> None:
        if any(i.get("IntegrationUri") == uri for i in integrations()):
            return
        made = aws.call(
            "create", "websocket-integration", f"{api_name}/{names.alias}", client,
            "create_integration", ApiId=api_id(), IntegrationType="AWS_PROXY",
            IntegrationUri=uri,
        )  # fmt: skip
        state["integration"] = made["IntegrationId"]

    label = f"{api_name}/{names.alias}"
    changes.append(
        Change("unchanged", "websocket-integration", label)
        if existing
        else Change("create", "websocket-integration", label, apply=create_integration)
    )

    routes = (
        {
            r["RouteKey"]: r
            for r in aws.pages(
                "websocket-route", api_name, client, "get_routes", "Items", ApiId=state["api"]
            )
        }
        if api
        else {}
    )
    for key in ROUTES:
        changes.append(
            _route_change(
                aws, api_name, key, routes.get(key), state["integration"], api_id, integration_id
            )
        )

    stage_label = f"{api_name}/{names.stage}"
    stage = (
        aws.call(
            "read",
            "websocket-stage",
            stage_label,
            client,
            "get_stage",
            ApiId=state["api"],
            StageName=names.stage,
            missing=("NotFoundException",),
        )
        if api
        else None
    )

    def create_stage() -> None:
        aws.call(
            "create", "websocket-stage", stage_label, client, "create_stage",
            ApiId=api_id(), StageName=names.stage, AutoDeploy=True,
            missing=("ConflictException",),
        )  # fmt: skip

    changes.append(
        Change("unchanged", "websocket-stage", stage_label)
        if stage
        else Change("create", "websocket-stage", stage_label, apply=create_stage)
    )

    permission_label = f"{names.function}:{names.alias}/{SID}"
    statements = alias_statements(aws, names, "websocket-permission", permission_label)
    source = f"arn:{names.partition}:execute-api:{names.region}:{names.account}:{{}}/*"
    current = statements.get(SID)
    wanted_source = source.format(state["api"]) if state["api"] else None
    permission_ok = (
        current is not None and wanted_source is not None and wanted_source in json.dumps(current)
    )

    def permit() -> None:
        from .alias import remove_permission

        if current is not None:
            remove_permission(aws, names, "websocket-permission", permission_label, SID)
        add_permission(
            aws, names, "websocket-permission", permission_label, SID,
            Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
            SourceArn=source.format(api_id()),
        )  # fmt: skip

    changes.append(
        Change("unchanged", "websocket-permission", permission_label)
        if permission_ok
        else Change(
            "update" if current else "create",
            "websocket-permission",
            permission_label,
            apply=permit,
        )
    )

    policy_label = f"{names.role}/{names.websocket_policy}"
    role = aws.resource("websocket-policy", policy_label, "iam", RoleName=names.role)
    found = (
        role.call(
            "read",
            "get_role_policy",
            PolicyName=names.websocket_policy,
            missing=("NoSuchEntity",),
        )
        if state["api"]
        else None
    )

    def put_policy() -> None:
        role.call(
            "update", "put_role_policy", PolicyName=names.websocket_policy,
            PolicyDocument=json.dumps(_policy(names, api_id())),
        )  # fmt: skip

    policy_ok = found is not None and policy_document(found["PolicyDocument"]) == _policy(
        names, str(state["api"])
    )
    changes.append(
        Change("unchanged", "websocket-policy", policy_label)
        if policy_ok
        else Change(
            "update" if found else "create", "websocket-policy", policy_label, apply=put_policy
        )
    )
    return changes


def _route_change(
    aws: Aws,
    api_name: str,
    key: str,
    route: dict[str, Any] | None,
    known_integration: str | None,
    api_id: Any,
    integration_id: Any,
) -> Change:
    label = f"{api_name}/{key}"
    target = f"integrations/{known_integration}"
    if route is not None and known_integration and route.get("Target") == target:
        return Change("unchanged", "websocket-route", label)

    def apply() -> None:
        target = f"integrations/{integration_id()}"
        if route is None:
            aws.call(
                "create", "websocket-route", label, "apigatewayv2", "create_route",
                ApiId=api_id(), RouteKey=key, Target=target,
            )  # fmt: skip
        else:
            aws.call(
                "update", "websocket-route", label, "apigatewayv2", "update_route",
                ApiId=api_id(), RouteId=route["RouteId"], Target=target,
            )  # fmt: skip

    return Change("create" if route is None else "update", "websocket-route", label, apply=apply)


def plan_websocket_removal(aws: Aws, names: Names) -> list[Change]:
    api = _find_api(aws, names)
    if api is None:
        return []

    def delete() -> None:
        aws.call(
            "delete", "websocket-api", names.websocket_api, "apigatewayv2", "delete_api",
            ApiId=api["ApiId"], missing=("NotFoundException",),
        )  # fmt: skip

    return [Change("delete", "websocket-api", names.websocket_api, apply=delete)]
