"""The `server` preset: a self-contained uvicorn server, ``python .output/server/index.py``.

Nothing is imported here: a built entry imports ``entry`` only, the CLI ``preset``.
"""
