"""`nitro deploy aws` of an app with ``aws_lambda={"websocket": True, "streaming":
True}`` (examples/chat) against moto in server mode: the WebSocket API, its routes,
integration, stage, the permission and the role's connection policy, read back with
boto3; the Function URL streams; a second deploy changes nothing; undeploy removes
the API."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _aws_deploy import Run
from storage_drivers.backends._moto import Moto

from helpers import REPO, nitro_cli

pytestmark = pytest.mark.slow

PLAN = [
    "create dynamodb-table chat-{s}-data",
    "create iam-role chat-{s}-role",
    "create lambda-function chat-{s}",
    "create lambda-alias chat-{s}:live",
    "create function-url chat-{s}:live",
    "create websocket-api chat-{s}-ws",
    "create websocket-integration chat-{s}-ws/live",
    "create websocket-route chat-{s}-ws/$connect",
    "create websocket-route chat-{s}-ws/$disconnect",
    "create websocket-route chat-{s}-ws/$default",
    "create websocket-stage chat-{s}-ws/{s}",
    "create websocket-permission chat-{s}:live/nitro-websocket",
    "create websocket-policy chat-{s}-role/nitro-websocket",
]


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("deploy-ws") / "chat"
    shutil.copytree(REPO / "examples" / "chat", root)
    result = nitro_cli("build", str(root), "--preset", "aws-lambda", timeout=600)
    assert result.returncode == 0, result.stderr
    return root


def url_updates(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The params of every UpdateFunctionUrlConfig the deploys make from now on."""
    from nitro.presets.aws_lambda.deploy import session as aws_session

    original = aws_session.new_session
    calls: list[dict[str, Any]] = []

    def new_session(region: str | None) -> Any:
        session = original(region)
        session.events.register(
            "provide-client-params.lambda.UpdateFunctionUrlConfig",
            lambda params, **_: calls.append(dict(params)),
        )
        return session

    monkeypatch.setattr(aws_session, "new_session", new_session)
    return calls


def api_named(aws: Moto, name: str) -> dict[str, Any] | None:
    apis = aws.client("apigatewayv2").get_apis()["Items"]
    return next((a for a in apis if a["Name"] == name), None)


def test_dry_run_plans_the_websocket_api(
    aws_env: Moto, chat: Path, cli: Callable[..., Run]
) -> None:
    run = cli("deploy", "aws", str(chat), "--prebuilt", "--stage", "wsdry", "--dry-run")
    assert run.code == 0, run.err
    assert run.lines == [line.format(s="wsdry") for line in PLAN]
    assert api_named(aws_env, "chat-wsdry-ws") is None


def test_deploy_makes_the_websocket_api_and_a_streaming_url(
    aws_env: Moto, chat: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = cli("deploy", "aws", str(chat), "--prebuilt", "--stage", "ws")
    assert run.code == 0, run.err
    assert run.plan == [line.format(s="ws") for line in PLAN]
    api = api_named(aws_env, "chat-ws-ws")
    assert api is not None and api["ProtocolType"] == "WEBSOCKET"
    api_id = api["ApiId"]
    # stdout: the wss:// URL, then the Function URL (the last line, as without WebSockets)
    assert run.lines[-2].startswith("wss://") and run.lines[-2].endswith("/ws")
    assert run.lines[-1].startswith("https://")

    v2 = aws_env.client("apigatewayv2")
    [integration] = v2.get_integrations(ApiId=api_id)["Items"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert "function:chat-ws:live/invocations" in integration["IntegrationUri"]
    routes = {r["RouteKey"]: r["Target"] for r in v2.get_routes(ApiId=api_id)["Items"]}
    target = f"integrations/{integration['IntegrationId']}"
    assert routes == {"$connect": target, "$disconnect": target, "$default": target}
    assert v2.get_stage(ApiId=api_id, StageName="ws")["StageName"] == "ws"

    lambda_ = aws_env.client("lambda")
    policy = lambda_.get_policy(FunctionName="chat-ws", Qualifier="live")["Policy"]
    [permission] = [s for s in json.loads(policy)["Statement"] if s["Sid"] == "nitro-websocket"]
    assert permission["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert f":{api_id}/*" in json.dumps(permission["Condition"])
    role_policy = aws_env.client("iam").get_role_policy(
        RoleName="chat-ws-role", PolicyName="nitro-websocket"
    )["PolicyDocument"]
    [statement] = role_policy["Statement"]
    assert statement["Action"] == ["execute-api:ManageConnections"]
    assert statement["Resource"] == [
        f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/ws/*/@connections/*"
    ]  # that API's stage only

    url = lambda_.get_function_url_config(FunctionName="chat-ws", Qualifier="live")
    assert url["InvokeMode"] == "RESPONSE_STREAM"
    variables = lambda_.get_function_configuration(FunctionName="chat-ws")["Environment"][
        "Variables"
    ]
    assert variables["AWS_LAMBDA_EXEC_WRAPPER"] == "/var/task/nitro-runtime"

    again = cli("deploy", "aws", str(chat), "--prebuilt", "--stage", "ws")
    assert again.code == 0, again.err
    assert {line.split()[0] for line in again.plan} == {"unchanged"}, again.plan

    # Streaming off again: the URL goes back to BUFFERED and the wrapper variable goes.
    (chat / "nitro.config.py").write_text(
        "from nitro.config import define_nitro_config\n"
        "config = define_nitro_config(aws_lambda={'websocket': True})\n"
    )
    assert nitro_cli("build", str(chat), "--preset", "aws-lambda", timeout=600).returncode == 0
    updates = url_updates(monkeypatch)
    buffered = cli("deploy", "aws", str(chat), "--prebuilt", "--stage", "ws")
    assert buffered.code == 0, buffered.err
    assert "update function-url chat-ws:live (invoke mode)" in buffered.plan
    # moto 5.2 keeps the invoke mode a URL was created with (its update ignores it):
    # the call is what is checked here.
    assert [u["InvokeMode"] for u in updates] == ["BUFFERED"]
    variables = lambda_.get_function_configuration(FunctionName="chat-ws")["Environment"][
        "Variables"
    ]
    assert "AWS_LAMBDA_EXEC_WRAPPER" not in variables

    removed = cli("undeploy", "aws", str(chat), "--stage", "ws")
    assert removed.code == 0, removed.err
    assert "delete websocket-api chat-ws-ws" in removed.lines
    assert api_named(aws_env, "chat-ws-ws") is None
