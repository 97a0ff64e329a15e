"""``gcp-secret-manager``: Google Secret Manager, the gcp-functions preset's store.

``{{secret:NAME}}`` is the latest version of secret NAME in the function's project
(``GOOGLE_CLOUD_PROJECT``, else the project of Application Default Credentials, which
on Cloud Run functions is the metadata server's); a full resource name
(``projects/p/secrets/s/versions/3``) names another project or a pinned version.
The function's service account needs ``roles/secretmanager.secretAccessor`` on each
secret. The official client speaks the REST API (``transport="rest"``): no gRPC
channel to set up in a cold start.

API: https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/access
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._base import SecretStoreError

__all__ = ["REQUIRES", "SecretManagerStore", "store"]

REQUIRES = ["google-cloud-secret-manager>=2.20"]
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
PROJECT_VARIABLES = ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "GCP_PROJECT")


class SecretManagerStore:
    batch = 1  # one access call per secret (they run concurrently)
    how_to_create = (
        "create them: gcloud secrets create NAME --data-file=- ; and grant the function's "
        "service account roles/secretmanager.secretAccessor"
    )

    def __init__(self, environ: Mapping[str, str]) -> None:
        import google.auth
        from google.cloud import secretmanager

        credentials, found_project = google.auth.default(scopes=SCOPES)
        project = next((environ[v] for v in PROJECT_VARIABLES if environ.get(v)), found_project)
        self.project: str | None = project
        self.label = f"Google Secret Manager (project {project or 'unknown'})"
        self.client: Any = secretmanager.SecretManagerServiceClient(
            credentials=credentials, transport="rest"
        )

    def version(self, name: str) -> str:
        if name.startswith("projects/"):
            return name
        if not self.project:
            raise SecretStoreError(
                f"{self.label}: no project for secret {name!r}: set GOOGLE_CLOUD_PROJECT"
            )
        return f"projects/{self.project}/secrets/{name}/versions/latest"

    def fetch(self, names: Sequence[str]) -> dict[str, str]:
        from google.api_core import exceptions

        found: dict[str, str] = {}
        for name in names:
            try:
                answer = self.client.access_secret_version(
                    request={"name": self.version(name)}, timeout=5
                )
            except exceptions.NotFound:
                continue
            except exceptions.Forbidden as exc:  # PermissionDenied is one
                raise SecretStoreError(
                    f"{self.label}: permission denied for {name!r} ({exc.message}); grant the "
                    "function's service account roles/secretmanager.secretAccessor"
                ) from None
            except exceptions.GoogleAPIError as exc:
                raise SecretStoreError(
                    f"{self.label}: {name!r}: {type(exc).__name__}: {exc}"
                ) from None
            found[name] = answer.payload.data.decode("utf-8")
        return found


def store(environ: Mapping[str, str]) -> SecretManagerStore:
    return SecretManagerStore(environ)
