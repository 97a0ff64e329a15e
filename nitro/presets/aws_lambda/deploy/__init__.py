"""`nitro deploy aws`: the aws-lambda build deployed with boto3, idempotently.

One module per concept: `resources` (what the app is on AWS: the one description the
SAM template is written from too), `names`, `session` (clients, errors), `spec` (what
the build asks for), `plan` (changes and their order), one module per resource kind
(`bucket`, `table`, `role`, `function`, `alias`, `url`, `rules`), and `runner`
(deploy, rollback, undeploy). boto3 is imported when a deploy starts (the `aws`
extra has it), never by importing this package; the runner is imported on first use,
so the build can read `resources` and `names` without the deploy's modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runner import deploy, rollback, undeploy

__all__ = ["deploy", "rollback", "undeploy"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
