"""Before a deploy: do the SSM parameters the app's secrets name exist?

The function reads them when it starts (`nitro.secret_stores.aws_ssm`) and fails to
start without them, so a deploy says which are missing, from their metadata only
(``DescribeParameters``: a deploy never reads a secret's value). It is a warning:
the parameters may be created after the deploy, and a deployer may lack
``ssm:DescribeParameters`` (then the check is skipped, said so).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .session import Aws, error_code

__all__ = ["check_parameters"]

FILTER_VALUES = 50  # DescribeParameters: values per filter


def check_parameters(aws: Aws, names: Sequence[str], log: Callable[[str], None]) -> list[str]:
    """The parameters of `names` that do not exist in the deploy's region (logged)."""
    if not names:
        return []
    client = aws.client("ssm")
    found: set[str] = set()
    try:
        for start in range(0, len(names), FILTER_VALUES):
            chunk = list(names[start : start + FILTER_VALUES])
            pages = client.get_paginator("describe_parameters").paginate(
                ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": chunk}]
            )
            found.update(p["Name"] for page in pages for p in page.get("Parameters", []))
    except Exception as exc:
        log(
            f"could not check the secrets' SSM parameters ({error_code(exc) or type(exc).__name__})"
        )
        return []
    missing = [name for name in names if name not in found]
    if missing:
        log(
            f"warning: no SSM parameter {', '.join(repr(n) for n in missing)} in {aws.region}: "
            "the function fails to start until it exists "
            "(aws ssm put-parameter --type SecureString --name NAME --value ...)"
        )
    return missing
