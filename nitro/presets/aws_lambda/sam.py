"""The SAM template of an `aws-lambda` build (``.output/template.yaml``).

Written from `aws.resources.describe`, the description `nitro deploy aws` deploys, so
the two make the same app: the function ``{name}-${Stage}`` (code ``aws-lambda.zip``,
handler ``index.handler``) published behind the alias ``live``; its role with the one
inline policy ``nitro`` (its logs, the data table, the S3 buckets and DynamoDB tables of
the storage mounts; no managed policy); a Function URL on the alias (auth `url_auth`);
the data table ``{name}-${Stage}-data`` only while the `data` mount is the default,
(the policy also lets it read the SSM parameters of its ``{{secret:NAME}}`` values),
kept when the stack is deleted or replaced (``DeletionPolicy``/``UpdateReplacePolicy:
Retain``, as `nitro undeploy aws` keeps it without ``--delete-data``); one EventBridge
rule per cron, one target per task on the alias. With ``websocket``: the WebSocket API
(routes ``$connect``, ``$disconnect``, ``$default`` to the alias, an auto-deployed
stage ``${Stage}``, the permission for API Gateway to invoke the alias from it) and a
second role policy ``nitro-websocket`` that manages that API stage's connections
only; output ``WebSocketUrl``. With ``streaming``: the Function URL's ``InvokeMode``
is ``RESPONSE_STREAM`` (the wrapper variable is in the environment).

The function's environment is ``aws_lambda["environment"]``, the data table's name, and
one template parameter per ``{{NITRO_*}}`` variable the config's storage or database
options use (``{{NITRO_UPLOADS}}`` -> parameter ``EnvNitroUploads``): `nitro deploy
aws` passes every ``NITRO_*`` variable of its environment, `sam deploy` takes them
with ``--parameter-overrides`` (nitro.json's deploy command lists them).

Deploy with ``sam deploy --template-file .output/template.yaml --stack-name NAME
--capabilities CAPABILITY_IAM --resolve-s3`` (SAM uploads the zip).
SAM: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-function.html
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ...config import NitroConfig
from ...core.manifest import Schedule
from ...runtime.secrets import production_secrets
from .deploy.names import STAGE_PATTERN, Names
from .deploy.resources import Resources, describe

__all__ = ["template", "template_environment", "write_template"]

FUNCTION, ROLE, TABLE = "NitroFunction", "NitroRole", "NitroData"
_NITRO_REF = re.compile(r"\{\{\s*(NITRO_[A-Za-z0-9_]*)\s*\}\}")
_VARIABLE = re.compile(r"\$\{(?!!)")
_WHOLE_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)\}")


def template_environment(
    options_env: Mapping[str, str], config: NitroConfig
) -> tuple[dict[str, str], dict[str, str]]:
    """The function's environment as ``Fn::Sub`` text, and the template's parameters
    (parameter -> the variable it sets): ``aws_lambda["environment"]`` as written,
    and a parameter for each ``{{NITRO_*}}`` of the storage and database options
    that it does not set."""
    environment = {k: v.replace("${", "${!") for k, v in options_env.items()}
    parameters: dict[str, str] = {}
    for variable in sorted(_nitro_refs([config.storage, config.database])):
        if variable in environment:
            continue
        parameter = _parameter_name(variable, parameters)
        parameters[parameter] = variable
        environment[variable] = f"${{{parameter}}}"
    return environment, parameters


def _nitro_refs(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(_NITRO_REF.findall(value))
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(_nitro_refs(item) for item in value))
    return set()


def _parameter_name(variable: str, taken: Mapping[str, str]) -> str:
    """``NITRO_UPLOADS_BUCKET`` -> ``EnvNitroUploadsBucket`` (alphanumeric, as
    CloudFormation asks; a digest keeps two variables that read alike apart)."""
    name = "Env" + "".join(part.capitalize() for part in variable.split("_"))
    if name in taken:
        name += hashlib.sha256(variable.encode()).hexdigest()[:6]
    return name


def _sub(text: str) -> Any:
    """`text` (``Fn::Sub`` syntax) as the template writes it: a plain string when it
    has no variable (``${!x}`` is the literal ``${x}``), a ``Ref`` when it is one
    variable, else ``Fn::Sub``."""
    if not _VARIABLE.search(text):
        return text.replace("${!", "${")
    whole = _WHOLE_VARIABLE.fullmatch(text)
    return {"Ref": whole.group(1)} if whole else {"Fn::Sub": text}


def _subs(value: Any) -> Any:
    """`_sub` on every string of a policy document."""
    if isinstance(value, str):
        return _sub(value)
    if isinstance(value, list):
        return [_subs(item) for item in value]
    if isinstance(value, dict):
        return {key: _subs(item) for key, item in value.items()}
    return value


def template(resources: Resources, parameters: Mapping[str, str]) -> dict[str, Any]:
    """The template as data (CloudFormation's long-form intrinsics: ``Fn::Sub``, ``Ref``)."""
    names, function, table = resources.names, resources.function, resources.table
    tags = {tag["Key"]: _sub(tag["Value"]) for tag in names.tags}
    tag_list = [{"Key": tag["Key"], "Value": _sub(tag["Value"])} for tag in names.tags]

    def value(text: str) -> Any:
        # The table's name by Ref: CloudFormation then makes the table before the function.
        return {"Ref": TABLE} if table is not None and text == table.name else _sub(text)

    properties: dict[str, Any] = {
        "FunctionName": _sub(function.name),
        "Description": _sub(function.description),
        "CodeUri": "aws-lambda.zip",
        "Handler": function.handler,
        "Runtime": function.runtime,
        "Architectures": [function.architecture],
        "MemorySize": function.memory,
        "Timeout": function.timeout,
        "Role": {"Fn::GetAtt": [ROLE, "Arn"]},
        "AutoPublishAlias": names.alias,
        "FunctionUrlConfig": {"AuthType": resources.url_auth},
        "Tags": tags,
    }
    if resources.invoke_mode != "BUFFERED":
        properties["FunctionUrlConfig"]["InvokeMode"] = resources.invoke_mode
    if function.environment:
        variables = {key: value(text) for key, text in function.environment.items()}
        properties["Environment"] = {"Variables": variables}
    role = resources.role
    out: dict[str, Any] = {
        FUNCTION: {"Type": "AWS::Serverless::Function", "Properties": properties},
        # The role is named by CloudFormation (so CAPABILITY_IAM, not _NAMED_IAM, does).
        ROLE: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": _sub(role.description),
                "AssumeRolePolicyDocument": role.trust_policy,
                "Policies": [
                    {"PolicyName": role.policy_name, "PolicyDocument": _subs(role.policy)}
                ],
                "Tags": tag_list,
            },
        },
    }
    if table is not None:
        retain = "Retain" if table.retain else "Delete"
        out[TABLE] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": retain,
            "UpdateReplacePolicy": retain,
            "Properties": {
                "TableName": _sub(table.name),
                "BillingMode": table.billing_mode,
                "AttributeDefinitions": table.attribute_definitions,
                "KeySchema": table.key_schema,
                "TimeToLiveSpecification": {"AttributeName": table.ttl_attribute, "Enabled": True},
                "Tags": tag_list,
            },
        }
    alias = {"Ref": f"{FUNCTION}.Alias"}
    for index, rule in enumerate(resources.rules):
        # Unnamed: a name with the stage could pass EventBridge's 64 characters, which
        # `nitro deploy aws` shortens knowing the stage; every target carries its task.
        logical = f"NitroCron{index}"
        out[logical] = {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": rule.description,
                "ScheduleExpression": rule.expression,
                "State": "ENABLED",
                "Targets": rule.targets(alias),
                "Tags": tag_list,
            },
        }
        out[f"{logical}Permission"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": alias,
                "Action": "lambda:InvokeFunction",
                "Principal": "events.amazonaws.com",
                "SourceArn": {"Fn::GetAtt": [logical, "Arn"]},
            },
        }
    outputs: dict[str, Any] = {
        "FunctionUrl": {"Value": {"Fn::GetAtt": [f"{FUNCTION}Url", "FunctionUrl"]}},
        "FunctionName": {"Value": {"Ref": FUNCTION}},
    }
    if table is not None:
        outputs["DataTable"] = {"Value": {"Ref": TABLE}}
    if resources.websocket:
        out.update(_websocket(resources, alias, tag_list))
        policies = out[ROLE]["Properties"]["Policies"]
        policies.append({"PolicyName": names.websocket_policy, "PolicyDocument": _WS_POLICY})
        outputs["WebSocketUrl"] = {"Value": {"Fn::Sub": _WSS_URL}}
    stage = {
        "Type": "String",
        "Default": "prod",
        "AllowedPattern": STAGE_PATTERN,
        "Description": "the stage, as nitro deploy aws --stage: names end with it",
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"{names.project}: a nitro app (generated by nitro build --preset aws-lambda)",
        "Parameters": {
            "Stage": stage,
            **{
                parameter: {"Type": "String", "Description": f"the function's {variable}"}
                for parameter, variable in parameters.items()
            },
        },
        "Resources": out,
        "Outputs": outputs,
    }


WEBSOCKET = "NitroWebSocket"
_WSS_URL = f"wss://${{{WEBSOCKET}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/${{Stage}}"
_WS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "WebSocketConnections",
            "Effect": "Allow",
            "Action": ["execute-api:ManageConnections"],
            "Resource": [
                {
                    "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                    f"${{{WEBSOCKET}}}/${{Stage}}/*/@connections/*"
                }
            ],
        }
    ],
}


def _websocket(resources: Resources, alias: Any, tags: list[dict[str, Any]]) -> dict[str, Any]:
    """The WebSocket API, as `deploy.websocket` makes it."""
    api = {"Ref": WEBSOCKET}
    integration = f"{WEBSOCKET}Integration"
    uri = {
        "Fn::Join": [
            "",
            [
                "arn:", {"Ref": "AWS::Partition"}, ":apigateway:", {"Ref": "AWS::Region"},
                ":lambda:path/2015-03-31/functions/", alias, "/invocations",
            ],
        ]
    }  # fmt: skip
    out: dict[str, Any] = {
        WEBSOCKET: {
            "Type": "AWS::ApiGatewayV2::Api",
            "Properties": {
                "Name": _sub(resources.names.websocket_api),
                "ProtocolType": "WEBSOCKET",
                "RouteSelectionExpression": "$request.body.action",
                "Tags": {tag["Key"]: tag["Value"] for tag in tags},
            },
        },
        integration: {
            "Type": "AWS::ApiGatewayV2::Integration",
            "Properties": {"ApiId": api, "IntegrationType": "AWS_PROXY", "IntegrationUri": uri},
        },
    }
    routes = []
    for key, logical in (
        ("$connect", "Connect"),
        ("$disconnect", "Disconnect"),
        ("$default", "Default"),
    ):
        routes.append(f"{WEBSOCKET}{logical}Route")
        out[routes[-1]] = {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": {
                "ApiId": api,
                "RouteKey": key,
                "Target": {"Fn::Join": ["/", ["integrations", {"Ref": integration}]]},
            },
        }
    out[f"{WEBSOCKET}Stage"] = {
        "Type": "AWS::ApiGatewayV2::Stage",
        "DependsOn": routes,
        "Properties": {"ApiId": api, "StageName": {"Ref": "Stage"}, "AutoDeploy": True},
    }
    out[f"{WEBSOCKET}Permission"] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "FunctionName": alias,
            "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                f"${{{WEBSOCKET}}}/*"
            },
        },
    }
    return out


def write_template(
    path: Path,
    project: str,
    options: Mapping[str, Any],
    schedules: Sequence[Schedule],
    config: NitroConfig,
    log: Callable[[str], None],
) -> dict[str, str]:
    """Write the template of `project`; returns its parameters (parameter -> variable)."""
    environment, parameters = template_environment(options["environment"], config)
    names = Names.for_template(project)
    secrets = sorted(production_secrets(config))  # a preset's default mounts name none
    resources = describe(names, options, schedules, config.storage, environment, log, secrets)
    header = "# Generated by `nitro build --preset aws-lambda`. Deploy: see nitro.json.\n"
    path.write_text(header + to_yaml(template(resources, parameters)), encoding="utf-8")
    return parameters


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.]+(::[A-Za-z0-9_.]+)*")  # Resources, Fn::Sub, ...


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts, lists and scalars; every string double-quoted as JSON
    (a JSON string is a valid YAML double-quoted scalar), so nothing is misread; keys
    too, but for names and intrinsics (``Fn::Sub``)."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}\n"
        lines = []
        for raw, item in value.items():
            key = raw if _PLAIN_KEY.fullmatch(raw) else json.dumps(raw)
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:\n{to_yaml(item, indent + 1)}")
            else:
                lines.append(f"{pad}{key}: {to_yaml(item, indent + 1)}")
        return "".join(lines)
    if isinstance(value, list):
        if not value:
            return "[]\n"
        lines = []
        for item in value:
            text = to_yaml(item, indent + 1)
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}- {text.lstrip()}")
            else:
                lines.append(f"{pad}- {text}")
        return "".join(lines)
    return json.dumps(value) + "\n"
