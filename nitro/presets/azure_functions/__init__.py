"""The `azure-functions` preset: a Python v2-model function app (``function_app.py``
exposing `app`), its preview and its ``func`` deploy.

Nothing is imported here: a built entry imports ``entry`` only, the CLI ``preset``.
"""
