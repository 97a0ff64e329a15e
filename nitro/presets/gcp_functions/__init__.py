"""The `gcp-functions` preset: Google Cloud Functions (2nd gen) source with ``main.py``
(targets `handler` and `tasks`), its preview (functions-framework) and its gcloud deploy.

Nothing is imported here: a built entry imports ``entry`` only, the CLI ``preset``.
"""
