"""What an aws-lambda app is on AWS: one description, written two ways.

`describe` turns what the build recorded (the `aws_lambda` options, the schedules) and
the config's storage mounts into `Resources`:

| resource | what |
|---|---|
| function ``{name}-{stage}`` | the zip, handler ``index.handler``, versions behind the alias ``live`` |
| role, inline policy ``nitro`` | trusted by Lambda; its logs, the data table, the storage mounts' buckets and tables, the SSM parameters of its ``{{secret:NAME}}`` values |
| Function URL | on the alias; auth ``NONE`` (public, the default) or ``AWS_IAM`` |
| data table ``{name}-{stage}-data`` | only while the `data` mount is the default; kept when the app is removed |
| EventBridge rule per cron | one target per task on the alias, input ``{"nitro:task": name, "nitro:cron": cron}`` |
| WebSocket API ``{name}-{stage}-ws`` | with ``websocket``: routes ``$connect``, ``$disconnect``, ``$default`` to the alias, stage ``{stage}``; the role may manage that API's connections only |

With ``streaming`` the Function URL's invoke mode is ``RESPONSE_STREAM`` and the
function's ``AWS_LAMBDA_EXEC_WRAPPER`` starts nitro's runtime loop (`EXEC_WRAPPER`).

The SAM template (`aws_lambda_sam`, written by the build) and `nitro deploy aws`
(`spec.load_spec`) are both made from it, so they cannot disagree on what the function
may do, what is made, or what is kept. They differ only in what they pass in: the
deploy its `Names` and the function's environment; the template `Names.for_template`
and its parameters, as CloudFormation ``Fn::Sub`` text (``shop-${Stage}``)::

    resources = describe(names, options, schedules, config.storage, environment, log)
    resources.policy["Statement"][0]["Sid"]  # 'Logs'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ....config import ConfigError
from ....config.env import resolve_env_refs
from ....core.manifest import Schedule
from .names import Names

__all__ = [
    "DATA_TABLE_ACTIONS",
    "EXEC_WRAPPER",
    "HANDLER",
    "TRUST_POLICY",
    "WEBSOCKET_ACTIONS",
    "DataTable",
    "Function",
    "Grant",
    "Resources",
    "Role",
    "Rule",
    "Statement",
    "describe",
    "storage_grants",
]

HANDLER = "index.handler"
# The build's wrapper script (aws_lambda streaming): it starts nitro's runtime loop.
EXEC_WRAPPER = "/var/task/nitro-runtime"
# What peer.send and peer.close call (post_to_connection, delete_connection), on the
# app's own WebSocket API and stage only.
WEBSOCKET_ACTIONS = ("execute-api:ManageConnections",)
TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
# What the dynamodb driver calls on a table it uses: the role gets these only.
DATA_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:Scan",
    "dynamodb:BatchWriteItem",
)
# ... and on a table it creates itself (`create_table=True`).
TABLE_SETUP_ACTIONS = (
    "dynamodb:CreateTable",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:UpdateTimeToLive",
)
# What the aws-ssm secret store calls: GetParameters (GetParameter for code that
# reads one itself), on the parameters the config names only.
SECRET_ACTIONS = ("ssm:GetParameter", "ssm:GetParameters")
S3_BUCKET_ACTIONS = ("s3:ListBucket",)
S3_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
# The option naming a mount's AWS resource, per driver.
STORAGE_RESOURCE = {"s3": "bucket", "dynamodb": "table"}


@dataclass(frozen=True)
class Grant:
    """A storage resource the function's role may use: an S3 bucket or a DynamoDB table."""

    driver: str  # "s3" | "dynamodb"
    resource: str  # the bucket or table name
    create_table: bool = False


@dataclass(frozen=True)
class Statement:
    """One ``Allow`` statement of the role's policy."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    """(operator, key, values): ``("StringEquals", "kms:ViaService", ("ssm...",))``."""

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": list(self.actions),
            "Resource": list(self.resources),
        }
        if self.conditions:
            condition: dict[str, dict[str, Any]] = {}
            for operator, key, values in self.conditions:
                condition.setdefault(operator, {})[key] = (
                    values[0] if len(values) == 1 else list(values)
                )
            document["Condition"] = condition
        return document


@dataclass(frozen=True)
class Function:
    name: str
    description: str
    runtime: str
    architecture: str
    memory: int
    timeout: int
    environment: dict[str, str]
    handler: str = HANDLER


@dataclass(frozen=True)
class Role:
    """The function's role: trusted by Lambda, one inline policy, no managed policy
    (``AWSLambdaBasicExecutionRole`` would allow every log group of the account)."""

    name: str
    description: str
    policy_name: str
    statements: tuple[Statement, ...]

    @property
    def trust_policy(self) -> dict[str, Any]:
        return TRUST_POLICY

    @property
    def policy(self) -> dict[str, Any]:
        """The inline policy document."""
        return {"Version": "2012-10-17", "Statement": [s.document() for s in self.statements]}


@dataclass(frozen=True)
class DataTable:
    """The DynamoDB table behind the default `data` mount (the dynamodb driver's
    defaults: partition key ``key``, TTL on ``expires``, on-demand).

    `retain`: the app's data outlives the app. `nitro undeploy aws` keeps the table
    unless given ``--delete-data``; the SAM template sets ``DeletionPolicy: Retain``
    (and ``UpdateReplacePolicy``), so deleting the stack keeps it too.
    """

    name: str
    key: str = "key"
    ttl_attribute: str = "expires"
    billing_mode: str = "PAY_PER_REQUEST"
    retain: bool = True

    @property
    def key_schema(self) -> list[dict[str, str]]:
        return [{"AttributeName": self.key, "KeyType": "HASH"}]

    @property
    def attribute_definitions(self) -> list[dict[str, str]]:
        return [{"AttributeName": self.key, "AttributeType": "S"}]


@dataclass(frozen=True)
class Rule:
    """The EventBridge rule of one cron of `scheduled_tasks`."""

    cron: str
    expression: str  # cron(...), as the build translated it
    tasks: tuple[str, ...]

    @property
    def description(self) -> str:
        return f"nitro scheduled_tasks {self.cron!r}: {', '.join(self.tasks)}"[:512]

    def targets(self, alias_arn: Any) -> list[dict[str, Any]]:
        """One target per task, each invoking the alias with ``{"nitro:task": name,
        "nitro:cron": cron}``: that task of this cron's tick (its own invocation, timeout
        and retries), run by the schedule's rule (``app.tasks.run_scheduled``)."""
        return [
            {
                "Id": f"task{position}",
                "Arn": alias_arn,
                "Input": json.dumps({"nitro:task": task, "nitro:cron": self.cron}),
            }
            for position, task in enumerate(self.tasks)
        ]


@dataclass(frozen=True)
class Resources:
    names: Names
    function: Function
    role: Role
    url_auth: str  # "NONE" | "AWS_IAM"
    table: DataTable | None  # None: `data` is a configured mount, not the app's own table
    rules: tuple[Rule, ...]
    grants: tuple[Grant, ...]
    secrets: tuple[str, ...] = ()
    """The SSM parameters the config's ``{{secret:NAME}}`` values name."""
    websocket: bool = False
    """An API Gateway WebSocket API serves the app's WebSocket routes."""
    invoke_mode: str = "BUFFERED"
    """The Function URL's: ``RESPONSE_STREAM`` with ``streaming``."""

    @property
    def policy(self) -> dict[str, Any]:
        return self.role.policy


def describe(
    names: Names,
    options: Mapping[str, Any],
    schedules: Sequence[Schedule],
    storage: Mapping[str, Mapping[str, Any]],
    environment: Mapping[str, str],
    log: Callable[[str], None],
    secrets: Sequence[str] = (),
) -> Resources:
    """The app's resources. `options`: the build's `aws_lambda` options (`runtime`,
    `architecture`, `memory`, `timeout`, `url_auth`); `schedules`: the ones the build
    recorded (its manifest's `preset`); `environment`: the function's variables but the data
    table's (``{{VAR}}`` in a mount's bucket or table resolves from it); `secrets`: the
    SSM parameters the app reads at start-up (`nitro.runtime.secrets`)."""
    table = DataTable(names.table) if "data" not in storage else None
    owned = {"NITRO_DYNAMODB_TABLE": table.name} if table is not None else {}
    streaming = bool(options.get("streaming"))
    if streaming:
        owned["AWS_LAMBDA_EXEC_WRAPPER"] = EXEC_WRAPPER
    variables = dict(sorted({**environment, **owned}.items()))
    grants = storage_grants(storage, variables, log)
    parameters = tuple(sorted(set(secrets)))
    function = Function(
        name=names.function,
        description=f"nitro: {names.literal(names.project)} ({names.stage})",
        runtime=str(options["runtime"]),
        architecture=str(options["architecture"]),
        memory=int(options["memory"]),
        timeout=int(options["timeout"]),
        environment=variables,
    )
    role = Role(
        name=names.role,
        description=f"nitro: the Lambda function {names.function}",
        policy_name=names.policy,
        statements=role_statements(names, table, grants, parameters),
    )
    rules = tuple(Rule(s.cron, s.expression, s.tasks) for s in schedules)
    url_auth = str(options.get("url_auth", "NONE"))
    return Resources(
        names,
        function,
        role,
        url_auth,
        table,
        rules,
        grants,
        parameters,
        websocket=bool(options.get("websocket")),
        invoke_mode="RESPONSE_STREAM" if streaming else "BUFFERED",
    )


def role_statements(
    names: Names, table: DataTable | None, grants: Sequence[Grant], secrets: Sequence[str] = ()
) -> tuple[Statement, ...]:
    """Only what this app needs: its own log group; the driver's calls on the data
    table and the mounts' tables (and creating those with `create_table`); objects of
    the mounts' buckets; reading the SSM parameters of its secrets, and decrypting
    those (a SecureString under a customer managed KMS key needs ``kms:Decrypt``:
    allowed for no other use than SSM decrypting these very parameters, whose ARN
    SSM puts in the encryption context)."""
    log_group = names.log_group_arn
    statements = [Statement("Logs", LOG_ACTIONS, (log_group, f"{log_group}:*"))]
    tables = [table.name] if table is not None else []
    tables += [g.resource for g in grants if g.driver == "dynamodb"]
    if tables:
        arns = _unique(names.dynamodb_table_arn(t) for t in tables)
        statements.append(Statement("Data", DATA_TABLE_ACTIONS, arns))
    setup = [g.resource for g in grants if g.driver == "dynamodb" and g.create_table]
    if setup:
        arns = _unique(names.dynamodb_table_arn(t) for t in setup)
        statements.append(Statement("TableSetup", TABLE_SETUP_ACTIONS, arns))
    buckets = [g.resource for g in grants if g.driver == "s3"]
    if buckets:
        arns = _unique(names.s3_bucket_arn(b) for b in buckets)
        statements.append(Statement("Buckets", S3_BUCKET_ACTIONS, arns))
        statements.append(Statement("Objects", S3_OBJECT_ACTIONS, tuple(f"{a}/*" for a in arns)))
    if secrets:
        arns = _unique(names.ssm_parameter_arn(name) for name in secrets)
        statements.append(Statement("Secrets", SECRET_ACTIONS, arns))
        via = ("StringEquals", "kms:ViaService", (f"ssm.{names.region}.{names.url_suffix}",))
        context = ("StringEquals", "kms:EncryptionContext:PARAMETER_ARN", arns)
        statements.append(
            Statement("SecretKeys", ("kms:Decrypt",), (names.kms_keys_arn,), (via, context))
        )
    return tuple(statements)


def _unique(values: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def storage_grants(
    storage: Mapping[str, Mapping[str, Any]],
    env: Mapping[str, str],
    log: Callable[[str], None],
) -> tuple[Grant, ...]:
    """The S3 buckets and DynamoDB tables of configured mounts, their ``{{VAR}}``
    references resolved from the function's environment (as the app will resolve
    them); one that does not resolve is logged and granted nothing."""
    grants: list[Grant] = []
    for mount, options in sorted(storage.items()):
        driver = str(options.get("driver"))
        key = STORAGE_RESOURCE.get(driver)
        if key is None or key not in options:
            continue
        try:
            resource = resolve_env_refs(options[key], env, f"storage.{mount}.{key}")
        except ConfigError as exc:
            log(
                f"{exc.args[0]}: the role gets no access to it "
                "(set it with NITRO_* or aws_lambda environment)"
            )
            continue
        grants.append(Grant(driver, str(resource), bool(options.get("create_table"))))
    return tuple(sorted(set(grants), key=lambda g: (g.driver, g.resource)))
