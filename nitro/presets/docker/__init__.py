"""The `docker` preset: the server output plus a Dockerfile that runs it.

Nothing is imported here: a built entry imports ``entry`` only, the CLI ``preset``.
"""
