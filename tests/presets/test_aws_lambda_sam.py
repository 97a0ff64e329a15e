"""The SAM template (``.output/template.yaml``) of real builds: valid for cfn-lint, as
written and as the SAM transform turns it into CloudFormation, for every kind of
project; and the same deployment as `nitro deploy aws` (the role's statements, the
function's environment, the data table, the rules), checked against a deploy to moto.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from _aws_deploy import Run, write_project
from storage_drivers.backends._moto import Moto

from helpers import FIXTURE, REPO, nitro_cli

pytestmark = pytest.mark.slow

UPLOADS = {"driver": "s3", "bucket": "{{NITRO_UPLOADS}}"}
PROJECTS: dict[str, dict[str, Any] | None] = {
    "fixture": None,  # tests/fixture: the default data table, one schedule
    "s3-data": {
        "storage": {
            "data": {"driver": "s3", "bucket": "{{NITRO_DATA_BUCKET}}"},
            "uploads": UPLOADS,
        },
    },
    "dynamodb-data": {
        "storage": {
            "data": {"driver": "dynamodb", "table": "{{NITRO_DATA_TABLE}}", "create_table": True}
        },
    },
    "no-data": {"storage": {"data": {"driver": "memory"}}},
    "secrets": {
        "storage": {
            "data": {"driver": "memory"},
            "cache": {"driver": "redis", "url": "redis://:{{secret:/shop/redis-password}}@r:6379"},
            "uploads": {"driver": "s3", "bucket": "shop-up", "access_key_id": "{{secret:up-key}}"},
        }
    },
    "schedules": {
        "schedule": {
            "*/5 * * * *": ["cms:update"],
            "0 3 * * 1-5": ["db:cleanup", "report", "mail:digest"],
            "@daily": ["report"],
        },
        "options": {"url_auth": "AWS_IAM", "environment": {"LOG_LEVEL": "debug", "RAW": "${x}"}},
    },
}
LINT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


@dataclass
class Built:
    kind: str  # a key of PROJECTS
    root: Path

    @property
    def app(self) -> str:
        return "fixture" if self.kind == "fixture" else "shop"  # [project].name


@pytest.fixture(scope="module", params=list(PROJECTS))
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Each project, built with the aws-lambda preset by the CLI."""
    name = request.param
    project = PROJECTS[name]
    root = tmp_path_factory.mktemp(name) / "shop"
    if project is None:
        shutil.copytree(FIXTURE, root)
    else:
        schedule = project.get("schedule", {})
        write_project(root, schedule, project.get("options", {}), project.get("storage"))
    result = nitro_cli("build", str(root), "--preset", "aws-lambda", timeout=600)
    assert result.returncode == 0, result.stderr
    return Built(name, root)


def template_of(root: Path) -> dict[str, Any]:
    return yaml.safe_load((root / ".output" / "template.yaml").read_text())


def problems(text: str) -> list[str]:
    """cfn-lint's errors and warnings (experimental rules too) for a template."""
    from cfnlint.api import lint
    from cfnlint.config import ManualArgs

    config = ManualArgs(regions=LINT_REGIONS, include_experimental=True)
    return [
        f"{m.rule.id} {m.message} (line {m.linenumber})"
        for m in lint(text, config=config)
        if m.rule.severity in ("error", "warning")
    ]


def transformed(template: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation the SAM transform makes of `template`, as `sam deploy` hands
    it over: the zip uploaded (CodeUri an S3 location)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    packaged = json.loads(json.dumps(template))
    packaged["Resources"]["NitroFunction"]["Properties"]["CodeUri"] = "s3://artifacts/app.zip"
    session = boto3.session.Session(region_name="us-east-1")  # the transform's pseudo parameters
    translator = Translator({}, Parser(), boto_session=session)
    return dict(translator.translate(sam_template=packaged, parameter_values={}))


@pytest.fixture(scope="module")
def mounted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default data table, an S3 mount named by a variable (with a key that is a
    secret), a DynamoDB mount the app creates itself, two schedules."""
    storage = {
        "uploads": {**UPLOADS, "secret_access_key": "{{secret:/shop/uploads-key}}"},
        "sessions": {"driver": "dynamodb", "table": "shop-sessions", "create_table": True},
    }
    schedule = {"*/5 * * * *": ["cms:update"], "0 3 * * *": ["db:cleanup", "report"]}
    options = {"memory": 512, "environment": {"LOG_LEVEL": "info"}}
    root = write_project(tmp_path_factory.mktemp("mounted") / "shop", schedule, options, storage)
    result = nitro_cli("build", str(root), "--preset", "aws-lambda", timeout=600)
    assert result.returncode == 0, result.stderr
    return root


def test_the_template_passes_cfn_lint(built: Built) -> None:
    text = (built.root / ".output" / "template.yaml").read_text()
    assert problems(text) == []
    cloudformation = transformed(yaml.safe_load(text))
    assert cloudformation["Resources"]["NitroFunctionAliaslive"]["Type"] == "AWS::Lambda::Alias"
    assert problems(json.dumps(cloudformation, indent=1)) == []


def test_the_lint_fails_on_a_broken_template(mounted: Path) -> None:
    """The check above can fail: cfn-lint sees a bad property as written, and (only
    after the transform) a reference to a resource SAM no longer makes."""
    template = template_of(mounted)
    template["Resources"]["NitroFunction"]["Properties"]["MemorySize"] = "lots"
    assert any(p.startswith("E3012") for p in problems(json.dumps(template)))
    template = template_of(mounted)
    del template["Resources"]["NitroFunction"]["Properties"]["FunctionUrlConfig"]
    assert problems(json.dumps(template)) == []
    found = problems(json.dumps(transformed(template)))
    assert any("NitroFunctionUrl" in p for p in found), found


def test_what_the_template_makes(built: Built) -> None:
    template = template_of(built.root)
    resources = template["Resources"]
    function = resources["NitroFunction"]["Properties"]
    statements = resources["NitroRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    variables = function.get("Environment", {}).get("Variables", {})
    info = json.loads((built.root / ".output" / "nitro.json").read_text())
    deploy = info["commands"]["deploy"]
    # Only the function's own role: no managed policy, no SAM policy templates.
    assert function["Role"] == {"Fn::GetAtt": ["NitroRole", "Arn"]} and "Policies" not in function
    assert "ManagedPolicyArns" not in resources["NitroRole"]["Properties"]
    assert function["Tags"] == {"nitro:project": built.app, "nitro:stage": {"Ref": "Stage"}}
    assert by_sid["Logs"]["Resource"][0] == {
        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
        f":log-group:/aws/lambda/{built.app}-${{Stage}}"
    }
    name = built.kind
    if name in ("fixture", "schedules"):
        # The default data mount: the app's table, kept when the stack goes.
        table = resources["NitroData"]
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
        assert variables["NITRO_DYNAMODB_TABLE"] == {"Ref": "NitroData"}
        assert by_sid["Data"]["Resource"] == [
            {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}"
             f":table/{built.app}-${{Stage}}-data"}
        ]  # fmt: skip
        assert template["Outputs"]["DataTable"] == {"Value": {"Ref": "NitroData"}}
    else:
        # `data` is configured: no table nobody uses.
        assert "NitroData" not in resources and "DataTable" not in template["Outputs"]
        assert "NITRO_DYNAMODB_TABLE" not in variables
    if name == "s3-data":
        assert list(by_sid) == ["Logs", "Buckets", "Objects"]
        assert by_sid["Buckets"]["Resource"] == [
            {"Fn::Sub": "arn:${AWS::Partition}:s3:::${EnvNitroDataBucket}"},
            {"Fn::Sub": "arn:${AWS::Partition}:s3:::${EnvNitroUploads}"},
        ]
        assert by_sid["Objects"]["Resource"][0] == {
            "Fn::Sub": "arn:${AWS::Partition}:s3:::${EnvNitroDataBucket}/*"
        }
        assert variables["NITRO_DATA_BUCKET"] == {"Ref": "EnvNitroDataBucket"}
        assert set(template["Parameters"]) == {"Stage", "EnvNitroDataBucket", "EnvNitroUploads"}
        assert deploy.endswith(
            ' --parameter-overrides EnvNitroDataBucket="$NITRO_DATA_BUCKET"'
            ' EnvNitroUploads="$NITRO_UPLOADS"'
        )
    if name == "dynamodb-data":
        assert list(by_sid) == ["Logs", "Data", "TableSetup"]
        table = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}"
                 ":table/${EnvNitroDataTable}"}  # fmt: skip
        assert by_sid["Data"]["Resource"] == by_sid["TableSetup"]["Resource"] == [table]
        assert "dynamodb:CreateTable" in by_sid["TableSetup"]["Action"]
    if name == "secrets":
        assert list(by_sid) == ["Logs", "Buckets", "Objects", "Secrets", "SecretKeys"]
        parameters = [
            {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
             ":parameter/shop/redis-password"},
            {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
             ":parameter/up-key"},
        ]  # fmt: skip
        assert by_sid["Secrets"]["Action"] == ["ssm:GetParameter", "ssm:GetParameters"]
        assert by_sid["Secrets"]["Resource"] == parameters
        assert by_sid["SecretKeys"]["Condition"] == {
            "StringEquals": {
                "kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.${AWS::URLSuffix}"},
                "kms:EncryptionContext:PARAMETER_ARN": parameters,
            }
        }
        # No parameter for a secret: the function reads it where it runs.
        assert set(template["Parameters"]) == {"Stage"} and variables == {}
    if name == "no-data":
        assert list(by_sid) == ["Logs"] and variables == {}
        assert set(template["Parameters"]) == {"Stage"} and "--parameter-overrides" not in deploy
    if name == "schedules":
        assert function["FunctionUrlConfig"] == {"AuthType": "AWS_IAM"}
        # A value is written as it is, never read as a variable.
        assert variables["RAW"] == "${x}" and variables["LOG_LEVEL"] == "debug"
        rules = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
        assert sorted(r["ScheduleExpression"] for r in rules) == [
            "cron(0 0 * * ? *)",
            "cron(0 3 ? * MON-FRI *)",
            "cron(0/5 * * * ? *)",
        ]
        weekdays = next(r for r in rules if r["ScheduleExpression"] == "cron(0 3 ? * MON-FRI *)")
        assert [json.loads(t["Input"]) for t in weekdays["Targets"]] == [
            {"nitro:task": "db:cleanup", "nitro:cron": "0 3 * * 1-5"},
            {"nitro:task": "report", "nitro:cron": "0 3 * * 1-5"},
            {"nitro:task": "mail:digest", "nitro:cron": "0 3 * * 1-5"},
        ]
        assert all(t["Arn"] == {"Ref": "NitroFunction.Alias"} for t in weekdays["Targets"])


# --- the template and `nitro deploy aws`: one deployment ---


def render(value: Any, variables: dict[str, str]) -> Any:
    """The template's ``Fn::Sub`` and ``Ref`` with the values CloudFormation gives them."""
    if isinstance(value, list):
        return [render(item, variables) for item in value]
    if not isinstance(value, dict):
        return value
    if list(value) == ["Ref"]:
        return variables[value["Ref"]]
    if list(value) == ["Fn::Sub"]:
        text = re.sub(r"\$\{([^!}][^}]*)\}", lambda m: variables[m.group(1)], value["Fn::Sub"])
        return text.replace("${!", "${")
    return {key: render(item, variables) for key, item in value.items()}


def as_set(statements: list[dict[str, Any]]) -> set[str]:
    return {json.dumps(s, sort_keys=True) for s in statements}


def test_the_template_and_the_deploy_are_one_deployment(
    aws_env: Moto,
    mounted: Path,
    cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NITRO_UPLOADS", "shop-uploads")
    run = cli("deploy", "aws", str(mounted), "--prebuilt", "--stage", "same")
    assert run.code == 0, run.err
    iam, lam = aws_env.client("iam"), aws_env.client("lambda")
    account = aws_env.client("sts").get_caller_identity()["Account"]
    template = template_of(mounted)
    resources = template["Resources"]
    variables = {
        "Stage": "same",
        "AWS::Partition": "aws",
        "AWS::Region": aws_env.region,
        "AWS::AccountId": account,
        "AWS::URLSuffix": "amazonaws.com",
        "NitroData": "shop-same-data",  # the table's Ref: its name
        "EnvNitroUploads": "shop-uploads",  # --parameter-overrides, from NITRO_UPLOADS
    }
    assert set(template["Parameters"]) == {"Stage", "EnvNitroUploads"}

    # The role: the same trust, the same statements, nothing else attached.
    role = resources["NitroRole"]["Properties"]
    [policy] = role["Policies"]
    deployed = iam.get_role_policy(RoleName="shop-same-role", PolicyName=policy["PolicyName"])
    wanted = render(policy["PolicyDocument"], variables)
    assert as_set(wanted["Statement"]) == as_set(deployed["PolicyDocument"]["Statement"])
    assert {s["Sid"] for s in wanted["Statement"]} == {
        "Logs", "Data", "TableSetup", "Buckets", "Objects", "Secrets", "SecretKeys"
    }  # fmt: skip
    trust = iam.get_role(RoleName="shop-same-role")["Role"]["AssumeRolePolicyDocument"]
    assert role["AssumeRolePolicyDocument"] == trust
    assert iam.list_attached_role_policies(RoleName="shop-same-role")["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName="shop-same-role")["PolicyNames"] == ["nitro"]
    assert "ManagedPolicyArns" not in role

    # The function: the same settings and environment.
    function = render(resources["NitroFunction"]["Properties"], variables)
    config = lam.get_function_configuration(FunctionName="shop-same")
    assert (
        function["Environment"]["Variables"]
        == config["Environment"]["Variables"]
        == {
            "LOG_LEVEL": "info",
            "NITRO_DYNAMODB_TABLE": "shop-same-data",
            "NITRO_UPLOADS": "shop-uploads",
        }
    )
    assert function["FunctionName"] == config["FunctionName"]
    for key in ("Runtime", "Handler", "MemorySize", "Timeout", "Architectures"):
        assert function[key] == config[key], key
    assert function["Description"] == config["Description"]
    url = lam.get_function_url_config(FunctionName="shop-same", Qualifier="live")
    assert function["FunctionUrlConfig"]["AuthType"] == url["AuthType"]

    # The data table: the same one, which the template keeps as undeploy does.
    table = render(resources["NitroData"], variables)
    described = aws_env.client("dynamodb").describe_table(TableName="shop-same-data")["Table"]
    assert table["Properties"]["TableName"] == described["TableName"]
    assert table["Properties"]["KeySchema"] == described["KeySchema"]
    assert table["DeletionPolicy"] == "Retain"

    # The rules: the same schedules, descriptions and task inputs.
    events = aws_env.client("events")
    rules = events.list_rules(NamePrefix="shop-same-cron-")["Rules"]

    def schedules(found: list[dict[str, Any]], targets: Callable[[dict[str, Any]], Any]) -> Any:
        return sorted(
            (r["ScheduleExpression"], r["Description"], [t["Input"] for t in targets(r)])
            for r in found
        )

    in_template = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    assert schedules(in_template, lambda r: r["Targets"]) == schedules(
        rules, lambda r: events.list_targets_by_rule(Rule=r["Name"])["Targets"]
    )
    assert len(rules) == 2


def test_websocket_and_streaming_in_the_template(tmp_path: Path) -> None:
    """examples/chat (``websocket`` and ``streaming``): the WebSocket API, its routes,
    stage and permission; the role's policy on that API's connections; a streaming
    Function URL whose environment starts nitro's runtime loop. Valid for cfn-lint, as
    written and as SAM transforms it."""
    root = tmp_path / "chat"
    shutil.copytree(REPO / "examples" / "chat", root)
    result = nitro_cli("build", str(root), "--preset", "aws-lambda", timeout=600)
    assert result.returncode == 0, result.stderr
    text = (root / ".output" / "template.yaml").read_text()
    assert problems(text) == []
    template = yaml.safe_load(text)
    resources = template["Resources"]
    function = resources["NitroFunction"]["Properties"]
    assert function["FunctionUrlConfig"] == {"AuthType": "NONE", "InvokeMode": "RESPONSE_STREAM"}
    assert function["Environment"]["Variables"]["AWS_LAMBDA_EXEC_WRAPPER"] == (
        "/var/task/nitro-runtime"
    )
    assert resources["NitroWebSocket"]["Properties"]["ProtocolType"] == "WEBSOCKET"
    keys = sorted(
        r["Properties"]["RouteKey"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
    )
    assert keys == ["$connect", "$default", "$disconnect"]
    permission = resources["NitroWebSocketPermission"]["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["FunctionName"] == {"Ref": "NitroFunction.Alias"}
    policies = {
        p["PolicyName"]: p["PolicyDocument"]
        for p in resources["NitroRole"]["Properties"]["Policies"]
    }
    [statement] = policies["nitro-websocket"]["Statement"]
    assert statement["Action"] == ["execute-api:ManageConnections"]
    assert "${NitroWebSocket}/${Stage}/*/@connections/*" in statement["Resource"][0]["Fn::Sub"]
    assert "WebSocketUrl" in template["Outputs"]
    cloudformation = transformed(template)
    assert problems(json.dumps(cloudformation, indent=1)) == []
