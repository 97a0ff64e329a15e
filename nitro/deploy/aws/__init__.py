"""`nitro deploy aws`: the aws-lambda build deployed with boto3, idempotently.

One module per concept: `session` (clients, errors), `names`, `spec` (what the
build asks for), `plan` (changes and their order), one module per resource kind
(`bucket`, `table`, `role`, `function`, `alias`, `url`, `rules`), and `runner`
(deploy, rollback, undeploy). boto3 is imported when a deploy starts (the `aws`
extra has it), never by importing this package.
"""

from __future__ import annotations

from .runner import deploy, rollback, undeploy

__all__ = ["deploy", "rollback", "undeploy"]
