"""One module per platform; each only translates between the platform and ASGI.

Registry: adapter name -> module, imported on demand.
"""

from __future__ import annotations

ADAPTERS: dict[str, str] = {
    "uvicorn": "nitro.adapters.uvicorn",
    "aws-lambda": "nitro.adapters.aws_lambda",
    "vercel": "nitro.adapters.vercel",
    "gcp-functions": "nitro.adapters.gcp_functions",
    "azure-functions": "nitro.adapters.azure_functions",
}
