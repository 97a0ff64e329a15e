"""What every resource of a deploy is called, from the project's name and the stage.

| resource | name |
|---|---|
| Lambda function | ``{name}-{stage}`` |
| IAM role (and its inline policy ``nitro``) | ``{name}-{stage}-role`` |
| alias the URL and the schedules invoke | ``live`` |
| DynamoDB table (the default ``data`` mount) | ``{name}-{stage}-data`` |
| EventBridge rule per cron | ``{name}-{stage}-cron-<10 hex>`` (`rule_name`) |
| S3 bucket for zips over the direct-upload limit | ``{name}-{stage}-deploy-{account}-{region}`` (lower case) |

``{name}`` is `[project].name` (else the folder's name) with characters AWS does not
allow in these names replaced by ``-``.

The SAM template uses the same names with CloudFormation's variables for what only the
stack knows (`Names.for_template`): ``shop-${Stage}``, ``arn:${AWS::Partition}:...``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ...cron import to_eventbridge
from ...errors import DeployError

__all__ = ["ALIAS", "STAGE_PATTERN", "Names", "rule_name", "rule_suffix", "safe_name"]

STAGE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,19}"
FUNCTION_MAX = 64  # and IAM role names
BUCKET_MAX = 63
RULE_NAME_MAX = 64  # EventBridge rule names: 1-64 of [.-_A-Za-z0-9]
RULE_MARK = "-cron-"
ALIAS = "live"  # the alias the Function URL and the schedules invoke
# What the SAM template writes for what only CloudFormation knows (`Names.for_template`).
TEMPLATE_VARIABLES = {
    "stage": "${Stage}",
    "region": "${AWS::Region}",
    "account": "${AWS::AccountId}",
    "partition": "${AWS::Partition}",
}


def rule_suffix(cron: str) -> str:
    """``-cron-<10 hex>``: the end of every EventBridge rule name for `cron`, whatever
    the function's name (the build does not know the stage; the handler matches by it)."""
    digest = hashlib.sha256(to_eventbridge(cron).encode()).hexdigest()[:10]
    return f"{RULE_MARK}{digest}"


def rule_name(function_name: str, cron: str) -> str:
    """The EventBridge rule for `cron` of `function_name` (``{name}-{stage}``), at most
    64 characters: ``my-app-prod-cron-1a2b3c4d5e``. `nitro deploy aws` names rules so."""
    suffix = rule_suffix(cron)
    prefix = re.sub(r"[^.\-_A-Za-z0-9]", "-", function_name)[: RULE_NAME_MAX - len(suffix)]
    return prefix + suffix


def safe_name(project: str) -> str:
    """The project's name as the SAM template writes it: ``[A-Za-z0-9-_]`` only."""
    return re.sub(r"[^A-Za-z0-9-_]", "-", project)


@dataclass(frozen=True)
class Names:
    project: str
    stage: str
    region: str
    account: str
    partition: str = "aws"

    @classmethod
    def for_template(cls, project: str) -> Names:
        """The names as the SAM template writes them (for ``Fn::Sub``)::

        Names.for_template("shop").table_arn
        # 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/shop-${Stage}-data'
        """
        return cls(project, **TEMPLATE_VARIABLES)

    @property
    def in_template(self) -> bool:
        return self.stage == TEMPLATE_VARIABLES["stage"]

    def __post_init__(self) -> None:
        # A template's stage is a parameter: its length is checked when it is deployed.
        if not self.in_template and len(self.role) > FUNCTION_MAX:
            raise DeployError(
                f"[nitro:deploy] the role name {self.role!r} is longer than {FUNCTION_MAX} "
                "characters: shorten [project].name or --stage"
            )

    @property
    def function(self) -> str:
        return f"{safe_name(self.project)}-{self.stage}"

    @property
    def role(self) -> str:
        return f"{self.function}-role"

    @property
    def table(self) -> str:
        return f"{self.function}-data"

    alias = ALIAS
    policy = "nitro"
    websocket_policy = "nitro-websocket"

    @property
    def websocket_api(self) -> str:
        return f"{self.function}-ws"

    def websocket_connections_arn(self, api_id: str) -> str:
        """What the role may manage: the connections of that API's stage only."""
        return self._arn("execute-api", self.region, f"{api_id}/{self.stage}/*/@connections/*")

    def literal(self, text: str) -> str:
        """`text` as it must be written among these names: as is, or escaped for the
        template's ``Fn::Sub`` (where ``${`` starts a variable)."""
        return text.replace("${", "${!") if self.in_template else text

    @property
    def tags(self) -> list[dict[str, str]]:
        """The tags on everything a deploy makes (IAM, S3, DynamoDB, EventBridge form)."""
        return [{"Key": "nitro:project", "Value": self.literal(self.project)},
                {"Key": "nitro:stage", "Value": self.stage}]  # fmt: skip

    @property
    def bucket(self) -> str:
        tail = f"-deploy-{self.account}-{self.region}"
        head = re.sub(r"[^a-z0-9-]", "-", self.function.lower()).strip("-") or "nitro"
        if len(head) + len(tail) > BUCKET_MAX:
            digest = hashlib.sha256(head.encode()).hexdigest()[:6]
            head = f"{head[: BUCKET_MAX - len(tail) - 7].rstrip('-')}-{digest}"
        return head + tail

    def rule(self, cron: str) -> str:
        return rule_name(self.function, cron)

    @property
    def rule_prefix(self) -> str:
        """What every rule of this function's name starts with."""
        sample = self.rule("* * * * *")
        return sample[: sample.rindex(RULE_MARK) + len(RULE_MARK)]

    def owns_rule(self, name: str) -> bool:
        return re.fullmatch(re.escape(self.rule_prefix) + r"[0-9a-f]{10}", name) is not None

    # --- ARNs ---

    def _arn(self, service: str, region: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{resource}"

    @property
    def role_arn(self) -> str:
        return self._arn("iam", "", f"role/{self.role}")

    @property
    def function_arn(self) -> str:
        return self._arn("lambda", self.region, f"function:{self.function}")

    @property
    def alias_arn(self) -> str:
        return f"{self.function_arn}:{self.alias}"

    @property
    def table_arn(self) -> str:
        return self.dynamodb_table_arn(self.table)

    def dynamodb_table_arn(self, table: str) -> str:
        return self._arn("dynamodb", self.region, f"table/{table}")

    def s3_bucket_arn(self, bucket: str) -> str:
        return f"arn:{self.partition}:s3:::{bucket}"

    def ssm_parameter_arn(self, name: str) -> str:
        """``db-password`` and ``/shop/db-password`` -> ``...:parameter/db-password``,
        ``...:parameter/shop/db-password`` (an ARN never doubles the slash)."""
        return self._arn("ssm", self.region, f"parameter/{self.literal(name).lstrip('/')}")

    @property
    def kms_keys_arn(self) -> str:
        """Every KMS key of the account in the region (narrowed by conditions)."""
        return self._arn("kms", self.region, "key/*")

    @property
    def url_suffix(self) -> str:
        """The partition's domain: service principals are ``ssm.<region>.<suffix>``."""
        if self.in_template:
            return "${AWS::URLSuffix}"
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"

    @property
    def log_group_arn(self) -> str:
        return self._arn("logs", self.region, f"log-group:/aws/lambda/{self.function}")

    def rule_arn(self, rule: str) -> str:
        return self._arn("events", self.region, f"rule/{rule}")
