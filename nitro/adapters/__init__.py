"""One module per platform; each only translates between the platform and ASGI.

``uvicorn`` (servers: dev, preview, the server and docker presets), ``aws_lambda``
(with ``aws_lambda_http``, ``aws_lambda_tasks``: one small class per event source),
``gcp_functions``, ``azure_functions`` and ``vercel``. A preset's entry module
imports its platform's adapter by name: there is no registry to look them up in.
"""
